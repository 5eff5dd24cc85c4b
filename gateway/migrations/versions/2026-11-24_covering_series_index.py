"""The daily series' lookup index covers every column: sums are read from the index alone

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 03:10:00
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

NARROW = ["series", "region", "day"]
COVERING = [*NARROW, "dim1", "dim2", "dim3", "dim4", "amount"]


def upgrade() -> None:
    op.drop_index("ix_series_daily_lookup", table_name="series_daily")
    op.create_index("ix_series_daily_lookup", "series_daily", COVERING)


def downgrade() -> None:
    op.drop_index("ix_series_daily_lookup", table_name="series_daily")
    op.create_index("ix_series_daily_lookup", "series_daily", NARROW)
