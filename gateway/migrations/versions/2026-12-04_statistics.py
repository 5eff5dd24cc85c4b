"""statistic_definition_view, statistic_release_view: official statistics as the targets service publishes them

Admin-added catalogue entries (the built-in ones are in zhichan.statistics_catalogue) and every
release, revisions included: a view as of a date reads the figures published by then.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 00:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import zhichan.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

String = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "statistic_definition_view",
        sa.Column("code", String(length=63), nullable=False),
        sa.Column("name", String(length=200), nullable=False),
        sa.Column("unit", String(length=20), nullable=False),
        sa.Column("kind", String(length=10), nullable=False),
        sa.Column("additive", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "statistic_release_view",
        sa.Column("id", String(length=26), nullable=False),
        sa.Column("statistic", String(length=63), nullable=False),
        sa.Column("region", String(length=32), nullable=False),
        sa.Column("period_kind", String(length=10), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("value", String(length=40), nullable=False),
        sa.Column("unit", String(length=20), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("revises", String(length=26), nullable=True),
        sa.Column("created_at", zhichan.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_statistic_release_view_cell", "statistic_release_view", ["statistic", "region", "period_start"])


def downgrade() -> None:
    op.drop_index("ix_statistic_release_view_cell", "statistic_release_view")
    op.drop_table("statistic_release_view")
    op.drop_table("statistic_definition_view")
