"""Articles: whether the page declares its content paywalled.

schema.org ``isAccessibleForFree`` or ``article:content_tier``: True when the page says its
content is not free (the stored text may then be a teaser), False when it says it is free,
NULL when it says neither. Articles extracted before this migration keep NULL until
``newsdesk reextract`` (extractor version 2).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("articles", sa.Column("paywalled", sa.Boolean(), nullable=True))


def downgrade() -> None:
    from newsdesk.storage.db import view_files

    # v_articles reads the column; the views are recreated by the next ``newsdesk db upgrade``
    for path in reversed(view_files()):
        op.execute(f"DROP VIEW IF EXISTS {path.stem.split('_', 1)[1]}")
    op.execute("ALTER TABLE articles DROP COLUMN paywalled")  # SQLite 3.35+ and PostgreSQL
