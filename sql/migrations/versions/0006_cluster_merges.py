"""Cluster merges: which cluster a merged one went into.

When a new article matches several clusters, they become one (the oldest) and the others
are deleted. Rows that named a deleted cluster — the boilerplate observations in
``site_paragraphs`` — are resolved through this table, and analysts can follow a story's
clusters back.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cluster_merges",
        sa.Column("cluster_id", sa.BigInteger(), nullable=False),
        sa.Column("merged_into", sa.BigInteger(), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cluster_id", name=op.f("pk_cluster_merges")),
    )


def downgrade() -> None:
    op.drop_table("cluster_merges")
