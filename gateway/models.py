"""The read model: what the gateway keeps from the events, shaped for the metrics it computes.

Every view row keeps the aggregate ``version`` it was built from: an event not newer than that
changes nothing (redelivery, or an older event arriving after a newer one).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class AgencyView(SQLModel, table=True):
    __tablename__ = "agency_view"
    __table_args__ = (Index("ix_agency_view_region", "region"),)

    id: str = Field(primary_key=True, max_length=26)
    region: str = Field(max_length=32)
    status: str = Field(max_length=20)
    service_types: str = Field(max_length=500)  # ",a,b," like the service stores it
    offline: bool
    in_cluster: bool
    brand_level: str = Field(max_length=20)
    filed_on: date
    version: int


class AgencyActiveSpan(SQLModel, table=True):
    """A stretch of business dates during which an agency was active: [start_on, end_on)."""

    __tablename__ = "agency_active_span"
    __table_args__ = (Index("ix_agency_active_span_dates", "start_on", "end_on"),)

    id: int | None = Field(default=None, primary_key=True)
    agency_id: str = Field(max_length=26, index=True)
    start_on: date
    end_on: date | None = None
