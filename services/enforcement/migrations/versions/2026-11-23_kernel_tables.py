"""Kernel tables (outbox, relay lease, idempotency keys)

Revision ID: 0001
Revises:
Create Date: 2026-11-23 23:30:00
"""

from zhichan import migration_ops

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    migration_ops.create_service_tables()


def downgrade() -> None:
    migration_ops.drop_service_tables()
