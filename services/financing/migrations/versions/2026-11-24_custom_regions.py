"""Custom regions replicated from the targets service, with the consumer's inbox and positions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 00:40:00
"""

from zhichan import migration_ops, region_sync

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    migration_ops.create_consumer_tables()
    region_sync.create_custom_region_table()


def downgrade() -> None:
    region_sync.drop_custom_region_table()
    migration_ops.drop_consumer_tables()
