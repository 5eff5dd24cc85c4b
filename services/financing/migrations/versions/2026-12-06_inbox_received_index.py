"""The inbox indexed by received_at, so that its retention (FINANCING_INBOX_RETENTION_DAYS) prunes
the oldest ids a small batch at a time without reading the whole table

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 09:00:00
"""

from zhichan import migration_ops

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    migration_ops.create_inbox_received_index()


def downgrade() -> None:
    migration_ops.drop_inbox_received_index()
