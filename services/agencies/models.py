"""Tables of the agencies service."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Column, Index, Numeric, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from zhichan.db import Aggregate, UTCDateTime, region_indexes
from zhichan.fields import empty_list


class Agency(Aggregate, table=True):
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
        *region_indexes("agency"),
    )

    name: str = Field(max_length=200)
    uscc: str = Field(max_length=18, index=True)
    address: str | None = Field(default=None, max_length=500)
    # Stored ",a,b," so a filter is one indexed-free LIKE on both SQLite and PostgreSQL.
    service_types: str = Field(max_length=500)
    licence_numbers: list[str] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    offline: bool = False
    in_cluster: bool = False
    brand_level: str = Field(default="none", max_length=20)
    status: str = Field(max_length=20, index=True)
    filed_on: date
    status_history: list[dict] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    # Brand level decisions (品牌机构认定), oldest first: level, decided_on, decision_reference.
    brand_history: list[dict] = Field(
        default_factory=empty_list, sa_column=Column(JSON, nullable=False, server_default=text("'[]'"))
    )

    @property
    def service_type_list(self) -> list[str]:
        return [s for s in self.service_types.split(",") if s]


def _live_unique(name: str, *columns: str, where: str) -> Index:
    """A unique index over the rows that satisfy ``where`` (partial, on SQLite and PostgreSQL)."""
    return Index(name, *columns, unique=True, sqlite_where=text(where), postgresql_where=text(where))


class Practitioner(Aggregate, table=True):
    """A certificate's spell at one agency, in the agency's region."""

    __tablename__ = "practitioner"
    __table_args__ = (
        # One certificate practises in one agency at a time.
        _live_unique("uq_practitioner_active_certificate", "certificate_number", where="status = 'active'"),
        *region_indexes("practitioner"),
    )

    agency_id: str = Field(foreign_key="agency.id", index=True, max_length=26)
    name: str = Field(max_length=100)
    certificate_number: str = Field(max_length=20, index=True)
    type: str = Field(max_length=20)
    status: str = Field(max_length=10)
    joined_on: date
    left_on: date | None = None
    leave_reason: str | None = Field(default=None, max_length=1000)


class AnnualReport(Aggregate, table=True):
    __tablename__ = "annual_report"
    __table_args__ = (
        # One current report per agency and year; corrections supersede it.
        _live_unique("uq_annual_report_current", "agency_id", "year", where="status = 'current'"),
        Index("ix_annual_report_region_year", "region", "year"),
    )

    agency_id: str = Field(foreign_key="agency.id", index=True, max_length=26)
    year: int
    staff: int
    practitioners: int
    service_revenue: Decimal = Field(sa_column=Column(Numeric(20, 2), nullable=False))
    filings_handled: int
    status: str = Field(max_length=12)
    submitted_on: date
    supersedes: str | None = Field(default=None, max_length=26)
    superseded_by: str | None = Field(default=None, max_length=26)
    supersede_reason: str | None = Field(default=None, max_length=1000)


class Complaint(Aggregate, table=True):
    __tablename__ = "complaint"
    __table_args__ = (
        *region_indexes("complaint"),
        Index("ix_complaint_open_deadline", "status", "deadline"),
    )

    agency_id: str = Field(foreign_key="agency.id", index=True, max_length=26)
    channel: str = Field(max_length=10)
    received_on: date
    content: str = Field(sa_column=Column(Text, nullable=False))
    # Private: shown only to officers on the single record; never in lists, events or disclosure.
    complainant_contact: str | None = Field(default=None, max_length=200)
    handling_working_days: int
    deadline: date
    deadline_provisional: bool = False
    # The last year whose holiday arrangement the calendar knew when the deadline was counted;
    # None for complaints received before the service recorded it.
    deadline_known_through: int | None = None
    status: str = Field(max_length=10)
    outcome: str | None = Field(default=None, max_length=10)
    findings: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    resolved_on: date | None = None


class CreditEntry(SQLModel, table=True):
    """One commendation or violation in an agency's credit archive (诚信档案). Never edited."""

    __tablename__ = "credit_entry"
    __table_args__ = (Index("ix_credit_entry_agency_date", "agency_id", "occurred_on"),)

    id: str = Field(primary_key=True, max_length=26)
    agency_id: str = Field(foreign_key="agency.id", max_length=26)
    region: str = Field(max_length=32)
    kind: str = Field(max_length=30)
    points: int
    occurred_on: date
    description: str = Field(max_length=1000)
    reference: str | None = Field(default=None, max_length=200)
    source: str = Field(max_length=20)  # manual | complaint | inspection
    source_id: str | None = Field(default=None, max_length=26)
    actor: str | None = Field(default=None, max_length=100)
    version: int = 1
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class InspectionDraw(SQLModel, table=True):
    """A random draw, with everything needed to run it again: seed, eligible lists, weights."""

    __tablename__ = "inspection_draw"
    __table_args__ = region_indexes("inspection_draw")

    id: str = Field(primary_key=True, max_length=26)
    region: str = Field(max_length=32)
    drawn_on: date
    seed: int = Field(sa_column=Column(BigInteger, nullable=False))
    algorithm: str = Field(max_length=40)
    agency_count: int
    inspector_count: int
    grade_weights: dict = Field(sa_column=Column(JSON, nullable=False))
    eligible_agencies: list[dict] = Field(sa_column=Column(JSON, nullable=False))
    inspector_pool: list[dict] = Field(sa_column=Column(JSON, nullable=False))
    drawn_agencies: list[str] = Field(sa_column=Column(JSON, nullable=False))
    drawn_inspectors: list[str] = Field(sa_column=Column(JSON, nullable=False))
    actor: str | None = Field(default=None, max_length=100)
    version: int = 1
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Inspection(Aggregate, table=True):
    """One drawn agency's inspection, by its pair of inspectors, and what it found."""

    __tablename__ = "inspection"
    __table_args__ = region_indexes("inspection")

    draw_id: str = Field(foreign_key="inspection_draw.id", index=True, max_length=26)
    agency_id: str = Field(foreign_key="agency.id", index=True, max_length=26)
    inspectors: list[dict] = Field(sa_column=Column(JSON, nullable=False))
    drawn_on: date
    status: str = Field(max_length=10)
    finding: str | None = Field(default=None, max_length=30)
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    decision_reference: str | None = Field(default=None, max_length=200)
    concluded_on: date | None = None


class Evaluation(SQLModel, table=True):
    __tablename__ = "evaluation"
    __table_args__ = (
        UniqueConstraint("agency_id", "year", name="uq_evaluation_agency_year"),
        Index("ix_evaluation_region_year", "region", "year"),
    )

    id: str = Field(primary_key=True, max_length=26)
    agency_id: str = Field(foreign_key="agency.id", max_length=26)
    region: str = Field(max_length=32)
    year: int
    score: Decimal = Field(sa_column=Column(Numeric(5, 2), nullable=False))
    evaluator: str = Field(max_length=200)
    evaluated_on: date
    notes: str | None = Field(default=None, max_length=1000)
    version: int = 1
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
