"""Request and response models of the agencies API."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from services.agencies.domain import (
    BRAND_LEVELS,
    COMPLAINT_CHANNELS,
    COMPLAINT_OUTCOMES,
    COMPLAINT_STATUSES,
    CREDIT_GRADES,
    CREDIT_KIND_LABELS,
    INSPECTION_FINDINGS,
    INSPECTION_STATUSES,
    MANUAL_CREDIT_KINDS,
    PRACTITIONER_STATUSES,
    PRACTITIONER_TYPES,
    REPORT_STATUSES,
    SERVICE_TYPES,
    STATUSES,
    CertificateError,
    normalise_certificate,
)
from zhichan.api.pagination import Page
from zhichan.api.scope import RegionQuery
from zhichan.fields import USCC, RegionCode, Year
from zhichan.money import FEN, Yuan, amount_pattern

ServiceType = SERVICE_TYPES.literal
BrandLevel = BRAND_LEVELS.literal
Status = STATUSES.literal
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Part(BaseModel):
    """A part of a public answer (an entry of a history, an inspector), made from the same part of
    the record's contract state."""

    model_config = ConfigDict(from_attributes=True)


class AgencyBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(examples=["镇江市知信专利代理事务所"])
    address: str | None = Field(None, max_length=500)
    service_types: list[ServiceType] = Field(min_length=1, examples=[["patent_agency", "consulting"]])
    licence_numbers: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]] = []
    offline: bool = Field(False, description="Has offline premises (线下)")
    in_cluster: bool = Field(False, description="Located in a service cluster (集聚区)")
    brand_level: BrandLevel = "none"

    @field_validator("service_types")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class AgencyCreate(AgencyBase):
    uscc: USCC = Field(description="统一社会信用代码 (GB 32100-2015)", examples=["91321191MA1MBD3K78"])
    region: RegionCode = Field(examples=["321100"])
    filed_on: date | None = Field(None, description="Filing date (备案日期); default today")


class AgencyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    address: str | None = Field(None, max_length=500)
    service_types: list[ServiceType] | None = Field(None, min_length=1)
    licence_numbers: list[str] | None = None
    offline: bool | None = None
    in_cluster: bool | None = None
    brand_level: BrandLevel | None = None


class Transition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: dt.date | None = Field(None, description="Business date the change takes effect; default today")
    reason: str | None = Field(None, max_length=1000)


class StatusChangePublic(Part):
    status: Status
    on: date
    at: datetime
    actor: str | None = None
    reason: str | None = None


class BrandDecisionPublic(Part):
    brand_level: BrandLevel
    previous_level: BrandLevel
    decided_on: date
    decision_reference: str
    at: datetime
    actor: str | None = None


class AgencyPublic(BaseModel):
    id: str
    name: str
    uscc: str
    region: str
    address: str | None
    service_types: list[ServiceType]
    licence_numbers: list[str]
    offline: bool
    in_cluster: bool
    brand_level: BrandLevel
    status: Status
    filed_on: date
    status_history: list[StatusChangePublic]
    brand_history: list[BrandDecisionPublic] = []
    version: int
    created_at: datetime
    updated_at: datetime


class AgencyList(Page[AgencyPublic]):
    pass


class AgencyFilter(BaseModel):
    """The query of ``GET /agencies``."""

    region: RegionQuery = None
    status: Status | None = None
    service_type: ServiceType | None = None
    offline: bool | None = None
    in_cluster: bool | None = None


# ---------------------------------------------------------------------------------------------
# Practitioners

PractitionerType = PRACTITIONER_TYPES.literal
PractitionerStatus = PRACTITIONER_STATUSES.literal
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
PastYear = Annotated[int, Field(ge=1980, le=2100, examples=[2025])]


class PractitionerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    type: PractitionerType
    certificate_number: str = Field(
        max_length=20,
        description="Patent attorney: 7 digits (province code + serial); trademark agent: TM + province + 6 digits",
        examples=["3200123"],
    )
    joined_on: date | None = Field(
        None, description="Starts practising at the agency on (not before leaving the previous one); default today"
    )

    @field_validator("certificate_number")
    @classmethod
    def _well_formed(cls, value: str, info: ValidationInfo) -> str:
        practitioner_type = info.data.get("type")
        if practitioner_type is None:  # the type itself is wrong; that error is reported
            return value
        try:
            return normalise_certificate(value, practitioner_type)
        except CertificateError as exc:
            raise ValueError(str(exc)) from None


class PractitionerLeave(BaseModel):
    model_config = ConfigDict(extra="forbid")

    left_on: date | None = Field(None, description="Date of leaving; default today")
    reason: Reason | None = None


class PractitionerPublic(BaseModel):
    id: str
    agency_id: str
    region: str
    name: str
    certificate_number: str
    type: PractitionerType
    status: PractitionerStatus
    joined_on: date
    left_on: date | None
    leave_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class PractitionerList(Page[PractitionerPublic]):
    pass


class PractitionerFilter(BaseModel):
    """The query of ``GET /practitioners``."""

    region: RegionQuery = None
    type: PractitionerType | None = None
    status: PractitionerStatus | None = None
    agency_id: str | None = None
    certificate_number: str | None = None


# ---------------------------------------------------------------------------------------------
# Annual reports


ReportStatus = REPORT_STATUSES.literal
MAX_REVENUE = Decimal("9999999999999.99")  # 15 significant digits: exact on every database


class AnnualReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: PastYear
    staff: int = Field(ge=0, description="从业人员")
    practitioners: int = Field(ge=0, description="执业人员 among the staff")
    service_revenue: Yuan = Field(
        description="服务收入 in 元, a decimal string",
        le=MAX_REVENUE,
        examples=["1234567.89"],
        json_schema_extra={"pattern": amount_pattern(digits=13)},
    )
    filings_handled: int = Field(ge=0, description="Filings (applications) handled in the year")
    supersede_reason: Reason | None = Field(
        None, description="To correct the year's current report: why. The earlier report stops counting."
    )

    @field_validator("service_revenue")
    @classmethod
    def _not_negative(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError("revenue is never negative")
        return value

    @field_validator("practitioners")
    @classmethod
    def _among_staff(cls, value: int, info: ValidationInfo) -> int:
        staff = info.data.get("staff")
        if staff is not None and value > staff:
            raise ValueError(f"{value} practitioners cannot exceed {staff} staff")
        return value


class AnnualReportPublic(BaseModel):
    id: str
    agency_id: str
    region: str
    year: int
    staff: int
    practitioners: int
    service_revenue: Yuan
    filings_handled: int
    status: ReportStatus
    submitted_on: date
    supersedes: str | None
    superseded_by: str | None
    supersede_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class AnnualReportList(Page[AnnualReportPublic]):
    pass


class AnnualReportFilter(BaseModel):
    """The query of ``GET /annual-reports``."""

    region: RegionQuery = None
    year: Year | None = None
    include_superseded: bool = False


# ---------------------------------------------------------------------------------------------
# Complaints

Channel = COMPLAINT_CHANNELS.literal
Outcome = COMPLAINT_OUTCOMES.literal
ComplaintStatus = COMPLAINT_STATUSES.literal


class ComplaintCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency_id: str = Field(max_length=26)
    channel: Channel
    received_on: date | None = Field(None, description="Date received; default today")
    content: Text
    complainant_contact: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = Field(
        None, description="Kept private: shown on the single complaint only, whole to officers, masked to other readers"
    )


class ComplaintResolve(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Outcome
    findings: Text
    resolved_on: date | None = Field(None, description="Date resolved; default today")


class ComplaintPublic(BaseModel):
    id: str
    agency_id: str
    region: str
    channel: Channel
    received_on: date
    content: str
    handling_working_days: int
    deadline: date = Field(description="The handling_working_days-th working day after received_on")
    deadline_provisional: bool = Field(description="Counted partly past the published holiday arrangements")
    deadline_known_through: int | None = Field(
        description="Counted with the holiday arrangements published up to this year (null: not recorded)"
    )
    status: ComplaintStatus
    outcome: Outcome | None
    findings: str | None
    resolved_on: date | None
    resolved_on_time: bool | None
    version: int
    created_at: datetime
    updated_at: datetime


class ComplaintDetail(ComplaintPublic):
    complainant_contact: str | None = Field(
        None, description="Whole for officers; masked (李** 138****5678) for auditors and departments"
    )


class ComplaintList(Page[ComplaintPublic]):
    pass


class ComplaintFilter(BaseModel):
    """The query of ``GET /complaints``."""

    region: RegionQuery = None
    agency_id: str | None = None
    status: ComplaintStatus | None = None
    channel: Channel | None = None
    outcome: Outcome | None = None


class DeadlineChangePublic(BaseModel):
    complaint_id: str
    region: str
    received_on: date
    handling_working_days: int
    previous_deadline: date
    previous_provisional: bool
    deadline: date
    deadline_provisional: bool
    version: int = Field(description="The complaint's version after the change")


class DeadlineRecountPublic(BaseModel):
    known_through: int = Field(description="The last year whose holiday arrangement the calendar knows")
    examined: int = Field(
        description="Open complaints whose provisional deadline was counted with fewer years known, counted again"
    )
    changed: list[DeadlineChangePublic] = Field(description="Those whose deadline or provisional flag changed")


# ---------------------------------------------------------------------------------------------
# Credit archive and grade

CreditKind = CREDIT_KIND_LABELS.literal
ManualCreditKind = Literal[MANUAL_CREDIT_KINDS]
Grade = CREDIT_GRADES.literal


class CreditEntryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ManualCreditKind
    occurred_on: date = Field(description="Date of the decision or event")
    description: Reason
    reference: Reference | None = Field(None, description="Decision reference (文号)")
    points: int | None = Field(
        None, ge=1, le=100, description="Weight; default the kind's (see the rule in /agencies/{id}/credit)"
    )


class CreditEntryPublic(BaseModel):
    id: str
    agency_id: str
    region: str
    kind: CreditKind
    polarity: Literal["commendation", "violation"]
    points: int
    occurred_on: date
    description: str
    reference: str | None
    source: Literal["manual", "complaint", "inspection"]
    source_id: str | None
    version: int
    created_at: datetime


class CountedEntryPublic(BaseModel):
    id: str
    kind: CreditKind
    occurred_on: date
    effect: int = Field(description="Points added (commendation) or taken off (violation, negative)")


class CreditPublic(BaseModel):
    agency_id: str
    as_of: date
    grade: Grade
    score: int
    window_from: date = Field(description="Entries dated after this day count (three years)")
    counted: list[CountedEntryPublic]
    caps: list[str]
    explanation: list[str]
    rule: str


class CreditEntryList(Page[CreditEntryPublic]):
    pass


class CreditDisclosure(BaseModel):
    agency_id: str
    name: str
    uscc: str
    region: str
    status: Status
    brand_level: BrandLevel
    grade: Grade
    as_of: date


class CreditDisclosureList(Page[CreditDisclosure]):
    pass


# ---------------------------------------------------------------------------------------------
# Random inspections

Finding = INSPECTION_FINDINGS.literal
InspectionStatus = INSPECTION_STATUSES.literal
DrawnYear = Annotated[Year | None, Field(description="Year drawn")]
MAX_SEED = 2**63 - 1


class InspectorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class GradeWeights(BaseModel):
    model_config = ConfigDict(extra="forbid")

    A: int = Field(ge=1, le=1000)
    B: int = Field(ge=1, le=1000)
    C: int = Field(ge=1, le=1000)
    D: int = Field(ge=1, le=1000)


class DrawCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: RegionCode = Field(description="Active agencies of this region (descendants included) are eligible")
    agency_count: int = Field(ge=1, le=1000)
    inspector_count: int = Field(
        ge=2,
        le=1000,
        description="Inspectors to draw from the pool; even: they go in pairs",
        json_schema_extra={"multipleOf": 2},
    )
    inspector_pool: list[InspectorIn] = Field(min_length=2, max_length=5000, description="执法检查人员名录")
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="Default: a fresh random seed, recorded")
    grade_weights: GradeWeights | None = Field(None, description="Draw weight per credit grade; default configured")

    @field_validator("inspector_count")
    @classmethod
    def _even(cls, value: int) -> int:
        if value % 2:
            raise ValueError("inspectors go in pairs: an even number")
        return value

    @field_validator("inspector_pool")
    @classmethod
    def _distinct(cls, value: list[InspectorIn]) -> list[InspectorIn]:
        ids = [i.id for i in value]
        if len(set(ids)) != len(ids):
            raise ValueError("inspector ids repeat")
        return value


class InspectorPublic(Part):
    id: str
    name: str


class EligibleAgencyPublic(Part):
    agency_id: str
    name: str
    grade: Grade
    weight: int


class DrawAssignmentPublic(Part):
    inspection_id: str
    agency_id: str
    inspectors: list[InspectorPublic]


class DrawPublic(BaseModel):
    id: str
    region: str
    drawn_on: date
    seed: int
    algorithm: str
    agency_count: int
    inspector_count: int
    grade_weights: dict[str, int]
    eligible_agencies: list[EligibleAgencyPublic]
    inspector_pool: list[InspectorPublic]
    drawn_agencies: list[str]
    drawn_inspectors: list[str]
    assignments: list[DrawAssignmentPublic]
    version: int
    created_at: datetime


class DrawList(Page[DrawPublic]):
    pass


class DrawOutcome(BaseModel):
    agencies: list[str]
    inspectors: list[str]


class DrawVerification(BaseModel):
    draw_id: str
    seed: int
    algorithm: str
    matches: bool = Field(description="Whether running the draw again gives the recorded result")
    recorded: DrawOutcome
    recomputed: DrawOutcome


class FindingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    finding: Finding
    notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] | None = None
    decision_reference: Reference | None = Field(
        None, validate_default=True, description="Penalty decision (处罚决定书文号); needed if penalised"
    )
    concluded_on: date | None = Field(None, description="Default today")

    @field_validator("decision_reference")
    @classmethod
    def _penalty_has_a_decision(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("finding") == "penalised" and not value:
            raise ValueError("a penalty needs its decision reference")
        return value


class InspectionPublic(BaseModel):
    id: str
    draw_id: str
    agency_id: str
    region: str
    inspectors: list[InspectorPublic]
    drawn_on: date
    status: InspectionStatus
    finding: Finding | None
    notes: str | None
    decision_reference: str | None
    concluded_on: date | None
    version: int
    created_at: datetime
    updated_at: datetime


class InspectionList(Page[InspectionPublic]):
    pass


class InspectionFilter(BaseModel):
    """The query of ``GET /inspections``."""

    region: RegionQuery = None
    status: InspectionStatus | None = None
    finding: Finding | None = None
    agency_id: str | None = None
    draw_id: str | None = None
    year: DrawnYear = None


class InspectionDisclosure(BaseModel):
    inspection_id: str
    draw_id: str
    seed: int
    drawn_on: date
    agency_id: str
    agency_name: str
    uscc: str
    region: str
    inspectors: list[str] = Field(description="Inspectors' names")
    status: InspectionStatus
    finding: Finding | None
    decision_reference: str | None
    concluded_on: date | None


class InspectionDisclosureList(Page[InspectionDisclosure]):
    pass


class InspectionDisclosureFilter(BaseModel):
    """The query of ``GET /disclosure/inspections``."""

    region: RegionQuery = None
    year: DrawnYear = None
    finding: Finding | None = None


# ---------------------------------------------------------------------------------------------
# Evaluations and brand level


class EvaluationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: PastYear
    score: Decimal = Field(
        ge=0,
        le=100,
        max_digits=5,
        decimal_places=2,
        examples=["92.5"],
        json_schema_extra={"pattern": r"^(100(\.00?)?|[0-9]{1,2}(\.[0-9]{1,2})?)$"},
    )
    evaluator: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    evaluated_on: date | None = Field(None, description="Default today")
    notes: Reason | None = None

    @field_validator("score")
    @classmethod
    def _to_hundredths(cls, value: Decimal) -> Decimal:
        return value.quantize(FEN)


class EvaluationPublic(BaseModel):
    id: str
    agency_id: str
    region: str
    year: int
    score: Decimal
    evaluator: str
    evaluated_on: date
    notes: str | None
    version: int
    created_at: datetime


class EvaluationList(Page[EvaluationPublic]):
    pass


class BrandLevelChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    brand_level: BrandLevel
    decision_reference: Reference = Field(description="The decision naming the brand agency (认定文件文号)")
    decided_on: date | None = Field(None, description="Date of the decision; default today")


# ---------------------------------------------------------------------------------------------
# Records from another system (a spreadsheet's row, a push by natural key)


class AgencyRecord(AgencyCreate):
    """An agency as another system holds it: its filing and, as business dates, each change of
    status since. Importing it files the agency and takes each change on its date, as the
    routes would have; a change already recorded is left as it is."""

    filed_on: date = Field(description="Filing date (备案日期)")
    approved_on: date | None = Field(None, description="审核通过")
    suspended_on: date | None = Field(None, description="暂停 (one suspension a record)")
    reinstated_on: date | None = Field(None, description="恢复")
    deregistered_on: date | None = Field(None, description="注销")


class PractitionerRecord(PractitionerCreate):
    """A practitioner's spell at an agency as another system holds it: joined and, once left, the
    date and reason."""

    agency_uscc: USCC = Field(description="The agency's USCC")
    joined_on: date = Field(description="Started practising at the agency on")
    left_on: date | None = Field(None, description="Left the agency on")
    leave_reason: Reason | None = None


class AnnualReportRecord(AnnualReportCreate):
    """An annual report as another system holds it: of the agency of a USCC, submitted on a date."""

    agency_uscc: USCC = Field(description="The agency's USCC")
    submitted_on: date | None = Field(None, description="Submitted on; default today")


class ComplaintRecord(BaseModel):
    """A complaint as another system holds it: received and, once resolved, the date, outcome and
    findings."""

    model_config = ConfigDict(extra="forbid")

    agency_uscc: USCC = Field(description="The USCC of the agency complained against")
    channel: Channel
    received_on: date
    content: Text
    complainant_contact: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    resolved_on: date | None = None
    outcome: Outcome | None = None
    findings: Text | None = None
