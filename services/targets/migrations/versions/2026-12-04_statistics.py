"""Official statistics: the statistics an admin adds to the catalogue, and the releases

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 19:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import zhichan.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "statistic_definition",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("additive", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "statistic_release",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=26), nullable=False),
        sa.Column("statistic", sqlmodel.sql.sqltypes.AutoString(length=63), nullable=False),
        sa.Column("region", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("period_kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("revises", sa.String(length=26), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reporter", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("created_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["revises"], ["statistic_release.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "region", "statistic", "period_kind", "period_start", "published_on", name="uq_statistic_release_cell_day"
        ),
        sa.UniqueConstraint("revises"),
    )
    op.create_index("ix_statistic_release_statistic_period", "statistic_release", ["statistic", "period_start"])


def downgrade() -> None:
    op.drop_index("ix_statistic_release_statistic_period", table_name="statistic_release")
    op.drop_table("statistic_release")
    op.drop_table("statistic_definition")
