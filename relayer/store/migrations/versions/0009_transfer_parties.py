"""indexes on transfers.sender and transfers.recipient: the history of an address (the
portal's `GET /v1/transfers?address=`, the status API's `?address=`) without a table scan

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_transfers_sender"), "transfers", ["sender"], unique=False)
    op.create_index(op.f("ix_transfers_recipient"), "transfers", ["recipient"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_transfers_recipient"), table_name="transfers")
    op.drop_index(op.f("ix_transfers_sender"), table_name="transfers")
