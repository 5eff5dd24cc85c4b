"""Tables of the targets service. Custom regions live in the kernel's ``custom_region`` table
(:mod:`zhichan.region_sync`), which this service writes and every other service replicates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Text, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel

from zhichan.db import Aggregate, Stamped, UTCDateTime
from zhichan.fields import empty_dict, empty_list
from zhichan.region_sync import CustomRegion  # noqa: F401 - the table is part of this service's schema


class DecimalText(TypeDecorator):
    """Exact decimals on every database: plan values have any number of decimals (2.81, 0.5),
    and SQLite's NUMERIC would pass them through a float."""

    impl = String(40)
    cache_ok = True
    python_type = Decimal  # a cursor's value of such a column is read back as a Decimal

    def process_bind_param(self, value: Decimal | None, dialect) -> str | None:
        return None if value is None else format(Decimal(value).normalize(), "f")

    def process_result_value(self, value: str | None, dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


def _decimal(nullable: bool = False) -> Column:
    return Column(DecimalText(), nullable=nullable)


def _json() -> Column:
    return Column(JSON, nullable=False)


def _id_of(table: str, *, index: bool = False):
    """A column holding the id of a row of ``table``."""
    return Field(sa_type=String(26), foreign_key=f"{table}.id", index=index)


class Plan(Aggregate, table=True):
    __tablename__ = "plan"
    __table_args__ = (Index("ix_plan_region_key", "region", "key"),)

    key: str = Field(max_length=100, unique=True)
    title: str = Field(max_length=500)
    issued_by: str | None = Field(default=None, max_length=200)
    start: date
    end: date
    status: str = Field(max_length=20, index=True)
    # Other regions the file introduced (``regions:``), kept so an export is the file again.
    regions: list[dict] = Field(default_factory=empty_list, sa_column=_json())
    status_history: list[dict] = Field(default_factory=empty_list, sa_column=_json())
    # How its departments report ({period, due_days, review}); None: no reporting rounds.
    reporting: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class PlanPart(Stamped):
    """An indicator or a task: one of a plan's parts, named by a key unique in the plan, in the
    plan's order (``position``)."""

    id: str = Field(primary_key=True, max_length=26)
    plan_id: str = _id_of("plan", index=True)
    key: str = Field(max_length=100)
    position: int


class Indicator(PlanPart, table=True):
    __tablename__ = "indicator"
    __table_args__ = (UniqueConstraint("plan_id", "key", name="uq_indicator_plan_key"),)

    name: str = Field(max_length=300)
    category: str = Field(max_length=20)
    unit: str = Field(max_length=10)
    measure: str = Field(max_length=20)
    direction: str = Field(max_length=10)
    nature: str = Field(max_length=10)
    baseline_year: int | None = None
    baseline_value: Decimal | None = Field(default=None, sa_column=_decimal(nullable=True))
    target: Decimal = Field(sa_column=_decimal())  # a range's minimum
    target_max: Decimal | None = Field(default=None, sa_column=_decimal(nullable=True))  # a range's maximum
    milestones: dict[str, str] = Field(default_factory=empty_dict, sa_column=_json())  # year → decimal text
    # Years whose milestone is a range (1—2) → its maximum (decimal text); milestones hold the minimum.
    milestone_maxima: dict[str, str] = Field(default_factory=empty_dict, sa_column=_json())
    trajectory: str = Field(
        default="linear", sa_column=Column(String(10), nullable=False, server_default="linear")
    )  # linear | compound
    responsible: list[str] = Field(default_factory=empty_list, sa_column=_json())
    # As the plan file writes it ({metric, filters, opening}, {ratio: …}, {growth: …}); None: reported.
    source: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class Task(PlanPart, table=True):
    __tablename__ = "task"
    __table_args__ = (UniqueConstraint("plan_id", "key", name="uq_task_plan_key"),)

    title: str = Field(max_length=1000)
    responsible: list[str] = Field(default_factory=empty_list, sa_column=_json())
    due: date | None = None
    indicators: list[str] = Field(default_factory=empty_list, sa_column=_json())
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status: str = Field(max_length=20)
    status_history: list[dict] = Field(default_factory=empty_list, sa_column=_json())


class ProgressReport(SQLModel, table=True):
    """Append-only: a correction is a new report that supersedes an earlier one. Only its review
    status changes (pending → approved or returned), each change a new version."""

    __tablename__ = "progress_report"
    __table_args__ = (Index("ix_progress_report_indicator_as_of", "indicator_id", "as_of", "id"),)

    id: str = Field(primary_key=True, max_length=26)
    plan_id: str = _id_of("plan", index=True)
    indicator_id: str = _id_of("indicator")
    region: str = Field(max_length=32)
    as_of: date
    value: Decimal = Field(sa_column=_decimal())
    unit: str = Field(max_length=10)
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    evidence_url: str | None = Field(default=None, max_length=2000)
    department: str | None = Field(default=None, max_length=100)
    reporter: str = Field(max_length=100)
    # A report is superseded at most once; unique, NULLs apart (both databases).
    supersedes: str | None = Field(
        default=None, sa_column=Column(String(26), ForeignKey("progress_report.id"), nullable=True, unique=True)
    )
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # Made in a reporting round: the round's label and the submission it belongs to.
    round: str | None = Field(default=None, max_length=10)
    submission_id: str | None = Field(
        default=None,
        sa_column=Column(
            String(26),
            ForeignKey("round_submission.id", name="fk_progress_report_submission"),
            nullable=True,
            index=True,
        ),
    )
    review: str = Field(
        default="not_required", sa_column=Column(String(20), nullable=False, server_default="not_required")
    )
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))


class RoundSubmission(Stamped, table=True):
    """What a department reported in one round of a plan: values of its indicators (each a
    progress report) and progress of its tasks; reviewed by an officer where the plan wants it.
    ``created_at`` is the first submission, by which it is on time or late."""

    __tablename__ = "round_submission"
    __table_args__ = (
        UniqueConstraint("plan_id", "round", "department", name="uq_round_submission_plan_round_department"),
    )

    id: str = Field(primary_key=True, max_length=26)
    plan_id: str = _id_of("plan", index=True)
    region: str = Field(max_length=32)
    round: str = Field(max_length=10)
    # The round's dates when it was first submitted: a later change of the settings moves no round reported.
    start: date
    end: date
    due: date
    department: str = Field(max_length=100)
    status: str = Field(max_length=20)
    first_submitted_on: date  # business date (Asia/Shanghai), against the round's due day
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    attachment: str | None = Field(default=None, max_length=500)
    values: list[dict] = Field(default_factory=empty_list, sa_column=_json())  # [{indicator, value, unit, report}]
    tasks: list[dict] = Field(default_factory=empty_list, sa_column=_json())  # [{task, progress}]
    history: list[dict] = Field(default_factory=empty_list, sa_column=_json())


class StatisticDefinition(Stamped, table=True):
    """A statistic an admin added to the catalogue; the built-in ones live in
    :data:`zhichan.statistics_catalogue.BUILT_IN` and have no row."""

    __tablename__ = "statistic_definition"

    code: str = Field(primary_key=True, max_length=63)
    # The 统计指标 column of a release file names a statistic by code or by this name: one each.
    name: str = Field(max_length=100, unique=True)
    unit: str = Field(max_length=10)
    kind: str = Field(max_length=10)  # stock | flow
    additive: bool
    description: str = Field(default="", sa_column=Column(Text, nullable=False))


class StatisticRelease(SQLModel, table=True):
    """One published figure of a cell (region × statistic × period). Never changed: a later
    release of the cell revises it and both are kept."""

    __tablename__ = "statistic_release"
    __table_args__ = (
        # A cell has one release per publication date; the index also finds a cell's releases.
        UniqueConstraint(
            "region", "statistic", "period_kind", "period_start", "published_on", name="uq_statistic_release_cell_day"
        ),
        Index("ix_statistic_release_statistic_period", "statistic", "period_start"),
    )

    id: str = Field(primary_key=True, max_length=26)
    statistic: str = Field(max_length=63)
    region: str = Field(max_length=32)
    period_kind: str = Field(max_length=10)  # month | quarter | year
    period_start: date
    period_end: date
    value: Decimal = Field(sa_column=_decimal())  # in the statistic's unit
    unit: str = Field(max_length=10)
    source: str = Field(max_length=200)
    published_on: date
    # A release is revised at most once (the next one of its cell); unique, NULLs apart.
    revises: str | None = Field(
        default=None, sa_column=Column(String(26), ForeignKey("statistic_release.id"), nullable=True, unique=True)
    )
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reporter: str = Field(max_length=100)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
