"""The read model: what the gateway keeps from the events, shaped for the metrics it computes.

- ``aggregate_facts``: per aggregate, the newest version applied (an event not newer changes
  nothing: redelivery, or an older event arriving after a newer one) and the facts that version
  contributes (see :mod:`gateway.facts`), so a change can take the old ones away. One row per
  aggregate, facts encoded together: a change reads and writes one row, and a replay of a million
  cases writes a million rows rather than five million.
- ``series_daily``: the facts summed per series, region, day and dimensions — what metrics
  read, so a value over a million cases is a sum over a few thousand rows.
- ``series_monthly``: the same sums per month, kept beside the daily ones from the same amounts
  in the same transaction: a stock's level over a decade reads ~120 monthly rows and the days
  of the last partial month instead of ~3,650 daily rows.
- ``series_yearly``: the same sums per year, kept likewise: a decade's level reads ~10 yearly
  rows, then the months and days since the last whole year.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Column, Index, String, Text
from sqlmodel import Field, SQLModel

from zhichan.db import UTCDateTime


class AggregateFacts(SQLModel, table=True):
    __tablename__ = "aggregate_facts"

    key: str = Field(primary_key=True, max_length=120)  # <service>/<aggregate>/<id>
    version: int
    # [[series, region, "YYYY-MM-DD", amount, dim1, dim2, dim3, dim4], …] (gateway.readmodel encodes)
    facts: str = Field(sa_column=Column(Text, nullable=False))


class SeriesDaily(SQLModel, table=True):
    __tablename__ = "series_daily"
    # The primary key (series, region, day, …) is also the index every metric reads by. On SQLite
    # the table is that index alone (WITHOUT ROWID): one b-tree to write instead of three.
    __table_args__ = {"sqlite_with_rowid": False}

    series: str = Field(primary_key=True, max_length=60)
    region: str = Field(primary_key=True, max_length=32)
    day: date = Field(primary_key=True)
    dim1: str = Field(default="", primary_key=True, max_length=200)
    dim2: str = Field(default="", primary_key=True, max_length=60)
    dim3: str = Field(default="", primary_key=True, max_length=60)
    dim4: str = Field(default="", primary_key=True, max_length=60)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))


class SeriesMonthly(SQLModel, table=True):
    """``series_daily`` added up per month: always the sum of that month's daily rows."""

    __tablename__ = "series_monthly"
    __table_args__ = {"sqlite_with_rowid": False}

    series: str = Field(primary_key=True, max_length=60)
    region: str = Field(primary_key=True, max_length=32)
    month: date = Field(primary_key=True)  # the month's first day
    dim1: str = Field(default="", primary_key=True, max_length=200)
    dim2: str = Field(default="", primary_key=True, max_length=60)
    dim3: str = Field(default="", primary_key=True, max_length=60)
    dim4: str = Field(default="", primary_key=True, max_length=60)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))


class SeriesYearly(SQLModel, table=True):
    """``series_daily`` added up per calendar year: always the sum of that year's daily rows."""

    __tablename__ = "series_yearly"
    __table_args__ = {"sqlite_with_rowid": False}

    series: str = Field(primary_key=True, max_length=60)
    region: str = Field(primary_key=True, max_length=32)
    year: date = Field(primary_key=True)  # the year's first day
    dim1: str = Field(default="", primary_key=True, max_length=200)
    dim2: str = Field(default="", primary_key=True, max_length=60)
    dim3: str = Field(default="", primary_key=True, max_length=60)
    dim4: str = Field(default="", primary_key=True, max_length=60)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))


class PlanView(SQLModel, table=True):
    """A plan as its last event told it (the full state, indicators and tasks included)."""

    __tablename__ = "plan_view"

    key: str = Field(primary_key=True, max_length=100)
    region: str = Field(max_length=32, index=True)
    title: str = Field(max_length=300)
    status: str = Field(max_length=20)
    start: date
    end: date
    version: int
    state: dict = Field(sa_column=Column(JSON, nullable=False))


class ReportView(SQLModel, table=True):
    """Progress reports, append-only; a correction names the report it supersedes. Only the review
    changes (a reported round's pending → approved or returned), by a newer version of the report."""

    __tablename__ = "report_view"
    __table_args__ = (Index("ix_report_view_indicator", "plan", "indicator", "as_of"),)

    id: str = Field(primary_key=True, max_length=26)
    plan: str = Field(max_length=100)
    indicator: str = Field(max_length=100)
    region: str = Field(max_length=32)
    as_of: date
    value: str = Field(max_length=40)  # exact decimal, in the indicator's unit
    department: str | None = Field(default=None, max_length=200)
    supersedes: str | None = Field(default=None, max_length=26)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    review: str = Field(
        default="not_required", sa_column=Column(String(20), nullable=False, server_default="not_required")
    )


class RecentEvent(SQLModel, table=True):
    """What happened lately, per region: the overview's 'latest events'."""

    __tablename__ = "recent_event"
    __table_args__ = (Index("ix_recent_event_region_time", "region", "time"),)

    event_id: str = Field(primary_key=True, max_length=36)
    type: str = Field(max_length=200)
    subject: str = Field(max_length=200)
    region: str = Field(max_length=32)
    time: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ReadModelStamp(SQLModel, table=True):
    """One row whose ``stamp`` is new after every transaction that applied events: what views
    computed from the read model are cached by (in each replica, so it lives in the database)."""

    __tablename__ = "read_model_stamp"

    id: int = Field(default=1, primary_key=True)
    stamp: str = Field(max_length=32)


class StatisticDefinitionView(SQLModel, table=True):
    """A statistic an admin added to the catalogue (the built-in ones are
    :data:`zhichan.statistics_catalogue.BUILT_IN`), as its newest event told it."""

    __tablename__ = "statistic_definition_view"

    code: str = Field(primary_key=True, max_length=63)
    name: str = Field(max_length=200)
    unit: str = Field(max_length=20)
    kind: str = Field(max_length=10)  # stock | flow
    additive: bool
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    version: int


class StatisticReleaseView(SQLModel, table=True):
    """Official figures, every release kept: a revision is a release of the same cell (region,
    statistic, period) published later, and a view as of a date sees what was published by then."""

    __tablename__ = "statistic_release_view"
    __table_args__ = (Index("ix_statistic_release_view_cell", "statistic", "region", "period_start"),)

    id: str = Field(primary_key=True, max_length=26)
    statistic: str = Field(max_length=63)
    region: str = Field(max_length=32)
    period_kind: str = Field(max_length=10)  # month | quarter | year
    period_start: date
    period_end: date
    value: str = Field(max_length=40)  # exact decimal, in the statistic's unit
    unit: str = Field(max_length=20)
    published_on: date
    revises: str | None = Field(default=None, max_length=26)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
