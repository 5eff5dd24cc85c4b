"""The read model: what the gateway keeps from the events, shaped for the metrics it computes.

- ``aggregate_seen``: the newest version applied per aggregate; an event not newer changes
  nothing (redelivery, or an older event arriving after a newer one).
- ``fact``: each aggregate's current facts (see :mod:`gateway.facts`), so a change can take
  the old ones away.
- ``series_daily``: the facts summed per series, region, day and dimensions — what metrics
  read, so a value over a million cases is a sum over a few thousand rows.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel


class AggregateSeen(SQLModel, table=True):
    __tablename__ = "aggregate_seen"

    key: str = Field(primary_key=True, max_length=120)  # <service>/<aggregate>/<id>
    version: int


class FactRow(SQLModel, table=True):
    __tablename__ = "fact"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120, index=True)
    series: str = Field(max_length=60)
    region: str = Field(max_length=32)
    day: date
    dim1: str = Field(default="", max_length=200)
    dim2: str = Field(default="", max_length=60)
    dim3: str = Field(default="", max_length=60)
    dim4: str = Field(default="", max_length=60)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))


class SeriesDaily(SQLModel, table=True):
    __tablename__ = "series_daily"
    __table_args__ = (Index("ix_series_daily_lookup", "series", "region", "day"),)

    series: str = Field(primary_key=True, max_length=60)
    region: str = Field(primary_key=True, max_length=32)
    day: date = Field(primary_key=True)
    dim1: str = Field(default="", primary_key=True, max_length=200)
    dim2: str = Field(default="", primary_key=True, max_length=60)
    dim3: str = Field(default="", primary_key=True, max_length=60)
    dim4: str = Field(default="", primary_key=True, max_length=60)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
