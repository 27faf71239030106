"""transfers: the quorum reached (bundle, signers, jurisdictions), so that a reloaded
transfer still knows it and a sent release is recorded as ``submitted``

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("transfers") as batch:
        batch.add_column(sa.Column("quorum_bundle", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("quorum_signers", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("quorum_jurisdictions", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transfers") as batch:
        batch.drop_column("quorum_jurisdictions")
        batch.drop_column("quorum_signers")
        batch.drop_column("quorum_bundle")
