"""dedup_signatures keeps each article's numbers and names (hashed).

A candidate whose MinHash estimates leave it far from a near copy is still compared when it
could be a paraphrase, and ruling that out needs both texts' numbers and names. Kept here,
they rule it out without loading and tokenising the candidate original's text, which most
candidates never need otherwise. NULL: written before this revision (the text is used).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dedup_signatures") as batch:
        batch.add_column(sa.Column("numbers", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("names", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dedup_signatures") as batch:
        batch.drop_column("names")
        batch.drop_column("numbers")
