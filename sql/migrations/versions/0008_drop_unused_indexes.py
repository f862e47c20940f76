"""Drop three indexes that no query needs, each of which cost an insert on every write:

* ``ix_articles_dedup_state`` and ``ix_pages_state``: ``ix_articles_dedup_state_id``
  (dedup_state, id) and ``ix_pages_state_id`` (state, id) serve every lookup by state;
* ``ix_dedup_signatures_pub_day``: time windows are read from ``lsh_buckets``' key, and a
  signature is only ever read by its article id.

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
    op.drop_index("ix_pages_state", table_name="pages")
    op.drop_index("ix_dedup_signatures_pub_day", table_name="dedup_signatures")


def downgrade() -> None:
    op.create_index("ix_dedup_signatures_pub_day", "dedup_signatures", ["pub_day"])
    op.create_index("ix_pages_state", "pages", ["state"])
    op.create_index("ix_articles_dedup_state", "articles", ["dedup_state"])
