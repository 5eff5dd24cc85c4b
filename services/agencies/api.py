"""Routes of the agencies service: parse, authorise, call the use case, shape the answer."""

from __future__ import annotations

import inspect
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from services.agencies import domain, service
from services.agencies.schemas import (
    AgencyCreate,
    AgencyList,
    AgencyPublic,
    AgencyUpdate,
    AnnualReportCreate,
    AnnualReportList,
    AnnualReportPublic,
    BrandLevelChange,
    Channel,
    ComplaintCreate,
    ComplaintDetail,
    ComplaintList,
    ComplaintPublic,
    ComplaintResolve,
    CountedEntryPublic,
    CreditDisclosure,
    CreditDisclosureList,
    CreditEntryCreate,
    CreditEntryList,
    CreditEntryPublic,
    CreditPublic,
    DeadlineChangePublic,
    DeadlineRecountPublic,
    DrawCreate,
    DrawList,
    DrawOutcome,
    DrawPublic,
    DrawVerification,
    EvaluationCreate,
    EvaluationList,
    EvaluationPublic,
    Finding,
    FindingCreate,
    Grade,
    InspectionDisclosure,
    InspectionDisclosureList,
    InspectionList,
    InspectionPublic,
    Outcome,
    PractitionerCreate,
    PractitionerLeave,
    PractitionerList,
    PractitionerPublic,
    PractitionerStatus,
    PractitionerType,
    ServiceType,
    Status,
    Transition,
)
from services.agencies.settings import AgenciesRules
from zhichan.api.deps import PageDep, SessionDep
from zhichan.api.etag import etag_for
from zhichan.api.problems import PROBLEM_RESPONSES
from zhichan.auth import User, require_roles
from zhichan.workdays import WorkdayCalendar

router = APIRouter(prefix="/agencies", tags=["agencies"], responses=PROBLEM_RESPONSES)

Reader = Annotated[User, require_roles("officer", "auditor", "department")]
Writer = Annotated[User, require_roles("officer")]
Admin = Annotated[User, require_roles("admin")]


def _public(agency) -> AgencyPublic:
    return AgencyPublic.model_validate(service.agency_state(agency).model_dump())


@router.post("", status_code=201, response_model=AgencyPublic, summary="File an agency (备案)")
async def file_agency(body: AgencyCreate, session: SessionDep, user: Writer, response: Response) -> AgencyPublic:
    agency = await service.file_agency(session, body, user)
    response.headers["ETag"] = etag_for(agency.id, agency.version)
    response.headers["Location"] = f"/agencies/{agency.id}"
    return AgencyPublic.model_validate(agency.model_dump())


@router.get("", response_model=AgencyList, summary="List agencies")
async def list_agencies(
    session: SessionDep,
    user: Reader,
    page: PageDep,
    region: Annotated[str | None, Query(description="Region code; its descendants are included")] = None,
    status: Status | None = None,
    service_type: ServiceType | None = None,
    offline: bool | None = None,
    in_cluster: bool | None = None,
) -> AgencyList:
    rows, next_cursor = await service.list_agencies(
        session,
        user,
        page,
        region=region,
        status=status,
        service_type=service_type,
        offline=offline,
        in_cluster=in_cluster,
    )
    return AgencyList(items=[_public(a) for a in rows], next_cursor=next_cursor)


@router.get("/{agency_id}", response_model=AgencyPublic, summary="One agency, with its ETag")
async def get_agency(agency_id: str, session: SessionDep, user: Reader, response: Response) -> AgencyPublic:
    agency = await service.get_visible(session, agency_id, user)
    response.headers["ETag"] = etag_for(agency.id, agency.version)
    return _public(agency)


@router.patch("/{agency_id}", response_model=AgencyPublic, summary="Change particulars (needs If-Match)")
async def update_agency(
    agency_id: str,
    body: AgencyUpdate,
    session: SessionDep,
    user: Writer,
    response: Response,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> AgencyPublic:
    agency = await service.update_agency(session, agency_id, body, if_match, user)
    response.headers["ETag"] = etag_for(agency.id, agency.version)
    return _public(agency)


def _transition_route(action: str, summary: str):
    async def route(
        agency_id: str, session: SessionDep, user: Writer, response: Response, body: Transition | None = None
    ) -> AgencyPublic:
        agency = await service.transition(session, agency_id, action, body or Transition(), user)
        response.headers["ETag"] = etag_for(agency.id, agency.version)
        return _public(agency)

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

supervision = APIRouter(responses=PROBLEM_RESPONSES)
disclosure = APIRouter(prefix="/disclosure", tags=["disclosure (public)"], responses=PROBLEM_RESPONSES)
RegionQuery = Annotated[str | None, Query(description="Region code; its descendants are included")]


def get_rules(request: Request) -> AgenciesRules:
    return request.app.state.rules


RulesDep = Annotated[AgenciesRules, Depends(get_rules)]


def get_calendar(request: Request) -> WorkdayCalendar:
    return request.app.state.calendar


CalendarDep = Annotated[WorkdayCalendar, Depends(get_calendar)]


def _tagged(response: Response, row) -> None:
    response.headers["ETag"] = etag_for(row.id, row.version)


def _created(response: Response, row, location: str) -> None:
    _tagged(response, row)
    response.headers["Location"] = location


# Practitioners


@router.post(
    "/{agency_id}/practitioners",
    status_code=201,
    response_model=PractitionerPublic,
    tags=["practitioners"],
    summary="A practitioner starts practising at the agency",
)
async def join_practitioner(
    agency_id: str, body: PractitionerCreate, session: SessionDep, user: Writer, response: Response
) -> PractitionerPublic:
    practitioner = await service.join_practitioner(session, agency_id, body, user)
    _created(response, practitioner, f"/practitioners/{practitioner.id}")
    return PractitionerPublic.model_validate(practitioner, from_attributes=True)


@supervision.post(
    "/practitioners/{practitioner_id}/leave",
    response_model=PractitionerPublic,
    tags=["practitioners"],
    summary="A practitioner leaves the agency",
)
async def leave_practitioner(
    practitioner_id: str, session: SessionDep, user: Writer, response: Response, body: PractitionerLeave | None = None
) -> PractitionerPublic:
    practitioner = await service.leave_practitioner(session, practitioner_id, body or PractitionerLeave(), user)
    _tagged(response, practitioner)
    return PractitionerPublic.model_validate(practitioner, from_attributes=True)


@supervision.get(
    "/practitioners", response_model=PractitionerList, tags=["practitioners"], summary="List practitioners"
)
async def list_practitioners(
    session: SessionDep,
    user: Reader,
    page: PageDep,
    region: RegionQuery = None,
    type: PractitionerType | None = None,
    status: PractitionerStatus | None = None,
    agency_id: str | None = None,
    certificate_number: str | None = None,
) -> PractitionerList:
    rows, next_cursor = await service.list_practitioners(
        session,
        user,
        page,
        region=region,
        type=type,
        status=status,
        agency_id=agency_id,
        certificate_number=certificate_number,
    )
    return PractitionerList(
        items=[PractitionerPublic.model_validate(p, from_attributes=True) for p in rows], next_cursor=next_cursor
    )


@supervision.get(
    "/practitioners/{practitioner_id}",
    response_model=PractitionerPublic,
    tags=["practitioners"],
    summary="One practitioner",
)
async def get_practitioner(
    practitioner_id: str, session: SessionDep, user: Reader, response: Response
) -> PractitionerPublic:
    practitioner = await service.get_practitioner(session, practitioner_id, user)
    _tagged(response, practitioner)
    return PractitionerPublic.model_validate(practitioner, from_attributes=True)


# Annual reports


def _reports(rows, next_cursor) -> AnnualReportList:
    return AnnualReportList(
        items=[AnnualReportPublic.model_validate(r, from_attributes=True) for r in rows], next_cursor=next_cursor
    )


@router.post(
    "/{agency_id}/annual-reports",
    status_code=201,
    response_model=AnnualReportPublic,
    tags=["annual reports"],
    summary="Submit the annual report of a year (or correct it, with supersede_reason)",
)
async def submit_annual_report(
    agency_id: str, body: AnnualReportCreate, session: SessionDep, user: Writer, response: Response
) -> AnnualReportPublic:
    report = await service.submit_annual_report(session, agency_id, body, user)
    _created(response, report, f"/agencies/{agency_id}/annual-reports")
    return AnnualReportPublic.model_validate(report, from_attributes=True)


@router.get(
    "/{agency_id}/annual-reports",
    response_model=AnnualReportList,
    tags=["annual reports"],
    summary="The agency's annual reports",
)
async def agency_annual_reports(
    agency_id: str, session: SessionDep, user: Reader, page: PageDep, include_superseded: bool = False
) -> AnnualReportList:
    agency = await service.get_visible(session, agency_id, user)
    return _reports(
        *await service.list_annual_reports(
            session, user, page, agency_id=agency.id, include_superseded=include_superseded
        )
    )


@supervision.get(
    "/annual-reports", response_model=AnnualReportList, tags=["annual reports"], summary="Annual reports by region/year"
)
async def list_annual_reports(
    session: SessionDep,
    user: Reader,
    page: PageDep,
    region: RegionQuery = None,
    year: int | None = None,
    include_superseded: bool = False,
) -> AnnualReportList:
    return _reports(
        *await service.list_annual_reports(
            session, user, page, region=region, year=year, include_superseded=include_superseded
        )
    )


# Complaints


def _complaint(complaint) -> ComplaintPublic:
    return ComplaintPublic.model_validate(service.complaint_state(complaint).model_dump())


def _complaints(rows, next_cursor) -> ComplaintList:
    return ComplaintList(items=[_complaint(c) for c in rows], next_cursor=next_cursor)


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
    complaint = await service.receive_complaint(session, body, user, rules.complaint_handling_working_days, calendar)
    _created(response, complaint, f"/complaints/{complaint.id}")
    return _complaint(complaint)


@supervision.get("/complaints", response_model=ComplaintList, tags=["complaints"], summary="List complaints")
async def list_complaints(
    session: SessionDep,
    user: Reader,
    page: PageDep,
    region: RegionQuery = None,
    agency_id: str | None = None,
    status: Literal["open", "resolved"] | None = None,
    channel: Channel | None = None,
    outcome: Outcome | None = None,
) -> ComplaintList:
    return _complaints(
        *await service.list_complaints(
            session, user, page, region=region, agency_id=agency_id, status=status, channel=channel, outcome=outcome
        )
    )


@supervision.get(
    "/complaints/overdue",
    response_model=ComplaintList,
    tags=["complaints"],
    summary="Open complaints past their handling deadline, oldest deadline first",
)
async def overdue_complaints(
    session: SessionDep,
    user: Reader,
    page: PageDep,
    region: RegionQuery = None,
    as_of: Annotated[date | None, Query(description="Overdue on this date; default today")] = None,
) -> ComplaintList:
    return _complaints(*await service.overdue_complaints(session, user, page, region=region, as_of=as_of))


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
async def recompute_deadlines(session: SessionDep, user: Admin, calendar: CalendarDep) -> DeadlineRecountPublic:
    recount = await service.recount_provisional_deadlines(session, calendar, user)
    return DeadlineRecountPublic(
        known_through=recount.known_through,
        examined=recount.examined,
        changed=[DeadlineChangePublic.model_validate(change, from_attributes=True) for change in recount.changed],
    )


@supervision.get(
    "/complaints/{complaint_id}",
    response_model=ComplaintDetail,
    tags=["complaints"],
    summary="One complaint (the complainant's contact only for officers)",
)
async def get_complaint(complaint_id: str, session: SessionDep, user: Reader, response: Response) -> ComplaintDetail:
    complaint = await service.get_complaint(session, complaint_id, user)
    _tagged(response, complaint)
    contact = complaint.complainant_contact if user.has_any_role(["officer"]) else None
    return ComplaintDetail(**_complaint(complaint).model_dump(), complainant_contact=contact)


@supervision.post(
    "/complaints/{complaint_id}/resolve",
    response_model=ComplaintPublic,
    tags=["complaints"],
    summary="Resolve a complaint; an upheld one enters the credit archive",
)
async def resolve_complaint(
    complaint_id: str, body: ComplaintResolve, session: SessionDep, user: Writer, response: Response
) -> ComplaintPublic:
    complaint = await service.resolve_complaint(session, complaint_id, body, user)
    _tagged(response, complaint)
    return _complaint(complaint)


# Credit archive and grade


def _entry(entry) -> CreditEntryPublic:
    return CreditEntryPublic.model_validate(service.entry_fields(entry))


@router.post(
    "/{agency_id}/credit-entries",
    status_code=201,
    response_model=CreditEntryPublic,
    tags=["credit"],
    summary="Enter a commendation, penalty or abnormal filings in the credit archive",
)
async def record_credit_entry(
    agency_id: str, body: CreditEntryCreate, session: SessionDep, user: Writer, response: Response
) -> CreditEntryPublic:
    entry = await service.record_credit_entry(session, agency_id, body, user)
    response.headers["Location"] = f"/agencies/{agency_id}/credit"
    return _entry(entry)


@router.get(
    "/{agency_id}/credit-entries", response_model=CreditEntryList, tags=["credit"], summary="The whole credit archive"
)
async def list_credit_entries(agency_id: str, session: SessionDep, user: Reader, page: PageDep) -> CreditEntryList:
    rows, next_cursor = await service.list_credit_entries(session, agency_id, user, page)
    return CreditEntryList(items=[_entry(e) for e in rows], next_cursor=next_cursor)


@router.get("/{agency_id}/credit", response_model=CreditPublic, tags=["credit"], summary="The credit grade, and why")
async def credit(
    agency_id: str,
    session: SessionDep,
    user: Reader,
    as_of: Annotated[date | None, Query(description="Grade on this date; default today")] = None,
) -> CreditPublic:
    report = await service.credit_report(session, agency_id, user, as_of)
    return CreditPublic(
        agency_id=agency_id,
        as_of=report.as_of,
        grade=report.grade,
        score=report.score,
        window_from=report.window_from,
        counted=[CountedEntryPublic(**vars(c)) for c in report.counted],
        caps=report.caps,
        explanation=report.explanation,
        rule=inspect.cleandoc(domain.credit_grade.__doc__ or ""),
    )


@disclosure.get("/credit", response_model=CreditDisclosureList, summary="Agencies and their credit grades (public)")
async def disclose_credit(
    session: SessionDep, page: PageDep, region: RegionQuery = None, grade: Grade | None = None
) -> CreditDisclosureList:
    rows, next_cursor = await service.disclose_credit(session, page, region=region, grade=grade)
    return CreditDisclosureList(
        items=[
            CreditDisclosure(
                agency_id=a.id,
                name=a.name,
                uscc=a.uscc,
                region=a.region,
                status=a.status,
                brand_level=a.brand_level,
                grade=report.grade,
                as_of=report.as_of,
            )
            for a, report in rows
        ],
        next_cursor=next_cursor,
    )


# Random inspections


def _draw(draw, inspections) -> DrawPublic:
    return DrawPublic.model_validate(service.draw_state(draw, inspections).model_dump())


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
    draw, inspections = await service.draw_inspections(session, body, user, rules.draw_grade_weights)
    _created(response, draw, f"/inspections/draws/{draw.id}")
    return _draw(draw, inspections)


@supervision.get("/inspections/draws", response_model=DrawList, tags=["inspections"], summary="List draws")
async def list_draws(session: SessionDep, user: Reader, page: PageDep, region: RegionQuery = None) -> DrawList:
    rows, next_cursor = await service.list_draws(session, user, page, region=region)
    return DrawList(items=[_draw(d, i) for d, i in rows], next_cursor=next_cursor)


@supervision.get("/inspections/draws/{draw_id}", response_model=DrawPublic, tags=["inspections"], summary="One draw")
async def get_draw(draw_id: str, session: SessionDep, user: Reader, response: Response) -> DrawPublic:
    draw, inspections = await service.get_draw(session, draw_id, user)
    _tagged(response, draw)
    return _draw(draw, inspections)


@supervision.get(
    "/inspections/draws/{draw_id}/verify",
    response_model=DrawVerification,
    tags=["inspections", "disclosure (public)"],
    summary="Run a draw again from its recorded seed and lists (public)",
)
async def verify_draw(draw_id: str, session: SessionDep) -> DrawVerification:
    draw, result = await service.verify_draw(session, draw_id)
    recorded = DrawOutcome(agencies=draw.drawn_agencies, inspectors=draw.drawn_inspectors)
    recomputed = DrawOutcome(agencies=result.agencies, inspectors=result.inspectors)
    return DrawVerification(
        draw_id=draw.id,
        seed=draw.seed,
        algorithm=draw.algorithm,
        matches=recorded == recomputed,
        recorded=recorded,
        recomputed=recomputed,
    )


@supervision.get("/inspections", response_model=InspectionList, tags=["inspections"], summary="List inspections")
async def list_inspections(
    session: SessionDep,
    user: Reader,
    page: PageDep,
    region: RegionQuery = None,
    status: Literal["pending", "concluded"] | None = None,
    finding: Finding | None = None,
    agency_id: str | None = None,
    draw_id: str | None = None,
    year: Annotated[int | None, Query(description="Year drawn")] = None,
) -> InspectionList:
    rows, next_cursor = await service.list_inspections(
        session,
        user,
        page,
        region=region,
        status=status,
        finding=finding,
        agency_id=agency_id,
        draw_id=draw_id,
        year=year,
    )
    return InspectionList(
        items=[InspectionPublic.model_validate(i, from_attributes=True) for i in rows], next_cursor=next_cursor
    )


@supervision.get(
    "/inspections/{inspection_id}", response_model=InspectionPublic, tags=["inspections"], summary="One inspection"
)
async def get_inspection(inspection_id: str, session: SessionDep, user: Reader, response: Response) -> InspectionPublic:
    inspection = await service.get_inspection(session, inspection_id, user)
    _tagged(response, inspection)
    return InspectionPublic.model_validate(inspection, from_attributes=True)


@supervision.post(
    "/inspections/{inspection_id}/findings",
    response_model=InspectionPublic,
    tags=["inspections"],
    summary="Record what the inspection found; rectification or a penalty enters the credit archive",
)
async def record_finding(
    inspection_id: str, body: FindingCreate, session: SessionDep, user: Writer, response: Response
) -> InspectionPublic:
    inspection = await service.record_finding(session, inspection_id, body, user)
    _tagged(response, inspection)
    return InspectionPublic.model_validate(inspection, from_attributes=True)


@disclosure.get(
    "/inspections", response_model=InspectionDisclosureList, summary="Random inspections and their results (public)"
)
async def disclose_inspections(
    session: SessionDep,
    page: PageDep,
    region: RegionQuery = None,
    year: Annotated[int | None, Query(description="Year drawn")] = None,
    finding: Finding | None = None,
) -> InspectionDisclosureList:
    rows, next_cursor = await service.disclose_inspections(session, page, region=region, year=year, finding=finding)
    return InspectionDisclosureList(
        items=[
            InspectionDisclosure(
                inspection_id=i.id,
                draw_id=d.id,
                seed=d.seed,
                drawn_on=i.drawn_on,
                agency_id=a.id,
                agency_name=a.name,
                uscc=a.uscc,
                region=i.region,
                inspectors=[p["name"] for p in i.inspectors],
                status=i.status,
                finding=i.finding,
                decision_reference=i.decision_reference,
                concluded_on=i.concluded_on,
            )
            for i, a, d in rows
        ],
        next_cursor=next_cursor,
    )


# Evaluations and brand level


def _evaluations(rows, next_cursor) -> EvaluationList:
    return EvaluationList(
        items=[EvaluationPublic.model_validate(e, from_attributes=True) for e in rows], next_cursor=next_cursor
    )


@router.post(
    "/{agency_id}/evaluations",
    status_code=201,
    response_model=EvaluationPublic,
    tags=["evaluations"],
    summary="Record the agency's yearly performance evaluation",
)
async def record_evaluation(
    agency_id: str, body: EvaluationCreate, session: SessionDep, user: Writer, response: Response
) -> EvaluationPublic:
    evaluation = await service.record_evaluation(session, agency_id, body, user)
    _created(response, evaluation, f"/agencies/{agency_id}/evaluations")
    return EvaluationPublic.model_validate(evaluation, from_attributes=True)


@router.get(
    "/{agency_id}/evaluations", response_model=EvaluationList, tags=["evaluations"], summary="The agency's evaluations"
)
async def agency_evaluations(agency_id: str, session: SessionDep, user: Reader, page: PageDep) -> EvaluationList:
    agency = await service.get_visible(session, agency_id, user)
    return _evaluations(*await service.list_evaluations(session, user, page, agency_id=agency.id))


@supervision.get(
    "/evaluations", response_model=EvaluationList, tags=["evaluations"], summary="Evaluations, best score first"
)
async def list_evaluations(
    session: SessionDep, user: Reader, page: PageDep, region: RegionQuery = None, year: int | None = None
) -> EvaluationList:
    return _evaluations(*await service.list_evaluations(session, user, page, region=region, year=year))


@router.post(
    "/{agency_id}/brand-level",
    response_model=AgencyPublic,
    tags=["evaluations"],
    summary="Change the brand level (品牌机构) by a decision, recorded with its reference",
)
async def change_brand_level(
    agency_id: str, body: BrandLevelChange, session: SessionDep, user: Writer, response: Response
) -> AgencyPublic:
    agency = await service.change_brand_level(session, agency_id, body, user)
    response.headers["ETag"] = etag_for(agency.id, agency.version)
    return _public(agency)
