"""Politeness shared by every worker: robots.txt per origin (cached by its HTTP caching rules),
per-host pacing (next start, Crawl-delay) and the leases of requests in flight. Deployments
with NEWSDESK_REDIS_URL keep the same in Redis and leave these tables empty.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "robots_txt",
        sa.Column("origin", sa.String(300), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("origin", name=op.f("pk_robots_txt")),
    )
    op.create_table(
        "host_pacing",
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("next_start", sa.Float(), nullable=False),
        sa.Column("crawl_delay", sa.Float(), nullable=True),
        sa.Column("crawl_delay_until", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("host", name=op.f("pk_host_pacing")),
    )
    op.create_table(
        "host_leases",
        sa.Column("lease_id", sa.String(32), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("lease_id", name=op.f("pk_host_leases")),
    )
    op.create_index("ix_host_leases_host_expires_at", "host_leases", ["host", "expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_host_leases_host_expires_at", table_name="host_leases")
    op.drop_table("host_leases")
    op.drop_table("host_pacing")
    op.drop_table("robots_txt")
