"""Articles: ``publisher``, the registrable domain of ``domain`` (public suffix list, the
snapshot tldextract ships: edition.cnn.com and cnn.com are one publisher), filled here for
every stored article. ``applied_definitions``: what ``newsdesk db upgrade`` last applied
outside migrations (views, search index), by SHA-256, so that a view is replaced only when
its definition changed.

Revision ID: 0011
Revises: 0009
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from newsdesk.urls import publisher_of

    op.add_column("articles", sa.Column("publisher", sa.String(255), nullable=True))
    op.create_table(
        "applied_definitions",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_applied_definitions"),
    )
    # One UPDATE per distinct host: the public suffix list is not in the database.
    conn = op.get_bind()
    hosts = conn.execute(sa.text("SELECT DISTINCT domain FROM articles WHERE domain IS NOT NULL")).scalars().all()
    update = sa.text("UPDATE articles SET publisher = :publisher WHERE domain = :domain")
    for host in hosts:
        conn.execute(update, {"publisher": publisher_of(host), "domain": host})


def downgrade() -> None:
    from newsdesk.storage.views import drop_views

    # v_articles and v_syndication read the column; the next ``newsdesk db upgrade`` recreates the views
    drop_views(op.get_bind())
    op.drop_table("applied_definitions")
    op.execute("ALTER TABLE articles DROP COLUMN publisher")  # SQLite 3.35+ and PostgreSQL
