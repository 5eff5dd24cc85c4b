"""Agencies, and the kernel tables (outbox, relay lease, idempotency keys)

Revision ID: 0001
Revises:
Create Date: 2026-11-23 23:20:47.654966
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import zhichan.db
from zhichan import migration_ops

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agency",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("uscc", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("service_types", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("licence_numbers", sa.JSON(), nullable=False),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("in_cluster", sa.Boolean(), nullable=False),
        sa.Column("brand_level", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("status_history", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.create_index("ix_agency_region_id", ["region", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agency_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_agency_uscc"), ["uscc"], unique=False)
        batch_op.create_index(
            "uq_agency_live_uscc",
            ["uscc"],
            unique=True,
            sqlite_where=sa.text("status != 'deregistered'"),
            postgresql_where=sa.text("status != 'deregistered'"),
        )

    migration_ops.create_service_tables()


def downgrade() -> None:
    migration_ops.drop_service_tables()
    with op.batch_alter_table("agency", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_agency_live_uscc",
            sqlite_where=sa.text("status != 'deregistered'"),
            postgresql_where=sa.text("status != 'deregistered'"),
        )
        batch_op.drop_index(batch_op.f("ix_agency_uscc"))
        batch_op.drop_index(batch_op.f("ix_agency_status"))
        batch_op.drop_index("ix_agency_region_id")

    op.drop_table("agency")
