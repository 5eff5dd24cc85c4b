"""Plans, progress reports, custom regions and recent events in the read model

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 00:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import zhichan.db
from zhichan import region_sync

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "plan_view",
        sa.Column("key", String(length=100), nullable=False),
        sa.Column("region", String(length=32), nullable=False),
        sa.Column("title", String(length=300), nullable=False),
        sa.Column("status", String(length=20), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_plan_view_region", "plan_view", ["region"])
    op.create_table(
        "report_view",
        sa.Column("id", String(length=26), nullable=False),
        sa.Column("plan", String(length=100), nullable=False),
        sa.Column("indicator", String(length=100), nullable=False),
        sa.Column("region", String(length=32), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("value", String(length=40), nullable=False),
        sa.Column("department", String(length=200), nullable=True),
        sa.Column("supersedes", String(length=26), nullable=True),
        sa.Column("created_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_report_view_indicator", "report_view", ["plan", "indicator", "as_of"])
    op.create_table(
        "recent_event",
        sa.Column("event_id", String(length=36), nullable=False),
        sa.Column("type", String(length=200), nullable=False),
        sa.Column("subject", String(length=200), nullable=False),
        sa.Column("region", String(length=32), nullable=False),
        sa.Column("time", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index("ix_recent_event_region_time", "recent_event", ["region", "time"])
    region_sync.create_custom_region_table()


def downgrade() -> None:
    region_sync.drop_custom_region_table()
    op.drop_table("recent_event")
    op.drop_table("report_view")
    op.drop_table("plan_view")
