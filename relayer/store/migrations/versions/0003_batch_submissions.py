"""submissions: one row per (transaction, transfer), so a batch transaction is recorded
for each release it carries

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_constraint("uq_submissions_tx_hash", type_="unique")
        batch.create_unique_constraint(
            "uq_submissions_tx_hash_transfer_id", ["tx_hash", "transfer_id"]
        )


def downgrade() -> None:
    # a batch's rows share its hash: keep the first row of each transaction
    op.execute(
        "DELETE FROM submissions WHERE id NOT IN (SELECT MIN(id) FROM submissions GROUP BY tx_hash)"
    )
    with op.batch_alter_table("submissions") as batch:
        batch.drop_constraint("uq_submissions_tx_hash_transfer_id", type_="unique")
        batch.create_unique_constraint("uq_submissions_tx_hash", ["tx_hash"])
