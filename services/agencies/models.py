"""Tables of the agencies service."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from zhichan.db import UTCDateTime


class Agency(SQLModel, table=True):
    __tablename__ = "agency"
    __table_args__ = (
        # A USCC may be filed again only after its earlier filing was deregistered.
        Index(
            "uq_agency_live_uscc",
            "uscc",
            unique=True,
            sqlite_where=text("status != 'deregistered'"),
            postgresql_where=text("status != 'deregistered'"),
        ),
        Index("ix_agency_region_id", "region", "id"),
    )

    id: str = Field(primary_key=True, max_length=26)
    name: str = Field(max_length=200)
    uscc: str = Field(max_length=18, index=True)
    region: str = Field(max_length=32)
    address: str | None = Field(default=None, max_length=500)
    # Stored ",a,b," so a filter is one indexed-free LIKE on both SQLite and PostgreSQL.
    service_types: str = Field(max_length=500)
    licence_numbers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    offline: bool = False
    in_cluster: bool = False
    brand_level: str = Field(default="none", max_length=20)
    status: str = Field(max_length=20, index=True)
    filed_on: date
    status_history: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    version: int = 1
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))

    @property
    def service_type_list(self) -> list[str]:
        return [s for s in self.service_types.split(",") if s]
