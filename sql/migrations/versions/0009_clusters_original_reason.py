"""Clusters: why their original leads (canonical, attribution, earliest, longest, tiebreak,
only_member), written by dedup at each decision on the cluster. Clusters last decided before
this migration keep NULL until their next change.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("clusters", sa.Column("original_reason", sa.String(16), nullable=True))


def downgrade() -> None:
    from newsdesk.storage.db import view_files

    # v_clusters reads the column; the views are recreated by the next ``newsdesk db upgrade``
    for path in reversed(view_files()):
        op.execute(f"DROP VIEW IF EXISTS {path.stem.split('_', 1)[1]}")
    op.execute("ALTER TABLE clusters DROP COLUMN original_reason")  # SQLite 3.35+ and PostgreSQL
