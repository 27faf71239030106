"""policy_packs, policy_spends, reviews and decisions: jurisdiction policy packs in force,
the transfers approved under their rolling limits, reviewers' decisions and every
validator's signed decision on each transfer; refusals record the policy version in force

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# frozen copies of the column types (see 0001)
UINT256 = sa.Numeric(78, 0).with_variant(sa.String(78), "sqlite")
UINT64 = sa.Numeric(20, 0).with_variant(sa.String(20), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "policy_packs",
        sa.Column("content_hash", sa.LargeBinary(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=2), nullable=False),
        sa.Column("version", UINT64, nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("accepted_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("content_hash", name=op.f("pk_policy_packs")),
    )
    op.create_table(
        "policy_spends",
        sa.Column("transfer_id", sa.LargeBinary(), nullable=False),
        sa.Column("src_chain_id", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.LargeBinary(), nullable=False),
        sa.Column("sender", sa.LargeBinary(), nullable=False),
        sa.Column("amount", UINT256, nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("pack_hash", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["transfers.transfer_id"],
            name=op.f("fk_policy_spends_transfer_id_transfers"),
        ),
        sa.PrimaryKeyConstraint("transfer_id", name=op.f("pk_policy_spends")),
    )
    op.create_index(
        op.f("ix_policy_spends_src_chain_id_token_at"),
        "policy_spends",
        ["src_chain_id", "token", "at"],
    )
    op.create_table(
        "reviews",
        sa.Column("transfer_id", sa.LargeBinary(), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("reviewer", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["transfers.transfer_id"],
            name=op.f("fk_reviews_transfer_id_transfers"),
        ),
        sa.PrimaryKeyConstraint("transfer_id", name=op.f("pk_reviews")),
    )
    op.create_table(
        "decisions",
        sa.Column("transfer_id", sa.LargeBinary(), nullable=False),
        sa.Column("signer", sa.LargeBinary(), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("verdict", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("policy", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("transfer_id", "signer", name=op.f("pk_decisions")),
    )
    with op.batch_alter_table("refusals") as batch:
        batch.add_column(sa.Column("policy_version", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("refusals") as batch:
        batch.drop_column("policy_version")
    op.drop_table("decisions")
    op.drop_table("reviews")
    op.drop_index(op.f("ix_policy_spends_src_chain_id_token_at"), table_name="policy_spends")
    op.drop_table("policy_spends")
    op.drop_table("policy_packs")
