"""An aggregate's version and facts in one row (aggregate_facts), replacing aggregate_seen + fact;
series_daily without its redundant index

A change then reads and writes one row per aggregate instead of one per fact, and a replay
writes a row per aggregate rather than about five. Existing facts are carried over.
series_daily's primary key starts with (series, region, day), so the separate lookup index on
those columns only cost writes; on SQLite the table becomes WITHOUT ROWID (the key is the table).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 03:00:00
"""

import json
from collections import defaultdict
from datetime import date

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

String = sqlmodel.sql.sqltypes.AutoString
BATCH = 10_000


def upgrade() -> None:
    aggregate_facts = op.create_table(
        "aggregate_facts",
        sa.Column("key", String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    # Page by page in key order: a city's read model holds millions of facts.
    bind, after = op.get_bind(), ""
    while True:
        page = bind.execute(
            sa.text("SELECT key, version FROM aggregate_seen WHERE key > :after ORDER BY key LIMIT :n"),
            {"after": after, "n": BATCH},
        ).all()
        if not page:
            break
        facts = defaultdict(list)
        for key, series, region, day, d1, d2, d3, d4, amount in bind.execute(
            sa.text(
                "SELECT key, series, region, day, dim1, dim2, dim3, dim4, amount FROM fact"
                " WHERE key >= :first AND key <= :last ORDER BY id"
            ),
            {"first": page[0][0], "last": page[-1][0]},
        ):
            day = day if isinstance(day, str) else day.isoformat()
            facts[key].append([series, region, day, amount, d1, d2, d3, d4])
        op.bulk_insert(
            aggregate_facts,
            [{"key": key, "version": version, "facts": json.dumps(facts[key])} for key, version in page],
        )
        after = page[-1][0]
    op.drop_table("fact")
    op.drop_table("aggregate_seen")
    op.drop_index("ix_series_daily_lookup", table_name="series_daily")
    if op.get_bind().dialect.name == "sqlite":
        _copy_series_daily(with_rowid=False)


def _copy_series_daily(*, with_rowid: bool) -> None:
    """SQLite cannot alter a table's rowid: the daily sums move into a new table."""
    op.create_table(
        "series_daily_new",
        sa.Column("series", String(length=60), nullable=False),
        sa.Column("region", String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dim1", String(length=200), nullable=False),
        sa.Column("dim2", String(length=60), nullable=False),
        sa.Column("dim3", String(length=60), nullable=False),
        sa.Column("dim4", String(length=60), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("series", "region", "day", "dim1", "dim2", "dim3", "dim4"),
        sqlite_with_rowid=with_rowid,
    )
    op.execute(
        "INSERT INTO series_daily_new (series, region, day, dim1, dim2, dim3, dim4, amount)"
        " SELECT series, region, day, dim1, dim2, dim3, dim4, amount FROM series_daily"
    )
    op.drop_table("series_daily")
    op.rename_table("series_daily_new", "series_daily")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _copy_series_daily(with_rowid=True)
    op.create_index("ix_series_daily_lookup", "series_daily", ["series", "region", "day"])
    aggregate_seen = op.create_table(
        "aggregate_seen",
        sa.Column("key", String(length=120), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    fact = op.create_table(
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
    bind = op.get_bind()
    seen, fact_rows = [], []
    for key, version, encoded in bind.execute(sa.text("SELECT key, version, facts FROM aggregate_facts")):
        seen.append({"key": key, "version": version})
        for series, region, day, amount, *dims in json.loads(encoded):
            fact_rows.append(
                dict(
                    key=key,
                    series=series,
                    region=region,
                    day=date.fromisoformat(day),
                    dim1=dims[0],
                    dim2=dims[1],
                    dim3=dims[2],
                    dim4=dims[3],
                    amount=amount,
                )
            )
    for table, rows in ((aggregate_seen, seen), (fact, fact_rows)):
        for start in range(0, len(rows), BATCH):
            op.bulk_insert(table, rows[start : start + BATCH])
    op.drop_table("aggregate_facts")
