"""Drop ix_articles_dedup_state: ix_articles_dedup_state_id (dedup_state, id) serves every
lookup by state, so the single-column index only cost an insert on every article write.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_articles_dedup_state", table_name="articles")


def downgrade() -> None:
    op.create_index("ix_articles_dedup_state", "articles", ["dedup_state"])
