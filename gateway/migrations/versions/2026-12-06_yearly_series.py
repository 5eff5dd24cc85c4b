"""series_yearly: the daily sums added up per calendar year, filled from the monthly rows

A computed overview at a city's size spent most of its database time reading a decade of
monthly rows per region and dimension values for every stock's level (~113,000 rows for
open cases). With yearly partial sums a level reads ~10 yearly rows, then the months and days
since the last whole year. Without ROWID on SQLite, like series_daily and series_monthly.

The read model's next after 0009 (the inbox's received_at index).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 00:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

String = sqlmodel.sql.sqltypes.AutoString

# The first day of a monthly row's year, as each database stores a date (SQLite: 'YYYY-MM-DD' text).
FIRST_OF_YEAR = {"sqlite": "date(month, 'start of year')", "postgresql": "CAST(date_trunc('year', month) AS DATE)"}


def upgrade() -> None:
    op.create_table(
        "series_yearly",
        sa.Column("series", String(length=60), nullable=False),
        sa.Column("region", String(length=32), nullable=False),
        sa.Column("year", sa.Date(), nullable=False),
        sa.Column("dim1", String(length=200), nullable=False),
        sa.Column("dim2", String(length=60), nullable=False),
        sa.Column("dim3", String(length=60), nullable=False),
        sa.Column("dim4", String(length=60), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("series", "region", "year", "dim1", "dim2", "dim3", "dim4"),
        sqlite_with_rowid=False,
    )
    year = FIRST_OF_YEAR[op.get_bind().dialect.name]
    # One statement, in the database: a city's ~640,000 monthly rows become ~65,000 yearly ones.
    op.execute(
        "INSERT INTO series_yearly (series, region, year, dim1, dim2, dim3, dim4, amount)"
        f" SELECT series, region, {year}, dim1, dim2, dim3, dim4, SUM(amount) FROM series_monthly"
        f" GROUP BY series, region, {year}, dim1, dim2, dim3, dim4"
        " HAVING SUM(amount) <> 0"
    )


def downgrade() -> None:
    op.drop_table("series_yearly")
