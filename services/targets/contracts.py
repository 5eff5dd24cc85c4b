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

from pydantic import BaseModel, Field

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


class MetricSource(BaseModel):
    metric: str = Field(description="A metric of zhichan.metrics_catalogue")
    filters: dict[str, Any] = Field(default_factory=dict, description="Filter name → value or list of values")


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
    source: Literal["reported"] | MetricSource
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


PLAN_IMPORTED = "zhichan.targets.plan.imported.v1"
PLAN_UPDATED = "zhichan.targets.plan.updated.v1"
PLAN_ACTIVATED = "zhichan.targets.plan.activated.v1"
PLAN_CLOSED = "zhichan.targets.plan.closed.v1"
PLAN_INDICATOR_CHANGED = "zhichan.targets.plan.indicator_changed.v1"
PLAN_TASK_CHANGED = "zhichan.targets.plan.task_changed.v1"
PROGRESS_REPORTED = "zhichan.targets.progress_report.submitted.v1"

EVENTS: dict[str, tuple[type[BaseModel], str]] = {
    REGION_DEFINED: (RegionState, "A custom region (e.g. a development zone) defined or redefined"),
    PLAN_IMPORTED: (PlanState, "A plan imported for the first time (draft)"),
    PLAN_UPDATED: (PlanState, "A plan imported again: its content changed"),
    PLAN_ACTIVATED: (PlanState, "A plan activated: draft → active"),
    PLAN_CLOSED: (PlanState, "A plan closed: active → closed"),
    PLAN_INDICATOR_CHANGED: (IndicatorChanged, "An indicator of the plan changed (name, target, milestones …)"),
    PLAN_TASK_CHANGED: (TaskChanged, "A task of the plan changed (status, notes)"),
    PROGRESS_REPORTED: (ProgressReportState, "A department reported an indicator's value (append-only)"),
}
