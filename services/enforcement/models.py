"""Tables of the enforcement service."""

from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field

from zhichan.db import Aggregate, Stamped, region_indexes
from zhichan.fields import empty_list


class Case(Aggregate, table=True):
    """A case. The lifecycle's parts are JSON (rule snapshot, extension, suspensions,
    timeline); what lists filter on is a column of its own."""

    __tablename__ = "enforcement_case"
    __table_args__ = (
        UniqueConstraint("region", "case_number", name="uq_case_region_number"),
        Index("ix_case_region_id", "region", "id"),
        Index("ix_case_respondent_decided", "respondent_uscc", "decided_date"),
    )

    case_number: str = Field(max_length=64)
    case_type: str = Field(max_length=40, index=True)
    procedure: str = Field(max_length=40, index=True)
    origin: str = Field(max_length=30)
    respondent_kind: str = Field(max_length=20)
    respondent_name: str = Field(max_length=200)
    respondent_uscc: str | None = Field(default=None, max_length=18)
    respondent_id_number: str | None = Field(default=None, max_length=18)
    complainant: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    summary: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    filed_date: date = Field(index=True)
    handling_unit: str = Field(max_length=100, index=True)
    campaign_id: str | None = Field(default=None, max_length=26, index=True)
    status: str = Field(max_length=20, index=True)
    deadline_rule: dict = Field(sa_column=Column(JSON, nullable=False))
    extension: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    suspensions: list[dict] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    due_date: date | None = None
    # Start of the open-ended overdue stretch: the case is overdue today iff this is <= today.
    overdue_since: date | None = Field(default=None, index=True)
    outcome: str | None = Field(default=None, max_length=40)
    decided_date: date | None = Field(default=None, index=True)
    decision_number: str | None = Field(default=None, max_length=100)
    # Money in fen: exact on SQLite, whose NUMERIC is a float.
    fine_fen: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    confiscation_fen: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    illegal_revenue_fen: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    transfer: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    closed_date: date | None = Field(default=None, index=True)
    closed_on_time: bool | None = None
    timeline: list[dict] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))


class Campaign(Aggregate, table=True):
    __tablename__ = "campaign"
    __table_args__ = (*region_indexes("campaign"), UniqueConstraint("region", "name", name="uq_campaign_region_name"))

    name: str = Field(max_length=200)
    start_date: date
    end_date: date
    focus: str = Field(sa_column=Column(Text, nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_by: str | None = Field(default=None, max_length=100)


class RegionPolicy(Stamped, table=True):
    """A region's own deadline rules and watch-list windows, every version kept (append-only)."""

    __tablename__ = "region_policy"

    region: str = Field(primary_key=True, max_length=32)
    deadline_rules: list[dict] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    watch_windows: list[dict] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))


class WatchlistEntry(Stamped, table=True):
    """A respondent on a region's watch list: created when first listed, kept as history."""

    __tablename__ = "watchlist_entry"
    __table_args__ = (Index("ix_watchlist_region_uscc", "region", "uscc", unique=True),)

    id: str = Field(primary_key=True, max_length=60)
    region: str = Field(max_length=32)
    uscc: str = Field(max_length=18)
    respondent_name: str = Field(max_length=200)
    decisions: list[dict] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    listed_periods: list[dict] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
