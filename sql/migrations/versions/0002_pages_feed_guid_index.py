"""Index pages by (feed_id, guid): feed entries are known by GUID as well as by URL.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_pages_feed_id_guid", "pages", ["feed_id", "guid"])


def downgrade() -> None:
    op.drop_index("ix_pages_feed_id_guid", table_name="pages")
