"""Events the targets service publishes on ``zhichan.targets``. The only module of this service that
another package may import (the gateway reads it).

A plan is one aggregate with its indicators (and their milestones) and tasks: every change to
any of them is a plan event carrying the whole plan, keyed by the plan's key, so a consumer
sees one plan's changes in order and can simply keep the newest ``aggregateversion``.
Progress reports are their own aggregate (append-only; a correction names the report it
supersedes). Regions are defined here and replicated by every service through
:mod:`zhichan.region_sync`, which owns their payload model.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from zhichan.region_sync import REGION_DEFINED, RegionState

SERVICE = "targets"
TOPIC = "zhichan.targets"


class RegionRef(BaseModel):
    code: str
    name: str
    level: str
    parent: str | None = None


class Baseline(BaseModel):
    year: int
    value: Decimal


class Opening(BaseModel):
    """What was reached before the platform's records begin (an office going live mid-plan)."""

    model_config = ConfigDict(extra="forbid")

    as_of: date = Field(description="The day the opening balance was reached; the records count from the day after")
    value: Decimal = Field(description="In the indicator's unit: the indicator's own measure up to that day")


class MetricSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: str = Field(
        description="A metric of zhichan.metrics_catalogue, or statistics.<code> for a statistic of the catalogue"
    )
    filters: dict[str, Any] = Field(default_factory=dict, description="Filter name → value or list of values")
    opening: Opening | None = Field(None, description="An opening balance added to a flow metric (cumulative goals)")

    @model_serializer(mode="wrap")
    def _without_absent_opening(self, handler: SerializerFunctionWrapHandler):
        # A source is written as the plan file writes it: no opening, no key. (Unannotated: an
        # annotated return type would become the schema, and the model's fields would be lost.)
        data = handler(self)
        if data.get("opening") is None:
            data.pop("opening", None)
        return data


class RatioParts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    numerator: DerivedInput
    denominator: DerivedInput
    per: Decimal = Field(
        Decimal(1),
        description="The ratio is numerator ÷ denominator × per, both read in their base units "
        "(元, 人, 件): 10000 for 每万人口, 100 for a share in %",
    )


class RatioSource(BaseModel):
    """Per-capita and share goals (每万人口高价值发明专利拥有量, 专利密集型产业增加值占 GDP 比重): both
    sides read at the same date (stocks) or over the same window (flows)."""

    model_config = ConfigDict(extra="forbid")

    ratio: RatioParts


class GrowthSource(BaseModel):
    """Year-on-year growth in % of another source (有效注册商标年均增长 8 %): a stock's level against
    its level a year before, a flow's year to date against the same days of the year before."""

    model_config = ConfigDict(extra="forbid")

    growth: DerivedInput
    over: Literal["year"] = "year"


DerivedInput = MetricSource | RatioSource | GrowthSource
RatioParts.model_rebuild()
GrowthSource.model_rebuild()


class StatusChange(BaseModel):
    status: str
    on: date = Field(description="Business date of the change (Asia/Shanghai)")
    at: datetime
    actor: str | None = None
    reason: str | None = None


class IndicatorState(BaseModel):
    key: str
    name: str
    category: str
    unit: str
    measure: str = Field(description="stock | cumulative | annual | annual_average | rate")
    direction: str = Field(description="at_least | at_most")
    nature: str = Field(description="expected | binding")
    baseline: Baseline | None = None
    target: Decimal = Field(description="The value to reach by the plan's end; of a range, its minimum")
    target_max: Decimal | None = Field(
        None, description="When the target is a range (1—2): its maximum; target is its minimum"
    )
    milestones: dict[str, Decimal] = Field(description="Year → value, in the indicator's unit; of a range, its minimum")
    milestone_maxima: dict[str, Decimal] = Field(
        default_factory=dict,
        description="Year → maximum, for the years whose milestone is a range (1—2); milestones holds its minimum",
    )
    trajectory: Literal["linear", "compound"] = Field(
        "linear",
        description="How the yearly figures between the baseline and the target go where no milestone gives them: "
        "linear (the same amount each year) or compound (the same growth rate each year, 年均增长)",
    )
    responsible: list[str]
    source: Literal["reported"] | MetricSource | RatioSource | GrowthSource
    accepts_reports: bool = Field(description="Whether progress reports give its actual value")
    version: int
    updated_at: datetime


class TaskState(BaseModel):
    key: str
    title: str
    responsible: list[str]
    due: date | None = None
    indicators: list[str]
    notes: str | None = None
    status: str = Field(description="planned | in_progress | done | delayed")
    status_history: list[StatusChange]
    version: int
    updated_at: datetime


class ReportingSettings(BaseModel):
    """How a plan's responsible departments report (填报): a round per period, due some days after
    the period ends, and whether an officer reviews (审核) what they report before it counts."""

    model_config = ConfigDict(extra="forbid")

    period: Literal["monthly", "quarterly", "half_yearly", "yearly"] = Field(
        description="A round per calendar month, quarter, half year or year, cut to the plan period"
    )
    due_days: int = Field(
        ge=0, le=366, description="A round's report is on time until this many days after its period ends"
    )
    review: Literal["none", "required"] = Field(
        "none",
        description="required: only reports an officer approved count in the progress views; none: a report "
        "counts once submitted",
    )
    start: date | None = Field(
        None,
        description="The reporting starts with the round whose period holds this day: an office that goes live "
        "mid-plan expects no round before it (its earlier figures are the office's own reports). Default: the "
        "plan's start",
    )


class PlanState(BaseModel):
    """The plan's full state after the change."""

    id: str
    key: str
    region: str
    title: str
    issued_by: str | None = None
    start: date
    end: date
    status: str = Field(description="draft | active | closed")
    regions: list[RegionRef] = Field(description="Other regions the plan file introduced")
    indicators: list[IndicatorState]
    tasks: list[TaskState]
    status_history: list[StatusChange]
    reporting: ReportingSettings | None = Field(None, description="Its reporting rounds; null: none")
    version: int
    created_at: datetime
    updated_at: datetime


class IndicatorChanged(PlanState):
    indicator: str = Field(description="Key of the indicator that changed")


class TaskChanged(PlanState):
    task: str = Field(description="Key of the task that changed")


class ProgressReportState(BaseModel):
    id: str
    plan: str = Field(description="Plan key")
    indicator: str = Field(description="Indicator key")
    region: str
    as_of: date
    value: Decimal = Field(description="In the indicator's unit")
    unit: str
    note: str | None = None
    evidence_url: str | None = None
    department: str | None = None
    reporter: str
    supersedes: str | None = Field(None, description="Id of the report this one corrects")
    created_at: datetime
    round: str | None = Field(None, description="The reporting round it was made in (2025Q1), if any")
    submission: str | None = Field(None, description="Id of the round submission it belongs to")
    review: Literal["not_required", "pending", "approved", "returned"] = Field(
        "not_required",
        description="pending until an officer approves or returns the submission it belongs to; not_required "
        "for reports the plan does not review (and an officer's own). Only the review changes, each time a new "
        "version of the report",
    )
    version: int = 1


def report_counts(review: str, review_required: bool) -> bool:
    """Whether a report's value counts in the progress views: a returned one never; where its plan
    requires review, only an approved one or one that needed none (an officer's own)."""
    if review == "returned":
        return False
    return review in ("approved", "not_required") if review_required else True


class SubmittedValue(BaseModel):
    indicator: str = Field(description="Indicator key")
    value: Decimal = Field(description="In the indicator's unit, on the round's last day")
    unit: str
    note: str | None = None
    report: str = Field(description="Id of the progress report holding the value")


class TaskProgress(BaseModel):
    task: str = Field(description="Task key")
    progress: str = Field(description="What was done in the round (进展情况)")


class SubmissionStep(BaseModel):
    action: Literal["submitted", "resubmitted", "approved", "returned"]
    on: date = Field(description="Business date (Asia/Shanghai)")
    at: datetime
    actor: str
    reason: str | None = Field(None, description="Why it was returned")


class RoundSubmissionState(BaseModel):
    """What a department reported in one reporting round of a plan, and where its review stands."""

    id: str
    plan: str = Field(description="Plan key")
    region: str
    round: str = Field(description="2025-03 (monthly), 2025Q1, 2025H1 or 2025")
    start: date
    end: date = Field(description="The day the values describe")
    due: date = Field(description="Submitted by this day: on time")
    department: str
    status: Literal["submitted", "approved", "returned"]
    first_submitted_on: date
    timeliness: Literal["on_time", "late"]
    note: str | None = None
    attachment: str | None = Field(None, description="A reference to a supporting document (its id or URL)")
    values: list[SubmittedValue]
    tasks: list[TaskProgress]
    history: list[SubmissionStep] = Field(description="Every submission and review, oldest first")
    version: int
    created_at: datetime
    updated_at: datetime


class StatisticDefinitionState(BaseModel):
    """An entry of the statistic catalogue: built in (zhichan.statistics_catalogue) or added by an admin."""

    code: str = Field(description="Read as the metric statistics.<code>")
    name: str = Field(description="The Chinese name the releases use (发明专利授权量)")
    unit: str
    kind: Literal["stock", "flow"] = Field(description="stock: a level at its period's end; flow: over its period")
    additive: bool = Field(
        description="Counts and amounts add up (a city is the sum of its districts, a year of its months); "
        "shares and per-capita figures do not"
    )
    description: str = ""
    built_in: bool
    version: int
    updated_at: datetime


class StatisticReleaseState(BaseModel):
    """One published figure: a region × a statistic × a period. Never changed: a later release of the
    same cell revises it (数据修订), and both are kept."""

    id: str
    statistic: str = Field(description="The statistic's code")
    region: str
    period: str = Field(description="2025 (year), 2025Q3 (quarter) or 2025-10 (month)")
    period_kind: Literal["month", "quarter", "year"]
    period_start: date
    period_end: date
    value: Decimal = Field(description="In the statistic's unit")
    unit: str
    source: str = Field(description="Where it was published: 国家知识产权局统计月报 2025-10")
    published_on: date = Field(description="Publication date: a view as of an earlier date does not see it")
    revises: str | None = Field(None, description="Id of the release of the same cell this one revises")
    note: str | None = None
    reporter: str
    created_at: datetime


PLAN_IMPORTED = "zhichan.targets.plan.imported.v1"
PLAN_UPDATED = "zhichan.targets.plan.updated.v1"
PLAN_ACTIVATED = "zhichan.targets.plan.activated.v1"
PLAN_CLOSED = "zhichan.targets.plan.closed.v1"
PLAN_INDICATOR_CHANGED = "zhichan.targets.plan.indicator_changed.v1"
PLAN_TASK_CHANGED = "zhichan.targets.plan.task_changed.v1"
PLAN_REPORTING_CHANGED = "zhichan.targets.plan.reporting_changed.v1"
PROGRESS_REPORTED = "zhichan.targets.progress_report.submitted.v1"
PROGRESS_REPORT_REVIEWED = "zhichan.targets.progress_report.reviewed.v1"
ROUND_SUBMITTED = "zhichan.targets.round_submission.submitted.v1"
ROUND_RESUBMITTED = "zhichan.targets.round_submission.resubmitted.v1"
ROUND_APPROVED = "zhichan.targets.round_submission.approved.v1"
ROUND_RETURNED = "zhichan.targets.round_submission.returned.v1"
STATISTIC_DEFINED = "zhichan.targets.statistic.defined.v1"
STATISTIC_RELEASED = "zhichan.targets.statistic_release.published.v1"

EVENTS: dict[str, tuple[type[BaseModel], str]] = {
    REGION_DEFINED: (RegionState, "A custom region (e.g. a development zone) defined or redefined"),
    PLAN_IMPORTED: (PlanState, "A plan imported for the first time (draft)"),
    PLAN_UPDATED: (PlanState, "A plan imported again: its content changed"),
    PLAN_ACTIVATED: (PlanState, "A plan activated: draft → active"),
    PLAN_CLOSED: (PlanState, "A plan closed: active → closed"),
    PLAN_INDICATOR_CHANGED: (IndicatorChanged, "An indicator of the plan changed (name, target, milestones …)"),
    PLAN_TASK_CHANGED: (TaskChanged, "A task of the plan changed (status, notes)"),
    PLAN_REPORTING_CHANGED: (PlanState, "The plan's reporting rounds changed (period, due days, review)"),
    PROGRESS_REPORTED: (ProgressReportState, "A department reported an indicator's value (append-only)"),
    PROGRESS_REPORT_REVIEWED: (
        ProgressReportState,
        "The submission a report belongs to was approved or returned: the report's review status changed",
    ),
    ROUND_SUBMITTED: (RoundSubmissionState, "A department submitted its values and task progress for a round"),
    ROUND_RESUBMITTED: (RoundSubmissionState, "A department submitted a round again (after a return, or corrected)"),
    ROUND_APPROVED: (RoundSubmissionState, "An officer approved a round's submission: its values count"),
    ROUND_RETURNED: (RoundSubmissionState, "An officer returned a round's submission, with the reason"),
    STATISTIC_DEFINED: (StatisticDefinitionState, "An admin added a statistic to the catalogue, or changed one"),
    STATISTIC_RELEASED: (
        StatisticReleaseState,
        "An official figure published for a region, statistic and period; a revision names the release it revises",
    ),
}
