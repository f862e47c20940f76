"""Dedup epochs: which articles each committed dedup batch changed.

A dedup worker searches candidates and verifies them before it takes the lock that
serialises cluster decisions. Once it holds the lock it must see what other workers
committed meanwhile, exactly: each batch stamps the articles it changed with the next
epoch (``dedup_epoch.epoch``, one row, advanced under the lock), so a worker reads the
articles of epochs after the one it started from and needs nothing else re-read.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dedup_epoch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dedup_epoch")),
    )
    op.execute("INSERT INTO dedup_epoch (id, epoch) VALUES (1, 0)")
    # Plain ALTERs, also on SQLite (>= 3.35): a batch rebuild of articles would drop a table
    # that other tables' foreign keys point at.
    op.add_column("articles", sa.Column("dedup_epoch", sa.BigInteger(), nullable=True))
    op.create_index("ix_articles_dedup_epoch", "articles", ["dedup_epoch"])


def downgrade() -> None:
    op.drop_index("ix_articles_dedup_epoch", table_name="articles")
    op.drop_column("articles", "dedup_epoch")
    op.drop_table("dedup_epoch")
