"""Request and response models of the targets API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, HttpUrl, PlainSerializer, StringConstraints

from services.targets import domain
from services.targets.contracts import (
    IndicatorState,
    PlanState,
    ProgressReportState,
    RegionRef,
    ReportingSettings,
    RoundSubmissionState,
    StatisticDefinitionState,
    StatisticReleaseState,
    TaskState,
)
from zhichan.api.pagination import Page
from zhichan.api.scope import RegionQuery
from zhichan.fields import KEY_MAX_LENGTH, KEY_PATTERN, Day, RegionCode
from zhichan.metrics_catalogue import UNIT_MAX_LENGTH
from zhichan.statistics_catalogue import CODE_PATTERN

Level = domain.REGION_LEVELS.literal
PlanStatus = domain.PLAN_STATUSES.literal
TaskStatus = domain.TASK_STATUSES.literal
StatisticKind = domain.STATISTIC_KINDS.literal


def _number(value: Any) -> Decimal:
    try:
        return domain.parse_number(value)
    except ValueError as exc:
        raise ValueError(str(exc)) from None


# A value as a JSON number or a decimal string, never a bool; answered as a string (exact).
Number = Annotated[Decimal, BeforeValidator(_number), PlainSerializer(str, return_type=str, when_used="json")]


class RegionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)] = Field(
        examples=["321100-ETDZ"], description="A custom code (six digits, '-', 2–16 capitals or digits)"
    )
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] = Field(
        examples=["镇江经济技术开发区"]
    )
    level: Level = Field(examples=["zone"])
    parent: str = Field(examples=["321100"], description="The region it lies in")


class RegionItem(RegionRef):
    custom: bool
    withdrawn_in: int | None = Field(
        None,
        description="The year the code was withdrawn (民政部 table); null while in use. Records filed under "
        "it keep resolving; new plans and regions are not placed under it.",
    )
    successors: list[str] = Field(default_factory=list, description="A withdrawn code's: the codes its area went to")


class RegionPublic(RegionItem):
    version: int | None = Field(None, description="Custom regions: +1 per redefinition")
    ancestors: list[RegionRef] = Field(default_factory=list, description="From the parent up")
    children: list[RegionRef] = Field(default_factory=list)


class RegionNode(RegionItem):
    children: list[RegionNode] = Field(default_factory=list)


class RegionList(Page[RegionItem]):
    pass


class RegionTree(BaseModel):
    items: list[RegionNode]
    next_cursor: str | None = None


class RegionFilter(BaseModel):
    """The query of ``GET /regions``."""

    view: Literal["flat", "tree"] = "flat"
    parent: str | None = Field(None, description="Only the regions directly below this one")
    level: Level | None = None
    custom: bool | None = None
    withdrawn: bool = Field(
        False, description="Include codes withdrawn in a revision (kept for the records filed under them)"
    )


class PlanPublic(PlanState):
    region_name: str


class PlanSummary(BaseModel):
    id: str
    key: str
    region: str
    region_name: str
    title: str
    issued_by: str | None
    start: date
    end: date
    status: PlanStatus
    indicator_count: int
    task_count: int
    version: int
    updated_at: datetime


class PlanList(Page[PlanSummary]):
    pass


class PlanFilter(BaseModel):
    """The query of ``GET /plans``."""

    region: RegionQuery = None
    status: PlanStatus | None = None
    period: str | None = Field(
        None, description="Plans running in a year (2024), on a day (2024-03-01) or a range (2021..2025)"
    )


class IndicatorPublic(IndicatorState):
    plan: str


class IndicatorList(Page[IndicatorPublic]):
    pass


class IndicatorUpdate(BaseModel):
    """Fields to change; each is checked by the same rules as a plan file."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    responsible: list[str] | None = None
    milestones: dict[str, Any] | None = Field(
        None,
        examples=[{"2025": 800, "2026": 850}, {"2025": {"min": 1, "max": 2}}],
        description="Year → value, or a range {min, max}; replaces all the milestones",
    )
    target: Any = Field(None, examples=[900, {"min": 8, "max": 10}], description="A value, or a range {min, max}")
    trajectory: str | None = Field(None, examples=["compound"], description="linear | compound")
    baseline: dict[str, Any] | None = Field(None, examples=[{"year": 2020, "value": 2.81}])
    source: Any = Field(
        None,
        examples=[
            "reported",
            {"metric": "financing.pledge_amount"},
            {"growth": {"metric": "statistics.valid_trademarks"}, "over": "year"},
        ],
        description="reported; {metric, filters, opening}; {ratio: {numerator, denominator, per}}; {growth, over}",
    )


class TaskPublic(TaskState):
    plan: str


class TaskList(Page[TaskPublic]):
    pass


class TaskUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: TaskStatus | None = None
    reason: str | None = Field(None, max_length=1000, description="Why (required when the task is delayed)")
    notes: str | None = Field(None, max_length=4000)


class ReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: date = Field(description="The day the value describes, within the plan period")
    value: Number = Field(
        examples=["780"],
        description="In the indicator's unit: a stock's level, a cumulative's total since the plan start, an "
        "annual's year to date, an annual_average's average per year since the plan start (not the total), a rate",
    )
    note: str | None = Field(None, max_length=4000)
    evidence_url: HttpUrl | None = Field(None, description="Link to the evidence (a document, a register)")
    supersedes: str | None = Field(None, max_length=26, description="Id of the report this one corrects")


class ReportPublic(ProgressReportState):
    superseded_by: str | None = None


class ReportList(Page[ReportPublic]):
    pass


# --- reporting rounds ----------------------------------------------------------------------------

PartKey = Annotated[str, StringConstraints(min_length=1, max_length=KEY_MAX_LENGTH, pattern=KEY_PATTERN)]


class ValueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    indicator: PartKey = Field(description="Key of a reported indicator the department is responsible for")
    value: Number = Field(examples=["780"], description="In the indicator's unit, on the round's last day")
    note: str | None = Field(None, max_length=4000)


class TaskProgressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task: PartKey = Field(description="Key of a task the department is responsible for")
    progress: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)] = Field(
        description="What was done in the round (进展情况)"
    )


class RoundSubmit(BaseModel):
    """A department's report for a round: values of its indicators and progress of its tasks."""

    model_config = ConfigDict(extra="forbid")

    values: list[ValueIn] = Field(default_factory=list, max_length=200)
    tasks: list[TaskProgressIn] = Field(default_factory=list, max_length=200)
    note: str | None = Field(None, max_length=4000)
    attachment: str | None = Field(
        None, max_length=500, description="A reference to a supporting document (its id in a document store, a URL)"
    )


class SubmissionReturn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, max_length=2000, description="Why it is returned (required)")


class SubmissionPublic(RoundSubmissionState):
    pass


class DepartmentInRound(BaseModel):
    department: str
    timeliness: domain.TIMELINESS.literal = Field(description="on_time | late | missing | open (not yet due)")
    submission: str | None = Field(None, description="Id of its submission")
    status: domain.SUBMISSION_STATUSES.literal | None = Field(None, description="Where its submission stands")
    first_submitted_on: date | None = None


class RoundPublic(BaseModel):
    round: str
    start: date
    end: date
    due: date
    departments: list[DepartmentInRound]
    submitted: int = Field(description="Departments that submitted, on time or late")
    expected: int = Field(description="Departments that report in the round")
    reporting_rate: Decimal | None = Field(
        None, description="Submitted ÷ expected in %, once the round is due; null while it is open"
    )


class DepartmentCompleteness(BaseModel):
    department: str
    on_time: int
    late: int
    missing: int
    open: int
    reporting_rate: Decimal | None = Field(None, description="(on_time + late) ÷ rounds due, in %; null: none due")


class RoundList(BaseModel):
    """A plan's reporting rounds opened so far, newest first, and each department's completeness."""

    plan: str
    reporting: ReportingSettings | None
    items: list[RoundPublic]
    departments: list[DepartmentCompleteness]


class StatisticPut(BaseModel):
    """A custom statistic of the catalogue, as an admin defines it."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] = Field(
        examples=["技术合同成交额"], description="The Chinese name the releases use; unique in the catalogue"
    )
    unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=UNIT_MAX_LENGTH)] = Field(
        examples=["亿元"], description="What its figures are counted in; fixed once it has releases"
    )
    kind: StatisticKind = Field(description="stock: a level at its period's end; flow: over its period")
    additive: bool = Field(description="Whether figures add up across regions and periods (counts, amounts)")
    description: str = Field("", max_length=2000)


class StatisticPublic(StatisticDefinitionState):
    pass


class StatisticCatalogue(BaseModel):
    items: list[StatisticPublic] = Field(description="Every statistic, built in and custom, in code order")


class StatisticReleasePublic(StatisticReleaseState):
    statistic_name: str = Field(description="The statistic's Chinese name (发明专利授权量)")
    revised_by: str | None = Field(
        None, description="Id of the release that revises this one (as of published_by, when asked)"
    )


class StatisticReleaseList(Page[StatisticReleasePublic]):
    pass


class StatisticReleaseFilter(BaseModel):
    """The query of ``GET /statistics``."""

    statistic: str | None = Field(None, pattern=CODE_PATTERN, description="A statistic's code")
    region: RegionCode | None = Field(None, description="Region code: its own releases (and see descendants)")
    descendants: bool = Field(False, description="With region: the releases of every region within it too")
    from_: Day | None = Field(None, alias="from", description="Periods ending on or after this day")
    to: Day | None = Field(None, description="Periods beginning on or before this day")
    published_by: Day | None = Field(
        None, description="Only releases published by this day: the figures as they were known then"
    )
    current: bool = Field(False, description="Only each cell's latest release (as of published_by)")


class StatisticImport(BaseModel):
    """What an import did (or, in a dry run, would do)."""

    created: int = Field(description="Releases of cells that had none")
    revised: int = Field(description="Releases revising the latest of their cell (数据修订)")
    unchanged: int = Field(description="Rows recorded already (the same figure, source and publication date)")
    dry_run: bool
