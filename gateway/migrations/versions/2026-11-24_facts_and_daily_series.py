"""Facts and daily series for every domain, replacing the agency-only tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 00:15:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.drop_table("agency_active_span")
    op.drop_table("agency_view")
    op.create_table(
        "aggregate_seen",
        sa.Column("key", String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "fact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", String(length=120), nullable=False),
        sa.Column("series", String(length=60), nullable=False),
        sa.Column("region", String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dim1", String(length=200), nullable=False),
        sa.Column("dim2", String(length=60), nullable=False),
        sa.Column("dim3", String(length=60), nullable=False),
        sa.Column("dim4", String(length=60), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_fact_key", "fact", ["key"])
    op.create_table(
        "series_daily",
        sa.Column("series", String(length=60), nullable=False),
        sa.Column("region", String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dim1", String(length=200), nullable=False),
        sa.Column("dim2", String(length=60), nullable=False),
        sa.Column("dim3", String(length=60), nullable=False),
        sa.Column("dim4", String(length=60), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("series", "region", "day", "dim1", "dim2", "dim3", "dim4"),
    )
    op.create_index("ix_series_daily_lookup", "series_daily", ["series", "region", "day"])


def downgrade() -> None:
    op.drop_table("series_daily")
    op.drop_table("fact")
    op.drop_table("aggregate_seen")
    op.create_table(
        "agency_view",
        sa.Column("id", String(length=26), nullable=False),
        sa.Column("region", String(length=32), nullable=False),
        sa.Column("status", String(length=20), nullable=False),
        sa.Column("service_types", String(length=500), nullable=False),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("in_cluster", sa.Boolean(), nullable=False),
        sa.Column("brand_level", String(length=20), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_agency_view_region", "agency_view", ["region"])
    op.create_table(
        "agency_active_span",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", String(length=26), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_agency_active_span_agency_id", "agency_active_span", ["agency_id"])
    op.create_index("ix_agency_active_span_dates", "agency_active_span", ["start_on", "end_on"])
