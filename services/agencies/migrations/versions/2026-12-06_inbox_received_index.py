"""The inbox indexed by received_at, so that its retention (AGENCIES_INBOX_RETENTION_DAYS) prunes
the oldest ids a small batch at a time without reading the whole table

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 09:00:00
"""

from zhichan import migration_ops

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    migration_ops.create_inbox_received_index()


def downgrade() -> None:
    migration_ops.drop_inbox_received_index()
