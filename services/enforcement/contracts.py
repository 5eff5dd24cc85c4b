"""Events the enforcement service publishes on ``zhichan.enforcement``. The only module of this
service that another package may import (the gateway reads it).

Every event carries its aggregate's full state after the change. For the case metrics a
consumer needs only a case's own state, as of any past date D:
- filed on D: ``filed_date``; closed on D: ``closed_date`` (closed, transferred or withdrawn);
- closed on time: ``closed_on_time`` (closed on or before the deadline as it stood that day);
- overdue and still open on D: D lies in one of ``overdue_periods`` (the last one is open-ended
  while the case is open and its clock runs; a later event replaces the list);
- the deadline itself: ``due_date`` (null while suspended), with its ingredients
  (``deadline_rule``, ``base_due_date``, ``extension``, ``suspensions``) and ``due_date_basis``.
Natural persons' identity card numbers never leave the service.
"""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from zhichan.money import Yuan

SERVICE = "enforcement"
TOPIC = "zhichan.enforcement"


class PartyState(BaseModel):
    kind: str | None = Field(description="organization | natural_person; null: not said (complainants only)")
    name: str
    uscc: str | None = None


class DeadlineRuleState(BaseModel):
    procedure: str
    base_amount: int
    base_unit: str = Field(description="days | months")
    extension_amount: int
    extension_unit: str
    source_region: str | None = Field(None, description="Region whose rule it is; null: the national default")
    effective_from: date | None = None


class ExtensionState(BaseModel):
    granted_on: date
    approver: str
    reason: str


class SuspensionState(BaseModel):
    start: date
    end: date | None = Field(None, description="Resumption date; null while suspended")
    reason: str
    days: int | None = Field(None, description="Days that do not count; null while suspended")


class DecisionState(BaseModel):
    outcome: str
    decided_date: date
    fine: Yuan
    confiscation: Yuan
    illegal_revenue: Yuan
    decision_number: str | None = None
    against_respondent: bool = Field(description="Counts towards the repeat-infringer watch list")


class TransferState(BaseModel):
    to: str = Field(description="police | judiciary | other_authority")
    receiving_body: str | None = None
    transferred_on: date


class Period(BaseModel):
    start: date
    end: date | None = Field(None, description="Last day, inclusive; null: open-ended")


class Step(BaseModel):
    action: str = Field(description="file, investigate, extend, suspend, resume, decide, close, transfer, withdraw")
    status: str = Field(description="Status after the step")
    date: dt.date = Field(description="Business date of the step (Asia/Shanghai)")
    at: datetime = Field(description="When it was recorded (UTC)")
    actor: str | None = None
    reason: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class CaseState(BaseModel):
    """A case's full state after the change."""

    id: str
    region: str
    case_number: str
    type: str
    procedure: str
    origin: str
    respondent: PartyState
    complainant: PartyState | None = None
    summary: str | None = None
    filed_date: date
    handling_unit: str
    campaign_id: str | None = None
    status: str
    deadline_rule: DeadlineRuleState
    base_due_date: date
    extension: ExtensionState | None = None
    period_end: date = Field(description="Deadline before suspensions (base period, plus the extension)")
    suspensions: list[SuspensionState]
    suspended_days: int = Field(description="Days of ended suspensions")
    due_date: date | None = Field(description="Deadline with every suspension counted; null while suspended")
    due_date_basis: str
    overdue_periods: list[Period]
    decision: DecisionState | None = None
    transfer: TransferState | None = None
    closed_date: date | None = Field(None, description="Date the case ended: closed, transferred or withdrawn")
    closed_on_time: bool | None = None
    timeline: list[Step]
    version: int
    created_at: datetime
    updated_at: datetime


class CampaignState(BaseModel):
    id: str
    name: str
    region: str
    start: date
    end: date
    focus: str
    description: str | None = None
    created_by: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime


class DeadlineRuleVersion(BaseModel):
    procedure: str
    base_amount: int
    base_unit: str
    extension_amount: int
    extension_unit: str
    effective_from: date
    set_by: str | None = None
    set_at: datetime
    reason: str | None = None


class WatchWindowVersion(BaseModel):
    years: int
    effective_from: date
    set_by: str | None = None
    set_at: datetime
    reason: str | None = None


class RegionPolicyState(BaseModel):
    """A region's own settings, every version kept: a version applies from its date on."""

    region: str
    deadline_rules: list[DeadlineRuleVersion]
    watch_windows: list[WatchWindowVersion]
    version: int
    created_at: datetime
    updated_at: datetime


class WatchedDecision(BaseModel):
    case_id: str
    case_number: str
    region: str
    type: str
    outcome: str
    decided_date: date


class WatchlistEntryState(BaseModel):
    """A respondent (by USCC) on a region's watch list (重点监管). The region counts its
    descendants' cases; ``listed_periods`` say on which days it is listed (at least two
    decisions against it within the region's window in force on that day)."""

    id: str = Field(description="<region>:<uscc>")
    region: str
    uscc: str
    respondent_name: str
    decisions: list[WatchedDecision]
    listed_periods: list[Period]
    version: int
    created_at: datetime
    updated_at: datetime


CASE_FILED = "zhichan.enforcement.case.filed.v1"
CASE_INVESTIGATION_STARTED = "zhichan.enforcement.case.investigation_started.v1"
CASE_EXTENDED = "zhichan.enforcement.case.extended.v1"
CASE_SUSPENDED = "zhichan.enforcement.case.suspended.v1"
CASE_RESUMED = "zhichan.enforcement.case.resumed.v1"
CASE_DECIDED = "zhichan.enforcement.case.decided.v1"
CASE_CLOSED = "zhichan.enforcement.case.closed.v1"
CASE_TRANSFERRED = "zhichan.enforcement.case.transferred.v1"
CASE_WITHDRAWN = "zhichan.enforcement.case.withdrawn.v1"
CASE_AMENDED = "zhichan.enforcement.case.amended.v1"
CAMPAIGN_CREATED = "zhichan.enforcement.campaign.created.v1"
DEADLINE_RULES_CHANGED = "zhichan.enforcement.region_policy.deadline_rules_changed.v1"
WATCH_WINDOW_CHANGED = "zhichan.enforcement.region_policy.watch_window_changed.v1"
WATCHLIST_ENTERED = "zhichan.enforcement.watchlist_entry.entered.v1"
WATCHLIST_UPDATED = "zhichan.enforcement.watchlist_entry.updated.v1"

EVENTS: dict[str, tuple[type[BaseModel], str]] = {
    CASE_FILED: (CaseState, "A case filed (立案), with its computed deadline"),
    CASE_INVESTIGATION_STARTED: (CaseState, "Investigation of a case started"),
    CASE_EXTENDED: (CaseState, "A case's deadline extended (once, with approval)"),
    CASE_SUSPENDED: (CaseState, "A case suspended (中止): its clock stopped"),
    CASE_RESUMED: (CaseState, "A suspended case resumed: its clock runs again"),
    CASE_DECIDED: (CaseState, "A decision made: outcome, fines, confiscations"),
    CASE_CLOSED: (CaseState, "A decided case closed (结案)"),
    CASE_TRANSFERRED: (CaseState, "A case transferred (移送) to police or judiciary: closed for the office"),
    CASE_WITHDRAWN: (CaseState, "A case withdrawn (撤销立案)"),
    CASE_AMENDED: (
        CaseState,
        "A case's record corrected by an import or a push by number: its type, origin, parties, summary, "
        "handling unit or campaign (never its procedure or filing date, from which its deadline follows)",
    ),
    CAMPAIGN_CREATED: (CampaignState, "A campaign (专项行动) created"),
    DEADLINE_RULES_CHANGED: (RegionPolicyState, "A region's deadline rules changed (for cases filed from then on)"),
    WATCH_WINDOW_CHANGED: (RegionPolicyState, "A region's watch-list window changed"),
    WATCHLIST_ENTERED: (WatchlistEntryState, "A respondent entered a region's watch list of repeat infringers"),
    WATCHLIST_UPDATED: (WatchlistEntryState, "A watch-list entry's decisions or listed periods changed"),
}
