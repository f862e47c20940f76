"""Initial warehouse schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

During the first development cycle this revision builds the tables from
``newsdesk.storage.schema``; it is frozen into explicit ``op.create_table``
calls before the first release, after which every change is a new revision.
"""
from alembic import op

from newsdesk.storage.schema import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
