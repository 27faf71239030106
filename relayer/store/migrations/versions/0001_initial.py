"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Frozen copies of the column types in relayer.store.coltypes / models, so this
# revision keeps creating the same schema whatever later code does.
UINT256 = sa.Numeric(78, 0).with_variant(sa.String(78), "sqlite")
UINT64 = sa.Numeric(20, 0).with_variant(sa.String(20), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_nonces",
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("address", sa.LargeBinary(), nullable=False),
        sa.Column("next_nonce", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "address", name=op.f("pk_account_nonces")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("raised_at", TIMESTAMP, nullable=False),
        sa.Column("acknowledged_at", TIMESTAMP, nullable=True),
        sa.Column("acknowledged_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index(
        op.f("ix_alerts_kind_chain_id_acknowledged_at"),
        "alerts",
        ["kind", "chain_id", "acknowledged_at"],
        unique=False,
    )

    op.create_table(
        "attestations",
        sa.Column("transfer_id", sa.LargeBinary(), nullable=False),
        sa.Column("signer", sa.LargeBinary(), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("set_id", sa.BigInteger(), nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("transfer_id", "signer", name=op.f("pk_attestations")),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", SERIAL, autoincrement=True, nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("transfer_id", sa.LargeBinary(), nullable=True),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
    )
    op.create_index(op.f("ix_audit_log_transfer_id"), "audit_log", ["transfer_id"], unique=False)

    op.create_table(
        "chain_cursors",
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("contract", sa.LargeBinary(), nullable=False),
        sa.Column("next_block", sa.BigInteger(), nullable=False),
        sa.Column("last_scanned_block", sa.BigInteger(), nullable=True),
        sa.Column("last_scanned_hash", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("chain_id", name=op.f("pk_chain_cursors")),
    )
    op.create_table(
        "equivocations",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("transfer_id", sa.LargeBinary(), nullable=False),
        sa.Column("signer", sa.LargeBinary(), nullable=False),
        sa.Column("digest_a", sa.LargeBinary(), nullable=False),
        sa.Column("signature_a", sa.LargeBinary(), nullable=False),
        sa.Column("digest_b", sa.LargeBinary(), nullable=False),
        sa.Column("signature_b", sa.LargeBinary(), nullable=False),
        sa.Column("detected_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equivocations")),
    )
    op.create_index(
        op.f("ix_equivocations_transfer_id_signer"),
        "equivocations",
        ["transfer_id", "signer"],
        unique=False,
    )

    op.create_table(
        "scanned_blocks",
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("block_number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("block_hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "block_number", name=op.f("pk_scanned_blocks")),
    )
    op.create_table(
        "transfers",
        sa.Column("transfer_id", sa.LargeBinary(), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("src_chain_id", sa.BigInteger(), nullable=False),
        sa.Column("dst_chain_id", sa.BigInteger(), nullable=False),
        sa.Column("src_contract", sa.LargeBinary(), nullable=False),
        sa.Column("nonce", UINT64, nullable=False),
        sa.Column("src_token", sa.LargeBinary(), nullable=False),
        sa.Column("dst_token", sa.LargeBinary(), nullable=True),
        sa.Column("sender", sa.LargeBinary(), nullable=False),
        sa.Column("recipient", sa.LargeBinary(), nullable=False),
        sa.Column("amount", UINT256, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.LargeBinary(), nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("observed_at", TIMESTAMP, nullable=False),
        sa.Column("confirmed_at", TIMESTAMP, nullable=True),
        sa.Column("released_at", TIMESTAMP, nullable=True),
        sa.Column("release_tx_hash", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("transfer_id", name=op.f("pk_transfers")),
        sa.UniqueConstraint(
            "src_chain_id",
            "src_contract",
            "nonce",
            name=op.f("uq_transfers_src_chain_id_src_contract_nonce"),
        ),
    )
    op.create_index(op.f("ix_transfers_status"), "transfers", ["status"], unique=False)
    op.create_index(op.f("ix_transfers_tx_hash"), "transfers", ["tx_hash"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("transfer_id", sa.LargeBinary(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("done_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["transfer_id"], ["transfers.transfer_id"], name=op.f("fk_outbox_transfer_id_transfers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("transfer_id", "kind", name=op.f("uq_outbox_transfer_id_kind")),
    )
    op.create_index(op.f("ix_outbox_done_at"), "outbox", ["done_at"], unique=False)

    op.create_table(
        "own_signatures",
        sa.Column("transfer_id", sa.LargeBinary(), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("set_id", sa.BigInteger(), nullable=False),
        sa.Column("policy_version", sa.String(length=64), nullable=False),
        sa.Column("signed_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["transfers.transfer_id"],
            name=op.f("fk_own_signatures_transfer_id_transfers"),
        ),
        sa.PrimaryKeyConstraint("transfer_id", name=op.f("pk_own_signatures")),
    )
    op.create_table(
        "refusals",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("transfer_id", sa.LargeBinary(), nullable=False),
        sa.Column("validator", sa.LargeBinary(), nullable=False),
        sa.Column("reason_code", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["transfers.transfer_id"],
            name=op.f("fk_refusals_transfer_id_transfers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refusals")),
        sa.UniqueConstraint(
            "transfer_id", "validator", name=op.f("uq_refusals_transfer_id_validator")
        ),
    )
    op.create_table(
        "submissions",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("transfer_id", sa.LargeBinary(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("sender", sa.LargeBinary(), nullable=False),
        sa.Column("tx_nonce", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(), nullable=False),
        sa.Column("max_fee_per_gas", UINT256, nullable=False),
        sa.Column("max_priority_fee_per_gas", UINT256, nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("sent_at", TIMESTAMP, nullable=False),
        sa.Column("mined_block", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["transfers.transfer_id"],
            name=op.f("fk_submissions_transfer_id_transfers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
        sa.UniqueConstraint("tx_hash", name=op.f("uq_submissions_tx_hash")),
    )
    op.create_index(
        op.f("ix_submissions_chain_id_sender_tx_nonce"),
        "submissions",
        ["chain_id", "sender", "tx_nonce"],
        unique=False,
    )
    op.create_index(
        op.f("ix_submissions_transfer_id"), "submissions", ["transfer_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_submissions_transfer_id"), table_name="submissions")
    op.drop_index(op.f("ix_submissions_chain_id_sender_tx_nonce"), table_name="submissions")

    op.drop_table("submissions")
    op.drop_table("refusals")
    op.drop_table("own_signatures")
    op.drop_index(op.f("ix_outbox_done_at"), table_name="outbox")

    op.drop_table("outbox")
    op.drop_index(op.f("ix_transfers_tx_hash"), table_name="transfers")
    op.drop_index(op.f("ix_transfers_status"), table_name="transfers")

    op.drop_table("transfers")
    op.drop_table("scanned_blocks")
    op.drop_index(op.f("ix_equivocations_transfer_id_signer"), table_name="equivocations")

    op.drop_table("equivocations")
    op.drop_table("chain_cursors")
    op.drop_index(op.f("ix_audit_log_transfer_id"), table_name="audit_log")

    op.drop_table("audit_log")
    op.drop_table("attestations")
    op.drop_index(op.f("ix_alerts_kind_chain_id_acknowledged_at"), table_name="alerts")

    op.drop_table("alerts")
    op.drop_table("account_nonces")
