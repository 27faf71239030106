"""set_proposals, set_signatures and set_outcomes: validator-set rotation proposals, every
validator's signature of them per chain, and where each ended per chain

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "set_proposals",
        sa.Column("proposal_id", sa.LargeBinary(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("deadline", sa.BigInteger(), nullable=False),
        sa.Column("proposed_here", sa.Boolean(), nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("proposal_id", name=op.f("pk_set_proposals")),
    )
    op.create_table(
        "set_signatures",
        sa.Column("proposal_id", sa.LargeBinary(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("signer", sa.LargeBinary(), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint(
            "proposal_id", "chain_id", "signer", name=op.f("pk_set_signatures")
        ),
    )
    op.create_table(
        "set_outcomes",
        sa.Column("proposal_id", sa.LargeBinary(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("proposal_id", "chain_id", name=op.f("pk_set_outcomes")),
    )


def downgrade() -> None:
    op.drop_table("set_outcomes")
    op.drop_table("set_signatures")
    op.drop_table("set_proposals")
