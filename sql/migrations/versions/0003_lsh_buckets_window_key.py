"""lsh_buckets keyed by (scheme, bucket, pub_day, article_id): window lookups read the index only.

The candidate lookup asks for a bucket's articles published inside ±window days. With the
old key (scheme, bucket, article_id) every entry of the bucket was visited and its row fetched
to test pub_day; with pub_day in the key the scan starts and stops at the window's ends and
needs nothing but the index. pub_day was always written; it becomes NOT NULL.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _rekey(columns: list[str], pub_day_nullable: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        if not pub_day_nullable:
            op.execute("DELETE FROM lsh_buckets WHERE pub_day IS NULL")
        op.drop_constraint("pk_lsh_buckets", "lsh_buckets", type_="primary")
        op.alter_column("lsh_buckets", "pub_day", existing_type=sa.Integer(), nullable=pub_day_nullable)
        op.create_primary_key("pk_lsh_buckets", "lsh_buckets", columns)
        return
    # SQLite cannot alter a primary key: the table is rebuilt
    if not pub_day_nullable:
        op.execute("DELETE FROM lsh_buckets WHERE pub_day IS NULL")
    with op.batch_alter_table("lsh_buckets", recreate="always") as batch:
        batch.drop_constraint("pk_lsh_buckets", type_="primary")
        batch.alter_column("pub_day", existing_type=sa.Integer(), nullable=pub_day_nullable)
        batch.create_primary_key("pk_lsh_buckets", columns)


def upgrade() -> None:
    _rekey(["scheme", "bucket", "pub_day", "article_id"], pub_day_nullable=False)


def downgrade() -> None:
    _rekey(["scheme", "bucket", "article_id"], pub_day_nullable=True)
