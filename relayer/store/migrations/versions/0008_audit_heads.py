"""audit_heads: the signed audit chain heads this validator received from the others
(directly or relayed), every distinct (validator, seq, hash) kept, this validator's own
heads once per witness

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# frozen copies of the column types (see 0001)
TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_heads",
        sa.Column("validator", sa.LargeBinary(), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.Column("witness", sa.LargeBinary(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("validator", "seq", "hash", "witness", name=op.f("pk_audit_heads")),
    )
    op.create_index(op.f("ix_audit_heads_validator_at"), "audit_heads", ["validator", "at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_heads_validator_at"), table_name="audit_heads")
    op.drop_table("audit_heads")
