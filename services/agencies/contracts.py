"""Events the agencies service publishes on ``zhichan.agencies``. The only module of this
service that another package may import (the gateway reads it)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

SERVICE = "agencies"
TOPIC = "zhichan.agencies"


class StatusChange(BaseModel):
    status: str
    on: date
    at: datetime
    actor: str | None = None
    reason: str | None = None


class BrandDecision(BaseModel):
    brand_level: str
    previous_level: str
    decided_on: date
    decision_reference: str
    at: datetime
    actor: str | None = None


class AgencyState(BaseModel):
    """The agency's full state after the change."""

    id: str
    name: str
    uscc: str
    region: str
    address: str | None = None
    service_types: list[str]
    licence_numbers: list[str]
    offline: bool
    in_cluster: bool
    brand_level: str
    status: str
    filed_on: date
    status_history: list[StatusChange]
    brand_history: list[BrandDecision] = Field(
        default_factory=list, description="Brand level decisions (品牌机构认定), oldest first"
    )
    version: int
    created_at: datetime
    updated_at: datetime


class PractitionerState(BaseModel):
    """A practitioner's spell at one agency (a certificate that moves is a new spell).
    Counts as practising from ``joined_on`` until ``left_on``."""

    id: str
    agency_id: str
    region: str
    name: str
    certificate_number: str
    type: str = Field(description="patent_attorney | trademark_agent")
    status: str = Field(description="active | left")
    joined_on: date
    left_on: date | None = None
    leave_reason: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime


class AnnualReportState(BaseModel):
    """An annual report. Only reports with status ``current`` count; a correction supersedes the
    earlier report (which then carries ``superseded_by``)."""

    id: str
    agency_id: str
    region: str
    year: int
    staff: int
    practitioners: int
    service_revenue: Decimal = Field(description="服务收入 in 元, a decimal string")
    filings_handled: int
    status: str = Field(description="current | superseded")
    submitted_on: date
    supersedes: str | None = None
    superseded_by: str | None = None
    supersede_reason: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime


class ComplaintState(BaseModel):
    """A complaint, without the complainant's contact (which never leaves the service)."""

    id: str
    agency_id: str
    region: str
    channel: str
    received_on: date
    content: str
    handling_working_days: int
    deadline: date
    deadline_provisional: bool = Field(
        description="Counted partly past the last year whose holiday arrangement was known; counted again "
        "(complaint.deadline_changed) once the calendar knows it"
    )
    deadline_known_through: int | None = Field(
        None, description="The last year whose holiday arrangement the calendar knew when the deadline was counted"
    )
    status: str = Field(description="open | resolved")
    outcome: str | None = Field(None, description="upheld | rejected | mediated")
    findings: str | None = None
    resolved_on: date | None = None
    resolved_on_time: bool | None = Field(None, description="resolved_on ≤ deadline; null while open")
    version: int
    created_at: datetime
    updated_at: datetime


class CreditEntryState(BaseModel):
    """An entry of the credit archive, and the agency's grade on the entry's date after it."""

    id: str
    agency_id: str
    region: str
    kind: str
    polarity: str = Field(description="commendation | violation")
    points: int
    occurred_on: date
    description: str
    reference: str | None = None
    source: str = Field(description="manual | complaint | inspection")
    source_id: str | None = None
    agency_grade: str
    agency_score: int
    version: int
    created_at: datetime


class EligibleAgency(BaseModel):
    agency_id: str
    name: str
    grade: str
    weight: int


class Inspector(BaseModel):
    id: str
    name: str


class DrawAssignment(BaseModel):
    inspection_id: str
    agency_id: str
    inspectors: list[Inspector]


class InspectionDrawState(BaseModel):
    """A random draw with its inputs (seed, eligible agencies with weights, inspector pool),
    so anyone can run it again."""

    id: str
    region: str
    drawn_on: date
    seed: int
    algorithm: str
    agency_count: int
    inspector_count: int
    grade_weights: dict[str, int]
    eligible_agencies: list[EligibleAgency]
    inspector_pool: list[Inspector]
    drawn_agencies: list[str]
    drawn_inspectors: list[str]
    assignments: list[DrawAssignment]
    version: int
    created_at: datetime


class InspectionState(BaseModel):
    """One drawn agency's inspection. Counted as an inspection by ``concluded_on`` and ``finding``."""

    id: str
    draw_id: str
    agency_id: str
    region: str
    inspectors: list[Inspector]
    drawn_on: date
    status: str = Field(description="pending | concluded")
    finding: str | None = Field(None, description="compliant | rectification_ordered | penalised")
    notes: str | None = None
    decision_reference: str | None = None
    concluded_on: date | None = None
    version: int
    created_at: datetime
    updated_at: datetime


class EvaluationState(BaseModel):
    id: str
    agency_id: str
    region: str
    year: int
    score: Decimal
    evaluator: str
    evaluated_on: date
    notes: str | None = None
    version: int
    created_at: datetime


AGENCY_FILED = "zhichan.agencies.agency.filed.v1"
AGENCY_UPDATED = "zhichan.agencies.agency.updated.v1"
AGENCY_APPROVED = "zhichan.agencies.agency.approved.v1"
AGENCY_SUSPENDED = "zhichan.agencies.agency.suspended.v1"
AGENCY_REINSTATED = "zhichan.agencies.agency.reinstated.v1"
AGENCY_DEREGISTERED = "zhichan.agencies.agency.deregistered.v1"
AGENCY_BRAND_LEVEL_CHANGED = "zhichan.agencies.agency.brand_level_changed.v1"
PRACTITIONER_JOINED = "zhichan.agencies.practitioner.joined.v1"
PRACTITIONER_LEFT = "zhichan.agencies.practitioner.left.v1"
ANNUAL_REPORT_SUBMITTED = "zhichan.agencies.annual_report.submitted.v1"
ANNUAL_REPORT_SUPERSEDED = "zhichan.agencies.annual_report.superseded.v1"
COMPLAINT_RECEIVED = "zhichan.agencies.complaint.received.v1"
COMPLAINT_RESOLVED = "zhichan.agencies.complaint.resolved.v1"
COMPLAINT_DEADLINE_CHANGED = "zhichan.agencies.complaint.deadline_changed.v1"
CREDIT_ENTRY_RECORDED = "zhichan.agencies.credit_entry.recorded.v1"
INSPECTION_DRAW_DRAWN = "zhichan.agencies.inspection_draw.drawn.v1"
INSPECTION_SCHEDULED = "zhichan.agencies.inspection.scheduled.v1"
INSPECTION_CONCLUDED = "zhichan.agencies.inspection.concluded.v1"
EVALUATION_RECORDED = "zhichan.agencies.evaluation.recorded.v1"

EVENTS: dict[str, tuple[type[BaseModel], str]] = {
    AGENCY_FILED: (AgencyState, "An agency filed (备案), awaiting review"),
    AGENCY_UPDATED: (AgencyState, "An agency's particulars changed"),
    AGENCY_APPROVED: (AgencyState, "A filing approved: the agency is active"),
    AGENCY_SUSPENDED: (AgencyState, "An agency suspended"),
    AGENCY_REINSTATED: (AgencyState, "A suspended agency active again"),
    AGENCY_DEREGISTERED: (AgencyState, "An agency deregistered (注销)"),
    AGENCY_BRAND_LEVEL_CHANGED: (AgencyState, "An agency's brand level decided (品牌机构认定), with the decision"),
    PRACTITIONER_JOINED: (PractitionerState, "A practitioner started practising at an agency"),
    PRACTITIONER_LEFT: (PractitionerState, "A practitioner left the agency (or the agency was deregistered)"),
    ANNUAL_REPORT_SUBMITTED: (AnnualReportState, "An annual report submitted (possibly superseding an earlier one)"),
    ANNUAL_REPORT_SUPERSEDED: (AnnualReportState, "An annual report replaced by a correction; it no longer counts"),
    COMPLAINT_RECEIVED: (ComplaintState, "A complaint against an agency received, with its handling deadline"),
    COMPLAINT_RESOLVED: (ComplaintState, "A complaint resolved (upheld, rejected or mediated)"),
    COMPLAINT_DEADLINE_CHANGED: (
        ComplaintState,
        "An open complaint's provisional deadline counted again with a year's holiday arrangement now known",
    ),
    CREDIT_ENTRY_RECORDED: (CreditEntryState, "A commendation or violation entered in the credit archive"),
    INSPECTION_DRAW_DRAWN: (InspectionDrawState, "A random inspection draw (双随机), with its seed and inputs"),
    INSPECTION_SCHEDULED: (InspectionState, "An agency drawn for inspection, with its inspectors"),
    INSPECTION_CONCLUDED: (InspectionState, "An inspection's finding recorded"),
    EVALUATION_RECORDED: (EvaluationState, "An agency's yearly performance evaluation recorded"),
}
