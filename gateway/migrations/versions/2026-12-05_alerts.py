"""alert, indicator_status_seen, and the kernel's outbox and relay lease: alerts scheduled, raised and published

In the branch ``webhooks`` (the gateway's own records, which a rebuild leaves): an alert raised
is not raised again by a replay. The outbox publishes the alerts' events on ``zhichan.alerts``.

Revision ID: w0002
Revises: w0001
Create Date: 2026-12-05 00:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import zhichan.db
from zhichan import migration_ops

revision = "w0002"
down_revision = "w0001"
branch_labels = None
depends_on = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", String(length=26), nullable=False),
        sa.Column("cause", String(length=300), nullable=False),
        sa.Column("kind", String(length=30), nullable=False),
        sa.Column("record", String(length=200), nullable=False),
        sa.Column("record_version", sa.Integer(), nullable=False),
        sa.Column("region", String(length=32), nullable=False),
        sa.Column("title", String(length=500), nullable=False),
        sa.Column("link", String(length=300), nullable=False),
        sa.Column("responsible", sa.JSON(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("raise_on", sa.Date(), nullable=False),
        sa.Column("status", String(length=10), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=True),
        sa.Column("acknowledged_at", zhichan.db.UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", zhichan.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", zhichan.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cause"),
    )
    op.create_index("ix_alert_due", "alert", ["status", "raise_on"])
    op.create_index("ix_alert_region_raised", "alert", ["region", "raised_on"])
    op.create_index("ix_alert_record", "alert", ["record"])
    op.create_table(
        "indicator_status_seen",
        sa.Column("plan", String(length=100), nullable=False),
        sa.Column("indicator", String(length=100), nullable=False),
        sa.Column("status", String(length=20), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("plan", "indicator"),
    )
    migration_ops.create_service_tables()


def downgrade() -> None:
    migration_ops.drop_service_tables()
    op.drop_table("indicator_status_seen")
    op.drop_table("alert")
