"""Routes of the agencies service: parse, authorise, call the use case, shape the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from services.agencies.schemas import (
    AgencyCreate,
    AgencyFilter,
    AgencyList,
    AgencyPublic,
    AgencyRecord,
    AgencyUpdate,
    AnnualReportCreate,
    AnnualReportFilter,
    AnnualReportList,
    AnnualReportPublic,
    BrandLevelChange,
    ComplaintCreate,
    ComplaintDetail,
    ComplaintFilter,
    ComplaintList,
    ComplaintPublic,
    ComplaintResolve,
    CreditDisclosureList,
    CreditEntryCreate,
    CreditEntryList,
    CreditEntryPublic,
    CreditPublic,
    DeadlineRecountPublic,
    DrawCreate,
    DrawList,
    DrawPublic,
    DrawVerification,
    EvaluationCreate,
    EvaluationList,
    EvaluationPublic,
    FindingCreate,
    Grade,
    InspectionDisclosureFilter,
    InspectionDisclosureList,
    InspectionFilter,
    InspectionList,
    InspectionPublic,
    PractitionerCreate,
    PractitionerFilter,
    PractitionerLeave,
    PractitionerList,
    PractitionerPublic,
    Transition,
)
from services.agencies.service import (
    agency_import,
    annual_report_import,
    annual_reports,
    complaint_import,
    complaints,
    credit,
    evaluations,
    filings,
    inspections,
    practitioner_import,
    practitioners,
)
from services.agencies.settings import AgenciesRules
from zhichan import tabular
from zhichan.api.answers import answer, listing, shape
from zhichan.api.deps import PageDep, SessionDep
from zhichan.api.etag import IfMatch, IfMatchRequired
from zhichan.api.import_routes import KindOf, add_import_routes
from zhichan.api.problems import Invalid
from zhichan.api.scope import RegionQuery
from zhichan.auth import Reader, User, Writer, require_roles
from zhichan.fields import USCC, Day, Key
from zhichan.jobs import Jobs
from zhichan.record_import import RecordKind
from zhichan.workdays import WorkdayCalendar

router = APIRouter(prefix="/agencies", tags=["agencies"])

Admin = Annotated[User, require_roles("admin")]


@router.post("", status_code=201, response_model=AgencyPublic, summary="File an agency (备案)")
async def file_agency(body: AgencyCreate, session: SessionDep, user: Writer, response: Response) -> AgencyPublic:
    state = await filings.file_agency(session, body, user)
    return answer(response, AgencyPublic, state, location=f"/agencies/{state.id}")


@router.get("", response_model=AgencyList, summary="List agencies")
async def list_agencies(
    session: SessionDep, user: Reader, page: PageDep, filters: Annotated[AgencyFilter, Query()]
) -> AgencyList:
    return listing(AgencyList, AgencyPublic, await filings.list_agencies(session, user, page, filters))


@router.get("/{agency_id}", response_model=AgencyPublic, summary="One agency, with its ETag")
async def get_agency(agency_id: Key, session: SessionDep, user: Reader, response: Response) -> AgencyPublic:
    return answer(response, AgencyPublic, await filings.get_agency(session, agency_id, user))


@router.patch("/{agency_id}", response_model=AgencyPublic, summary="Change particulars (needs If-Match)")
async def update_agency(
    agency_id: Key,
    body: AgencyUpdate,
    session: SessionDep,
    user: Writer,
    response: Response,
    if_match: IfMatchRequired = None,
) -> AgencyPublic:
    return answer(response, AgencyPublic, await filings.update_agency(session, agency_id, body, if_match, user))


def _transition_route(action: str, summary: str):
    async def route(
        agency_id: Key, session: SessionDep, user: Writer, response: Response, body: Transition | None = None
    ) -> AgencyPublic:
        state = await filings.transition(session, agency_id, action, body or Transition(), user)
        return answer(response, AgencyPublic, state)

    route.__name__ = f"{action}_agency"
    router.add_api_route(
        f"/{{agency_id}}/{action}", route, methods=["POST"], response_model=AgencyPublic, summary=summary
    )


_transition_route("approve", "Approve a filing: filed → active")
_transition_route("suspend", "Suspend: active → suspended")
_transition_route("reinstate", "Reinstate: suspended → active")
_transition_route("deregister", "Deregister (注销): filed | active | suspended → deregistered")


# ---------------------------------------------------------------------------------------------
# Supervision: practitioners, annual reports, complaints, credit, inspections, evaluations

supervision = APIRouter()
disclosure = APIRouter(prefix="/disclosure", tags=["disclosure (public)"])


def get_rules(request: Request) -> AgenciesRules:
    return request.app.state.rules


RulesDep = Annotated[AgenciesRules, Depends(get_rules)]


def get_calendar(request: Request) -> WorkdayCalendar:
    return request.app.state.calendar


CalendarDep = Annotated[WorkdayCalendar, Depends(get_calendar)]


# Practitioners


@router.post(
    "/{agency_id}/practitioners",
    status_code=201,
    response_model=PractitionerPublic,
    tags=["practitioners"],
    summary="A practitioner starts practising at the agency",
)
async def join_practitioner(
    agency_id: Key, body: PractitionerCreate, session: SessionDep, user: Writer, response: Response
) -> PractitionerPublic:
    state = await practitioners.join_practitioner(session, agency_id, body, user)
    return answer(response, PractitionerPublic, state, location=f"/practitioners/{state.id}")


@supervision.post(
    "/practitioners/{practitioner_id}/leave",
    response_model=PractitionerPublic,
    tags=["practitioners"],
    summary="A practitioner leaves the agency",
)
async def leave_practitioner(
    practitioner_id: Key, session: SessionDep, user: Writer, response: Response, body: PractitionerLeave | None = None
) -> PractitionerPublic:
    state = await practitioners.leave_practitioner(session, practitioner_id, body or PractitionerLeave(), user)
    return answer(response, PractitionerPublic, state)


@supervision.get(
    "/practitioners", response_model=PractitionerList, tags=["practitioners"], summary="List practitioners"
)
async def list_practitioners(
    session: SessionDep, user: Reader, page: PageDep, filters: Annotated[PractitionerFilter, Query()]
) -> PractitionerList:
    return listing(
        PractitionerList, PractitionerPublic, await practitioners.list_practitioners(session, user, page, filters)
    )


@supervision.get(
    "/practitioners/{practitioner_id}",
    response_model=PractitionerPublic,
    tags=["practitioners"],
    summary="One practitioner",
)
async def get_practitioner(
    practitioner_id: Key, session: SessionDep, user: Reader, response: Response
) -> PractitionerPublic:
    return answer(response, PractitionerPublic, await practitioners.get_practitioner(session, practitioner_id, user))


# Annual reports


@router.post(
    "/{agency_id}/annual-reports",
    status_code=201,
    response_model=AnnualReportPublic,
    tags=["annual reports"],
    summary="Submit the annual report of a year (or correct it, with supersede_reason)",
)
async def submit_annual_report(
    agency_id: Key, body: AnnualReportCreate, session: SessionDep, user: Writer, response: Response
) -> AnnualReportPublic:
    state = await annual_reports.submit_annual_report(session, agency_id, body, user)
    return answer(response, AnnualReportPublic, state, location=f"/agencies/{agency_id}/annual-reports")


@router.get(
    "/{agency_id}/annual-reports",
    response_model=AnnualReportList,
    tags=["annual reports"],
    summary="The agency's annual reports",
)
async def list_agency_annual_reports(
    agency_id: Key, session: SessionDep, user: Reader, page: PageDep, include_superseded: bool = False
) -> AnnualReportList:
    reports = await annual_reports.agency_annual_reports(session, agency_id, user, page, include_superseded)
    return listing(AnnualReportList, AnnualReportPublic, reports)


@supervision.get(
    "/annual-reports", response_model=AnnualReportList, tags=["annual reports"], summary="Annual reports by region/year"
)
async def list_annual_reports(
    session: SessionDep, user: Reader, page: PageDep, filters: Annotated[AnnualReportFilter, Query()]
) -> AnnualReportList:
    reports = await annual_reports.list_annual_reports(session, user, page, filters)
    return listing(AnnualReportList, AnnualReportPublic, reports)


# Complaints


@supervision.post(
    "/complaints", status_code=201, response_model=ComplaintPublic, tags=["complaints"], summary="Receive a complaint"
)
async def receive_complaint(
    body: ComplaintCreate,
    session: SessionDep,
    user: Writer,
    rules: RulesDep,
    calendar: CalendarDep,
    response: Response,
) -> ComplaintPublic:
    state = await complaints.receive_complaint(session, body, user, rules.complaint_handling_working_days, calendar)
    return answer(response, ComplaintPublic, state, location=f"/complaints/{state.id}")


@supervision.get("/complaints", response_model=ComplaintList, tags=["complaints"], summary="List complaints")
async def list_complaints(
    session: SessionDep, user: Reader, page: PageDep, filters: Annotated[ComplaintFilter, Query()]
) -> ComplaintList:
    return listing(ComplaintList, ComplaintPublic, await complaints.list_complaints(session, user, page, filters))


@supervision.get(
    "/complaints/overdue",
    response_model=ComplaintList,
    tags=["complaints"],
    summary="Open complaints past their handling deadline, oldest deadline first",
)
async def list_overdue_complaints(
    session: SessionDep,
    user: Reader,
    page: PageDep,
    region: RegionQuery = None,
    as_of: Annotated[Day | None, Query(description="Overdue on this date; default today")] = None,
) -> ComplaintList:
    overdue = await complaints.overdue_complaints(session, user, page, region, as_of)
    return listing(ComplaintList, ComplaintPublic, overdue)


@supervision.post(
    "/complaints/deadlines/recompute",
    response_model=DeadlineRecountPublic,
    tags=["complaints"],
    summary="Count provisional deadlines again with the holiday arrangements known now (admin)",
    description="An open complaint's deadline is provisional when it was counted into a year whose holiday "
    "arrangement (国务院办公厅 节假日安排) the service's calendar did not know yet. The service counts them again "
    "by itself when it starts; this does it on demand (after a rolling upgrade, for complaints an old replica "
    "received). Each change is stored and published as zhichan.agencies.complaint.deadline_changed.v1; a second "
    "run changes nothing.",
)
async def recompute_complaint_deadlines(
    session: SessionDep, user: Admin, calendar: CalendarDep
) -> DeadlineRecountPublic:
    return await complaints.recount_provisional_deadlines(session, calendar, user)


@supervision.get(
    "/complaints/{complaint_id}",
    response_model=ComplaintDetail,
    tags=["complaints"],
    summary="One complaint (the complainant's contact whole only for officers)",
)
async def get_complaint(complaint_id: Key, session: SessionDep, user: Reader, response: Response) -> ComplaintDetail:
    state, private = await complaints.get_complaint(session, complaint_id, user)
    return answer(response, ComplaintDetail, state, **private)


@supervision.post(
    "/complaints/{complaint_id}/resolve",
    response_model=ComplaintPublic,
    tags=["complaints"],
    summary="Resolve a complaint; an upheld one enters the credit archive",
)
async def resolve_complaint(
    complaint_id: Key, body: ComplaintResolve, session: SessionDep, user: Writer, response: Response
) -> ComplaintPublic:
    return answer(response, ComplaintPublic, await complaints.resolve_complaint(session, complaint_id, body, user))


# Credit archive and grade


@router.post(
    "/{agency_id}/credit-entries",
    status_code=201,
    response_model=CreditEntryPublic,
    tags=["credit"],
    summary="Enter a commendation, penalty or abnormal filings in the credit archive",
)
async def record_credit_entry(
    agency_id: Key, body: CreditEntryCreate, session: SessionDep, user: Writer, response: Response
) -> CreditEntryPublic:
    state = await credit.record_credit_entry(session, agency_id, body, user)
    response.headers["Location"] = f"/agencies/{agency_id}/credit"  # an entry is read in the archive, untagged
    return shape(CreditEntryPublic, state)


@router.get(
    "/{agency_id}/credit-entries", response_model=CreditEntryList, tags=["credit"], summary="The whole credit archive"
)
async def list_credit_entries(agency_id: Key, session: SessionDep, user: Reader, page: PageDep) -> CreditEntryList:
    entries = await credit.list_credit_entries(session, agency_id, user, page)
    return listing(CreditEntryList, CreditEntryPublic, entries)


@router.get(
    "/{agency_id}/credit",
    response_model=CreditPublic,
    tags=["credit"],
    summary="The credit grade, and why",
)
async def get_credit_grade(
    agency_id: Key,
    session: SessionDep,
    user: Reader,
    as_of: Annotated[Day | None, Query(description="Grade on this date; default today")] = None,
) -> CreditPublic:
    return await credit.credit_report(session, agency_id, user, as_of)


@disclosure.get("/credit", response_model=CreditDisclosureList, summary="Agencies and their credit grades (public)")
async def disclose_credit(
    session: SessionDep, page: PageDep, region: RegionQuery = None, grade: Grade | None = None
) -> CreditDisclosureList:
    return await credit.disclose_credit(session, page, region, grade)


# Random inspections


@supervision.post(
    "/inspections/draws",
    status_code=201,
    response_model=DrawPublic,
    tags=["inspections"],
    summary="Draw agencies and inspector pairs at random (双随机); grade C and D weigh more",
)
async def draw_inspections(
    body: DrawCreate, session: SessionDep, user: Writer, rules: RulesDep, response: Response
) -> DrawPublic:
    state = await inspections.draw_inspections(session, body, user, rules.draw_grade_weights)
    return answer(response, DrawPublic, state, location=f"/inspections/draws/{state.id}")


@supervision.get("/inspections/draws", response_model=DrawList, tags=["inspections"], summary="List draws")
async def list_draws(session: SessionDep, user: Reader, page: PageDep, region: RegionQuery = None) -> DrawList:
    return listing(DrawList, DrawPublic, await inspections.list_draws(session, user, page, region))


@supervision.get("/inspections/draws/{draw_id}", response_model=DrawPublic, tags=["inspections"], summary="One draw")
async def get_draw(draw_id: Key, session: SessionDep, user: Reader, response: Response) -> DrawPublic:
    return answer(response, DrawPublic, await inspections.get_draw(session, draw_id, user))


@supervision.get(
    "/inspections/draws/{draw_id}/verify",
    response_model=DrawVerification,
    tags=["inspections", "disclosure (public)"],
    summary="Run a draw again from its recorded seed and lists (public)",
)
async def verify_draw(draw_id: Key, session: SessionDep) -> DrawVerification:
    return await inspections.verify_draw(session, draw_id)


@supervision.get("/inspections", response_model=InspectionList, tags=["inspections"], summary="List inspections")
async def list_inspections(
    session: SessionDep, user: Reader, page: PageDep, filters: Annotated[InspectionFilter, Query()]
) -> InspectionList:
    return listing(InspectionList, InspectionPublic, await inspections.list_inspections(session, user, page, filters))


@supervision.get(
    "/inspections/{inspection_id}", response_model=InspectionPublic, tags=["inspections"], summary="One inspection"
)
async def get_inspection(inspection_id: Key, session: SessionDep, user: Reader, response: Response) -> InspectionPublic:
    return answer(response, InspectionPublic, await inspections.get_inspection(session, inspection_id, user))


@supervision.post(
    "/inspections/{inspection_id}/findings",
    response_model=InspectionPublic,
    tags=["inspections"],
    summary="Record what the inspection found; rectification or a penalty enters the credit archive",
)
async def record_finding(
    inspection_id: Key, body: FindingCreate, session: SessionDep, user: Writer, response: Response
) -> InspectionPublic:
    return answer(response, InspectionPublic, await inspections.record_finding(session, inspection_id, body, user))


@disclosure.get(
    "/inspections", response_model=InspectionDisclosureList, summary="Random inspections and their results (public)"
)
async def disclose_inspections(
    session: SessionDep, page: PageDep, filters: Annotated[InspectionDisclosureFilter, Query()]
) -> InspectionDisclosureList:
    return await inspections.disclose_inspections(session, page, filters)


# Evaluations and brand level


@router.post(
    "/{agency_id}/evaluations",
    status_code=201,
    response_model=EvaluationPublic,
    tags=["evaluations"],
    summary="Record the agency's yearly performance evaluation",
)
async def record_evaluation(
    agency_id: Key, body: EvaluationCreate, session: SessionDep, user: Writer, response: Response
) -> EvaluationPublic:
    state = await evaluations.record_evaluation(session, agency_id, body, user)
    return answer(response, EvaluationPublic, state, location=f"/agencies/{agency_id}/evaluations")


@router.get(
    "/{agency_id}/evaluations", response_model=EvaluationList, tags=["evaluations"], summary="The agency's evaluations"
)
async def list_agency_evaluations(agency_id: Key, session: SessionDep, user: Reader, page: PageDep) -> EvaluationList:
    return listing(
        EvaluationList, EvaluationPublic, await evaluations.agency_evaluations(session, agency_id, user, page)
    )


@supervision.get(
    "/evaluations", response_model=EvaluationList, tags=["evaluations"], summary="Evaluations, best score first"
)
async def list_evaluations(
    session: SessionDep, user: Reader, page: PageDep, region: RegionQuery = None, year: int | None = None
) -> EvaluationList:
    return listing(
        EvaluationList, EvaluationPublic, await evaluations.list_evaluations(session, user, page, region, year)
    )


@router.post(
    "/{agency_id}/brand-level",
    response_model=AgencyPublic,
    tags=["evaluations"],
    summary="Change the brand level (品牌机构) by a decision, recorded with its reference",
)
async def change_brand_level(
    agency_id: Key, body: BrandLevelChange, session: SessionDep, user: Writer, response: Response
) -> AgencyPublic:
    return answer(response, AgencyPublic, await filings.change_brand_level(session, agency_id, body, user))


# ---------------------------------------------------------------------------------------------
# Records from another system: a spreadsheet of each kind, an agency pushed by its USCC

IMPORT_JOBS = Jobs()


def _import_routes(records: str, columns: list[tabular.Column], examples: list[dict], kind_of: KindOf) -> None:
    tags = [records.replace("-", " ")]
    add_import_routes(supervision, records, kind_of, columns, examples, IMPORT_JOBS, tags=tags)


def _complaints_of(request: Request) -> RecordKind:
    return complaint_import.kind(request.app.state.rules.complaint_handling_working_days, request.app.state.calendar)


_import_routes("agencies", agency_import.COLUMNS, agency_import.EXAMPLES, lambda request: agency_import.AGENCIES)
_import_routes(
    "practitioners",
    practitioner_import.COLUMNS,
    practitioner_import.EXAMPLES,
    lambda request: practitioner_import.PRACTITIONERS,
)
_import_routes(
    "annual-reports",
    annual_report_import.COLUMNS,
    annual_report_import.EXAMPLES,
    lambda request: annual_report_import.ANNUAL_REPORTS,
)
_import_routes("complaints", complaint_import.COLUMNS, complaint_import.EXAMPLES, _complaints_of)


@router.put(
    "/by-uscc/{uscc}",
    response_model=AgencyPublic,
    summary="Push an agency by its USCC: filed (201), or brought to the record's dates and particulars (200)",
    description="For a system that keeps its own records: the body is the whole record, as a row of the import "
    "(`POST /agencies/import`) is. `If-Match`, when sent, must name the agency's current version.",
    responses={201: {"model": AgencyPublic, "description": "The agency was filed"}},
)
async def record_agency_by_uscc(
    uscc: USCC,
    body: AgencyRecord,
    session: SessionDep,
    user: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> AgencyPublic:
    if body.uscc != uscc:
        raise Invalid.field(["uscc"], f"the body's uscc {body.uscc!r} is not the path's {uscc!r}")
    state, outcome = await agency_import.put_record(session, body, user, if_match)
    created = outcome == "created"
    response.status_code = 201 if created else 200
    return answer(response, AgencyPublic, state, location=f"/agencies/{state.id}" if created else None)
