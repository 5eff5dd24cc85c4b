"""Read model of agencies, with the consumer's inbox and positions

Revision ID: 0001
Revises:
Create Date: 2026-11-23 23:25:48
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from zhichan import migration_ops

revision = "0001"
down_revision = None
branch_labels = ("readmodel",)  # rebuilt from the events; the webhooks branch is not
depends_on = None


def upgrade() -> None:
    migration_ops.create_consumer_tables()
    op.create_table(
        "agency_view",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("service_types", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("in_cluster", sa.Boolean(), nullable=False),
        sa.Column("brand_level", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_agency_view_region", "agency_view", ["region"])
    op.create_table(
        "agency_active_span",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_agency_active_span_agency_id", "agency_active_span", ["agency_id"])
    op.create_index("ix_agency_active_span_dates", "agency_active_span", ["start_on", "end_on"])


def downgrade() -> None:
    op.drop_table("agency_active_span")
    op.drop_table("agency_view")
    migration_ops.drop_consumer_tables()
