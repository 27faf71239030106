"""root_signatures: validators' ``ReleaseRoot`` signatures over windows of source nonces
(committed roots), one per (destination, window, signer)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# frozen copies of the column types (see 0001)
UINT64 = sa.Numeric(20, 0).with_variant(sa.String(20), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "root_signatures",
        sa.Column("dst_chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("src_chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("first_nonce", UINT64, nullable=False),
        sa.Column("signer", sa.LargeBinary(), nullable=False),
        sa.Column("last_nonce", UINT64, nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("set_id", sa.BigInteger(), nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint(
            "dst_chain_id",
            "src_chain_id",
            "first_nonce",
            "signer",
            name=op.f("pk_root_signatures"),
        ),
    )


def downgrade() -> None:
    op.drop_table("root_signatures")
