"""webhook_subscription, webhook_delivery, webhook_attempt: the gateway's own records

A branch of its own (``webhooks``): the read model's branch is dropped and replayed by
``zhichan gateway rebuild``; subscriptions and their delivery log are not derived from events
and survive it.

Revision ID: w0001
Revises:
Create Date: 2026-12-05 00:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import zhichan.db

revision = "w0001"
down_revision = None
branch_labels = ("webhooks",)
depends_on = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "webhook_subscription",
        sa.Column("id", String(length=26), nullable=False),
        sa.Column("owner", String(length=200), nullable=False),
        sa.Column("url", String(length=2000), nullable=False),
        sa.Column("description", String(length=500), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", zhichan.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", zhichan.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhook_subscription_owner", "webhook_subscription", ["owner"])
    op.create_table(
        "webhook_delivery",
        sa.Column("id", String(length=40), nullable=False),
        sa.Column("subscription_id", String(length=26), nullable=False),
        sa.Column("event_id", String(length=36), nullable=False),
        sa.Column("event_type", String(length=200), nullable=False),
        sa.Column("region", String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", zhichan.db.UTCDateTime(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", String(length=500), nullable=True),
        sa.Column("created_at", zhichan.db.UTCDateTime(), nullable=False),
        sa.Column("delivered_at", zhichan.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription_id", "event_id", name="uq_webhook_delivery_event"),
    )
    op.create_index("ix_webhook_delivery_due", "webhook_delivery", ["status", "next_attempt_at"])
    op.create_index("ix_webhook_delivery_subscription", "webhook_delivery", ["subscription_id", "created_at"])
    op.create_table(
        "webhook_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", String(length=40), nullable=False),
        sa.Column("attempted_at", zhichan.db.UTCDateTime(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("error", String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhook_attempt_delivery", "webhook_attempt", ["delivery_id", "attempted_at"])


def downgrade() -> None:
    op.drop_table("webhook_attempt")
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_subscription")
