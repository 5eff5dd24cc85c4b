"""Agency use cases: load, apply the rule, write the row and its outbox event in one transaction,
and return the contract state (``zhichan/PLUMBING.md``)."""

from __future__ import annotations

import inspect
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.agencies import contracts, domain
from services.agencies.models import (
    Agency,
    AnnualReport,
    Complaint,
    CreditEntry,
    Evaluation,
    Inspection,
    InspectionDraw,
    Practitioner,
)
from services.agencies.schemas import (
    MAX_SEED,
    AgencyCreate,
    AgencyFilter,
    AgencyUpdate,
    AnnualReportCreate,
    AnnualReportFilter,
    BrandLevelChange,
    ComplaintCreate,
    ComplaintFilter,
    ComplaintResolve,
    CountedEntryPublic,
    CreditDisclosure,
    CreditDisclosureList,
    CreditEntryCreate,
    CreditPublic,
    DeadlineChangePublic,
    DeadlineRecountPublic,
    DrawCreate,
    DrawOutcome,
    DrawVerification,
    EvaluationCreate,
    FindingCreate,
    InspectionDisclosure,
    InspectionDisclosureFilter,
    InspectionDisclosureList,
    InspectionFilter,
    PractitionerCreate,
    PractitionerFilter,
    PractitionerLeave,
    Transition,
)
from zhichan.api.etag import check_if_match
from zhichan.api.pagination import PageParams, encode_cursor, keyset_page
from zhichan.api.problems import Conflict, Invalid, NotFound
from zhichan.api.scope import get_visible, scoped
from zhichan.auth import User, require_write_access
from zhichan.clock import today, utcnow
from zhichan.db import commit_or_conflict, insert_at_commit, reads_only, state_of
from zhichan.events import record_event
from zhichan.ids import new_id
from zhichan.workdays import CALENDAR, WorkdayCalendar

Row = TypeVar("Row")
Paged = tuple[list, str | None]  # states (or a list's items) and the next page's cursor

# ---------------------------------------------------------------------------------------------
# Shared helpers


def publish(session: AsyncSession, aggregate: str, verb: str, state: Any, user: User | None) -> None:
    """The change's event, in the change's transaction; ``user`` None: the service's own doing."""
    record_event(
        session,
        service=contracts.SERVICE,
        aggregate=aggregate,
        verb=verb,
        aggregate_id=state.id,
        region=state.region,
        version=state.version,
        data=state,
        actor=user.sub if user else None,
    )


def business_date(value: date | None, field: str, *, not_before: date | None = None, what: str = "date") -> date:
    """The given business date (default today): never in the future, never before ``not_before``."""
    day = value or today()
    if day > today():
        raise Invalid.field([field], f"the {what} lies in the future")
    if not_before is not None and day < not_before:
        raise Invalid.field([field], f"the {what} lies before {not_before.isoformat()}")
    return day


@contextmanager
def date_rule(field: str) -> Iterator[None]:
    """A business date the domain refuses answers 422, naming the field at fault."""
    try:
        yield
    except domain.BusinessDateError as exc:
        raise Invalid.field([field], str(exc)) from None


async def writable(session: AsyncSession, model: type[Row], key: str, user: User, what: str) -> Row:
    """The record a change is made to: one the caller sees (else 404), in a region they may write
    (else 403), locked until the commit on PostgreSQL."""
    row = await get_visible(session, model, key, user, what, for_update=True)
    require_write_access(user, row.region)
    return row


async def visible_agency(session: AsyncSession, agency_id: str, user: User) -> Agency:
    return await get_visible(session, Agency, agency_id, user, "agency")


# ---------------------------------------------------------------------------------------------
# Filings (agencies)

VERB_OF_ACTION = {
    "approve": "approved",
    "suspend": "suspended",
    "reinstate": "reinstated",
    "deregister": "deregistered",
}


def agency_state(agency: Agency) -> contracts.AgencyState:
    return state_of(
        contracts.AgencyState,
        agency,
        service_types=agency.service_type_list,
        licence_numbers=list(agency.licence_numbers),
    )


def _changed(session: AsyncSession, agency: Agency, verb: str, user: User) -> contracts.AgencyState:
    """A change of the agency: its next version and its event (the caller commits)."""
    agency.touch()
    state = agency_state(agency)
    publish(session, "agency", verb, state, user)
    return state


async def file_agency(session: AsyncSession, data: AgencyCreate, user: User) -> contracts.AgencyState:
    """The new agency's state. Its row goes in with the commit (``insert_at_commit``), not through
    the ORM: the filing is the write benchmark's path, which the ORM's unit of work would take
    below its goal (BENCHMARKS.md, fifth pass)."""
    require_write_access(user, data.region)
    filed_on = business_date(data.filed_on, "filed_on", what="filing date")
    now = utcnow()
    filed = {"status": "filed", "on": filed_on.isoformat(), "at": now.isoformat(), "actor": user.sub}
    row = {
        "id": new_id(),
        "name": data.name,
        "uscc": data.uscc,
        "region": data.region,
        "address": data.address,
        "service_types": "," + ",".join(data.service_types) + ",",
        "licence_numbers": data.licence_numbers,
        "offline": data.offline,
        "in_cluster": data.in_cluster,
        "brand_level": data.brand_level,
        "status": "filed",
        "filed_on": filed_on,
        "status_history": [filed],
        "brand_history": [],
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    insert_at_commit(session, Agency.__table__, tuple(row), [tuple(row.values())])
    state = contracts.AgencyState(
        **{**row, "service_types": list(data.service_types), "licence_numbers": list(data.licence_numbers)}
    )
    publish(session, "agency", "filed", state, user)
    taken = f"USCC {data.uscc} is already filed"
    try:
        await commit_or_conflict(session, taken)
    except Conflict:
        live = select(Agency).where(Agency.uscc == data.uscc, Agency.status != "deregistered").limit(1)
        holder = (await session.execute(live)).scalar_one_or_none()
        if holder is None:  # deregistered since
            raise
        raise Conflict(f"{taken} as agency {holder.id} ({holder.status})") from None
    return state


async def get_agency(session: AsyncSession, agency_id: str, user: User) -> contracts.AgencyState:
    return agency_state(await visible_agency(session, agency_id, user))


async def update_agency(
    session: AsyncSession, agency_id: str, data: AgencyUpdate, if_match: str | None, user: User
) -> contracts.AgencyState:
    agency = await writable(session, Agency, agency_id, user, "agency")
    check_if_match(if_match, agency.id, agency.version)
    changes = data.model_dump(exclude_unset=True)
    if "brand_level" in changes and changes["brand_level"] != agency.brand_level:
        raise Invalid.field(
            ["brand_level"], "a brand level changes by decision: POST /agencies/{id}/brand-level with its reference"
        )
    changes.pop("brand_level", None)
    if not changes:
        return agency_state(agency)
    for field, value in changes.items():
        if value is None and field not in ("address",):
            raise Invalid.field([field], "may not be null")
        if field == "service_types":
            agency.service_types = "," + ",".join(dict.fromkeys(value)) + ","
        else:
            setattr(agency, field, value)
    state = _changed(session, agency, "updated", user)
    await session.commit()
    return state


async def transition(
    session: AsyncSession, agency_id: str, action: str, body: Transition, user: User
) -> contracts.AgencyState:
    agency = await writable(session, Agency, agency_id, user, "agency")
    try:
        new_status = domain.next_status(action, agency.status)
    except domain.TransitionNotAllowed as exc:
        raise Conflict(str(exc), current_status=agency.status, action=action) from None
    effective = body.date or today()
    with date_rule("date"):
        domain.check_effective_date(effective, date.fromisoformat(agency.status_history[-1]["on"]), today())
    agency.status = new_status
    agency.status_history = [
        *agency.status_history,
        {
            "status": new_status,
            "on": effective.isoformat(),
            "at": utcnow().isoformat(),
            "actor": user.sub,
            "reason": body.reason,
        },
    ]
    state = _changed(session, agency, VERB_OF_ACTION[action], user)
    if new_status == "deregistered":
        await release_practitioners(session, agency, effective, user)
    await session.commit()
    return state


async def change_brand_level(
    session: AsyncSession, agency_id: str, data: BrandLevelChange, user: User
) -> contracts.AgencyState:
    agency = await writable(session, Agency, agency_id, user, "agency")
    if agency.status == "deregistered":
        raise Conflict(f"agency {agency.id} is deregistered", current_status=agency.status)
    if data.brand_level == agency.brand_level:
        raise Conflict(f"agency {agency.id} is already at brand level {agency.brand_level}")
    last_decision = date.fromisoformat(agency.brand_history[-1]["decided_on"]) if agency.brand_history else None
    decided_on = business_date(
        data.decided_on, "decided_on", not_before=last_decision or agency.filed_on, what="decision date"
    )
    agency.brand_history = [
        *agency.brand_history,
        {
            "brand_level": data.brand_level,
            "previous_level": agency.brand_level,
            "decided_on": decided_on.isoformat(),
            "decision_reference": data.decision_reference,
            "at": utcnow().isoformat(),
            "actor": user.sub,
        },
    ]
    agency.brand_level = data.brand_level
    state = _changed(session, agency, "brand_level_changed", user)
    await session.commit()
    return state


async def list_agencies(session: AsyncSession, user: User, page: PageParams, filters: AgencyFilter) -> Paged:
    query = scoped(select(Agency), Agency.region, user, filters.region)
    if filters.status:
        query = query.where(Agency.status == filters.status)
    if filters.service_type:
        query = query.where(Agency.service_types.contains(f",{filters.service_type},"))
    if filters.offline is not None:
        query = query.where(Agency.offline == filters.offline)
    if filters.in_cluster is not None:
        query = query.where(Agency.in_cluster == filters.in_cluster)
    rows, next_cursor = await keyset_page(session, query, page, Agency.id)
    return [agency_state(a) for a in rows], next_cursor


# ---------------------------------------------------------------------------------------------
# Practitioners


def practitioner_state(practitioner: Practitioner) -> contracts.PractitionerState:
    return state_of(contracts.PractitionerState, practitioner)


async def join_practitioner(
    session: AsyncSession, agency_id: str, data: PractitionerCreate, user: User
) -> contracts.PractitionerState:
    agency = await writable(session, Agency, agency_id, user, "agency")
    if agency.status == "deregistered":
        raise Conflict(f"agency {agency.id} is deregistered", current_status=agency.status)
    spells = list(
        (
            await session.execute(
                select(Practitioner).where(Practitioner.certificate_number == data.certificate_number)
            )
        ).scalars()
    )
    practising = next((p for p in spells if p.status == "active"), None)
    if practising is not None:
        raise Conflict(
            f"certificate {data.certificate_number} practises at agency {practising.agency_id}; it must leave first",
            practitioner_id=practising.id if user.sees(practising.region) else None,
        )
    # A new spell starts on or after the filing and after the certificate's earlier spells ended.
    not_before = max([agency.filed_on, *(p.left_on for p in spells if p.left_on)])
    practitioner = Practitioner.new(
        agency_id=agency.id,
        region=agency.region,
        name=data.name,
        certificate_number=data.certificate_number,
        type=data.type,
        status="active",
        joined_on=business_date(data.joined_on, "joined_on", not_before=not_before, what="joining date"),
    )
    session.add(practitioner)
    state = practitioner_state(practitioner)
    publish(session, "practitioner", "joined", state, user)
    await commit_or_conflict(session, f"certificate {data.certificate_number} already practises")
    return state


def _leave(
    session: AsyncSession, practitioner: Practitioner, left_on: date, reason: str | None, user: User
) -> contracts.PractitionerState:
    practitioner.status = "left"
    practitioner.left_on = left_on
    practitioner.leave_reason = reason
    practitioner.touch()
    state = practitioner_state(practitioner)
    publish(session, "practitioner", "left", state, user)
    return state


async def leave_practitioner(
    session: AsyncSession, practitioner_id: str, data: PractitionerLeave, user: User
) -> contracts.PractitionerState:
    practitioner = await writable(session, Practitioner, practitioner_id, user, "practitioner")
    if practitioner.status != "active":
        raise Conflict(f"practitioner {practitioner.id} has already left", current_status=practitioner.status)
    left_on = business_date(data.left_on, "left_on", not_before=practitioner.joined_on, what="leaving date")
    state = _leave(session, practitioner, left_on, data.reason, user)
    await session.commit()
    return state


async def release_practitioners(session: AsyncSession, agency: Agency, on: date, user: User) -> None:
    """A deregistered agency has no practitioners: each leaves on the deregistration date."""
    active = await session.execute(
        select(Practitioner).where(Practitioner.agency_id == agency.id, Practitioner.status == "active")
    )
    for practitioner in active.scalars():
        _leave(session, practitioner, max(on, practitioner.joined_on), "the agency was deregistered", user)


async def get_practitioner(session: AsyncSession, practitioner_id: str, user: User) -> contracts.PractitionerState:
    return practitioner_state(await get_visible(session, Practitioner, practitioner_id, user, "practitioner"))


async def list_practitioners(session: AsyncSession, user: User, page: PageParams, filters: PractitionerFilter) -> Paged:
    query = scoped(select(Practitioner), Practitioner.region, user, filters.region)
    for column, value in (
        (Practitioner.type, filters.type),
        (Practitioner.status, filters.status),
        (Practitioner.agency_id, filters.agency_id),
    ):
        if value:
            query = query.where(column == value)
    if filters.certificate_number:
        query = query.where(Practitioner.certificate_number == filters.certificate_number.strip().upper())
    rows, next_cursor = await keyset_page(session, query, page, Practitioner.id)
    return [practitioner_state(p) for p in rows], next_cursor


# ---------------------------------------------------------------------------------------------
# Annual reports


def annual_report_state(report: AnnualReport) -> contracts.AnnualReportState:
    return state_of(contracts.AnnualReportState, report)


async def submit_annual_report(
    session: AsyncSession, agency_id: str, data: AnnualReportCreate, user: User
) -> contracts.AnnualReportState:
    agency = await writable(session, Agency, agency_id, user, "agency")
    with date_rule("year"):
        domain.check_report_year(data.year, agency.filed_on.year, today())
    current = (
        await session.execute(
            select(AnnualReport).where(
                AnnualReport.agency_id == agency.id, AnnualReport.year == data.year, AnnualReport.status == "current"
            )
        )
    ).scalar_one_or_none()
    if current is not None and not data.supersede_reason:
        raise Conflict(
            f"agency {agency.id} has a report for {data.year}; send supersede_reason to correct it",
            current_report=current.id,
        )
    if current is None and data.supersede_reason:
        raise Invalid.field(["supersede_reason"], f"there is no report for {data.year} to supersede")
    report = AnnualReport.new(
        **data.model_dump(),
        agency_id=agency.id,
        region=agency.region,
        status="current",
        submitted_on=today(),
        supersedes=current.id if current else None,
    )
    if current is not None:
        current.status = "superseded"
        current.superseded_by = report.id
        current.touch()
        publish(session, "annual_report", "superseded", annual_report_state(current), user)
        await session.flush()  # the old report leaves the one-current-per-year index before the new one enters
    session.add(report)
    state = annual_report_state(report)
    publish(session, "annual_report", "submitted", state, user)
    await commit_or_conflict(session, f"a report for {data.year} was submitted at the same time")
    return state


async def _annual_reports(session: AsyncSession, query, page: PageParams, include_superseded: bool) -> Paged:
    if not include_superseded:
        query = query.where(AnnualReport.status == "current")
    rows, next_cursor = await keyset_page(session, query, page, AnnualReport.id)
    return [annual_report_state(r) for r in rows], next_cursor


async def agency_annual_reports(
    session: AsyncSession, agency_id: str, user: User, page: PageParams, include_superseded: bool
) -> Paged:
    agency = await visible_agency(session, agency_id, user)
    query = select(AnnualReport).where(AnnualReport.agency_id == agency.id)
    return await _annual_reports(session, query, page, include_superseded)


async def list_annual_reports(
    session: AsyncSession, user: User, page: PageParams, filters: AnnualReportFilter
) -> Paged:
    query = scoped(select(AnnualReport), AnnualReport.region, user, filters.region)
    if filters.year is not None:
        query = query.where(AnnualReport.year == filters.year)
    return await _annual_reports(session, query, page, filters.include_superseded)


# ---------------------------------------------------------------------------------------------
# Credit archive and grade


def _facts(entries) -> list[domain.CreditEntryFact]:
    return [domain.CreditEntryFact(e.id, e.kind, e.points, e.occurred_on) for e in entries]


async def _entries_in_window(session: AsyncSession, agency_ids: list[str], as_of: date) -> dict[str, list[CreditEntry]]:
    window_from = domain.years_before(as_of, domain.CREDIT_WINDOW_YEARS)
    rows = await session.execute(
        select(CreditEntry).where(
            CreditEntry.agency_id.in_(agency_ids),
            CreditEntry.occurred_on > window_from,
            CreditEntry.occurred_on <= as_of,
        )
    )
    by_agency: dict[str, list[CreditEntry]] = {agency_id: [] for agency_id in agency_ids}
    for entry in rows.scalars():
        by_agency[entry.agency_id].append(entry)
    return by_agency


async def grades_of(session: AsyncSession, agency_ids: list[str], as_of: date) -> dict[str, domain.GradeReport]:
    entries = await _entries_in_window(session, agency_ids, as_of)
    return {agency_id: domain.credit_grade(_facts(rows), as_of) for agency_id, rows in entries.items()}


async def credit_report(session: AsyncSession, agency_id: str, user: User, as_of: date | None) -> CreditPublic:
    agency = await visible_agency(session, agency_id, user)
    report = (await grades_of(session, [agency.id], as_of or today()))[agency.id]
    return CreditPublic(
        agency_id=agency.id,
        as_of=report.as_of,
        grade=report.grade,
        score=report.score,
        window_from=report.window_from,
        counted=[CountedEntryPublic(**vars(c)) for c in report.counted],
        caps=report.caps,
        explanation=report.explanation,
        rule=inspect.cleandoc(domain.credit_grade.__doc__ or ""),
    )


def entry_fields(entry: CreditEntry) -> dict[str, Any]:
    """An entry as its state names it, without the agency's grade (which only its event carries,
    as it stood when the entry was made)."""
    return {**entry.model_dump(exclude={"actor"}), "polarity": domain.CREDIT_KINDS[entry.kind][0]}


async def enter_credit(
    session: AsyncSession,
    agency: Agency,
    *,
    kind: str,
    occurred_on: date,
    description: str,
    reference: str | None,
    points: int | None,
    source: str,
    source_id: str | None,
    user: User,
) -> contracts.CreditEntryState:
    """Adds an entry to the agency's archive (in the caller's transaction) and publishes it with
    the agency's grade as it stands today with the entry."""
    earlier = (await _entries_in_window(session, [agency.id], today()))[agency.id]
    entry = CreditEntry(
        id=new_id(),
        agency_id=agency.id,
        region=agency.region,
        kind=kind,
        points=points or domain.CREDIT_KINDS[kind][1],
        occurred_on=occurred_on,
        description=description,
        reference=reference,
        source=source,
        source_id=source_id,
        actor=user.sub,
        created_at=utcnow(),
    )
    session.add(entry)
    grade = domain.credit_grade(_facts([*earlier, entry]), today())
    state = contracts.CreditEntryState(**entry_fields(entry), agency_grade=grade.grade, agency_score=grade.score)
    publish(session, "credit_entry", "recorded", state, user)
    return state


async def record_credit_entry(
    session: AsyncSession, agency_id: str, data: CreditEntryCreate, user: User
) -> contracts.CreditEntryState:
    agency = await writable(session, Agency, agency_id, user, "agency")
    state = await enter_credit(
        session,
        agency,
        kind=data.kind,
        occurred_on=business_date(data.occurred_on, "occurred_on", what="date"),
        description=data.description,
        reference=data.reference,
        points=data.points,
        source="manual",
        source_id=None,
        user=user,
    )
    await session.commit()
    return state


async def list_credit_entries(session: AsyncSession, agency_id: str, user: User, page: PageParams) -> Paged:
    """The agency's archive, in the order the entries were made: each as :func:`entry_fields`."""
    agency = await visible_agency(session, agency_id, user)
    query = select(CreditEntry).where(CreditEntry.agency_id == agency.id)
    rows, next_cursor = await keyset_page(session, query, page, CreditEntry.id)
    return [entry_fields(e) for e in rows], next_cursor


async def disclose_credit(
    session: AsyncSession, page: PageParams, region: str | None, grade: str | None
) -> CreditDisclosureList:
    """Agencies under supervision (active or suspended) with their grade today, for the public.
    Filtering by grade reads pages until it has a page's worth, since the grade is computed, not
    stored."""
    query = scoped(select(Agency).where(Agency.status.in_(["active", "suspended"])), Agency.region, None, region)
    found: list[CreditDisclosure] = []
    batch = page
    while True:
        rows, more = await keyset_page(session, query, batch, Agency.id)
        grades = await grades_of(session, [a.id for a in rows], today())
        found += [
            CreditDisclosure(
                agency_id=a.id,
                name=a.name,
                uscc=a.uscc,
                region=a.region,
                status=a.status,
                brand_level=a.brand_level,
                grade=grades[a.id].grade,
                as_of=grades[a.id].as_of,
            )
            for a in rows
            if grade is None or grades[a.id].grade == grade
        ]
        if more is None or len(found) >= page.limit:
            break
        batch = PageParams(limit=page.limit, after={"id": rows[-1].id})
    items = found[: page.limit]
    more_follow = len(found) > page.limit or more is not None  # (with a grade, maybe none of them has it)
    return CreditDisclosureList(
        items=items, next_cursor=encode_cursor({"id": items[-1].agency_id}) if more_follow else None
    )


# ---------------------------------------------------------------------------------------------
# Complaints


def complaint_state(complaint: Complaint) -> contracts.ComplaintState:
    on_time = None if complaint.resolved_on is None else complaint.resolved_on <= complaint.deadline
    return state_of(contracts.ComplaintState, complaint, resolved_on_time=on_time)


async def receive_complaint(
    session: AsyncSession,
    data: ComplaintCreate,
    user: User,
    handling_working_days: int,
    calendar: WorkdayCalendar = CALENDAR,
) -> contracts.ComplaintState:
    agency = await session.get(Agency, data.agency_id)
    if agency is None or not user.sees(agency.region):
        raise Invalid.field(["agency_id"], f"no agency {data.agency_id}")
    require_write_access(user, agency.region)
    received_on = business_date(data.received_on, "received_on", what="receipt date")
    deadline = domain.handling_deadline(received_on, handling_working_days, calendar)
    complaint = Complaint.new(
        agency_id=agency.id,
        region=agency.region,
        channel=data.channel,
        received_on=received_on,
        content=data.content,
        complainant_contact=data.complainant_contact or None,
        handling_working_days=handling_working_days,
        deadline=deadline.day,
        deadline_provisional=deadline.provisional,
        deadline_known_through=calendar.last_year,
        status="open",
    )
    session.add(complaint)
    state = complaint_state(complaint)
    publish(session, "complaint", "received", state, user)
    await session.commit()
    return state


async def get_complaint(
    session: AsyncSession, complaint_id: str, user: User
) -> tuple[contracts.ComplaintState, dict[str, str | None]]:
    """The complaint's state, and beside it the complainant's contact: officers only (never in
    an event, a list or the disclosure)."""
    complaint = await get_visible(session, Complaint, complaint_id, user, "complaint")
    contact = complaint.complainant_contact if user.has_any_role(["officer"]) else None
    return complaint_state(complaint), {"complainant_contact": contact}


async def resolve_complaint(
    session: AsyncSession, complaint_id: str, data: ComplaintResolve, user: User
) -> contracts.ComplaintState:
    complaint = await writable(session, Complaint, complaint_id, user, "complaint")
    if complaint.status != "open":
        raise Conflict(f"complaint {complaint.id} is already resolved", current_status=complaint.status)
    resolved_on = business_date(data.resolved_on, "resolved_on", not_before=complaint.received_on, what="date")
    complaint.status = "resolved"
    complaint.outcome = data.outcome
    complaint.findings = data.findings
    complaint.resolved_on = resolved_on
    complaint.touch()
    state = complaint_state(complaint)
    publish(session, "complaint", "resolved", state, user)
    if data.outcome == "upheld":
        await enter_credit(
            session,
            await session.get(Agency, complaint.agency_id),
            kind="complaint_upheld",
            occurred_on=resolved_on,
            description=data.findings[:1000],
            reference=None,
            points=None,
            source="complaint",
            source_id=complaint.id,
            user=user,
        )
    await session.commit()
    return state


async def list_complaints(session: AsyncSession, user: User, page: PageParams, filters: ComplaintFilter) -> Paged:
    query = scoped(select(Complaint), Complaint.region, user, filters.region)
    for column, value in (
        (Complaint.agency_id, filters.agency_id),
        (Complaint.status, filters.status),
        (Complaint.channel, filters.channel),
        (Complaint.outcome, filters.outcome),
    ):
        if value:
            query = query.where(column == value)
    rows, next_cursor = await keyset_page(session, query, page, Complaint.id)
    return [complaint_state(c) for c in rows], next_cursor


async def overdue_complaints(
    session: AsyncSession, user: User, page: PageParams, region: str | None, as_of: date | None
) -> Paged:
    """Open complaints whose deadline has passed by ``as_of`` (default today), oldest deadline first."""
    query = scoped(select(Complaint), Complaint.region, user, region).where(
        Complaint.status == "open", Complaint.deadline < (as_of or today())
    )
    rows, next_cursor = await keyset_page(session, query, page, Complaint.deadline, Complaint.id)
    return [complaint_state(c) for c in rows], next_cursor


RECOUNT_BATCH = 500


async def recount_provisional_deadlines(
    session: AsyncSession, calendar: WorkdayCalendar, user: User | None
) -> DeadlineRecountPublic:
    """Counts again, with ``calendar``, every open complaint's provisional deadline that was
    counted with fewer years known (:func:`domain.recounted_deadline`); each one that changes is
    stored with the years now known and its ``complaint.deadline_changed`` event. Idempotent: with
    the same calendar a second run finds nothing to change.

    A batch at a time: first read without the write lock, then, if any moves, that batch locked (on
    PostgreSQL ``FOR UPDATE``; on SQLite the write transaction serialises) and counted again, since
    a replica may have resolved or recounted a complaint in between. The events' actor is ``user``,
    the admin who asked, or none when the service does it by itself at startup."""
    examined, changed, after = 0, [], ""
    while True:
        await reads_only(session)
        batch = (
            await session.execute(
                select(
                    Complaint.id,
                    Complaint.received_on,
                    Complaint.handling_working_days,
                    Complaint.deadline,
                    Complaint.deadline_provisional,
                    Complaint.deadline_known_through,
                )
                .where(
                    Complaint.status == "open",
                    Complaint.deadline_provisional.is_(True),
                    or_(
                        Complaint.deadline_known_through.is_(None),
                        Complaint.deadline_known_through < calendar.last_year,
                    ),
                    Complaint.id > after,
                )
                .order_by(Complaint.id)
                .limit(RECOUNT_BATCH)
            )
        ).all()
        await session.rollback()
        if not batch:
            return DeadlineRecountPublic(known_through=calendar.last_year, examined=examined, changed=changed)
        examined += len(batch)
        after = batch[-1].id
        due = [row.id for row in batch if _recounted(row, calendar) is not None]
        if due:
            changed += await _store_recounted(session, due, calendar, user)


def _recounted(complaint, calendar: WorkdayCalendar):
    return domain.recounted_deadline(
        received_on=complaint.received_on,
        working_days=complaint.handling_working_days,
        deadline=complaint.deadline,
        provisional=complaint.deadline_provisional,
        known_through=complaint.deadline_known_through,
        calendar=calendar,
    )


async def _store_recounted(
    session: AsyncSession, ids: list[str], calendar: WorkdayCalendar, user: User | None
) -> list[DeadlineChangePublic]:
    query = select(Complaint).where(Complaint.id.in_(ids)).order_by(Complaint.id).with_for_update()
    changes = []
    for complaint in (await session.execute(query)).scalars():
        recounted = _recounted(complaint, calendar) if complaint.status == "open" else None
        if recounted is None:
            continue
        previous_deadline, previous_provisional = complaint.deadline, complaint.deadline_provisional
        complaint.deadline = recounted.day
        complaint.deadline_provisional = recounted.provisional
        complaint.deadline_known_through = calendar.last_year
        complaint.touch()
        publish(session, "complaint", "deadline_changed", complaint_state(complaint), user)
        changes.append(
            DeadlineChangePublic(
                complaint_id=complaint.id,
                region=complaint.region,
                received_on=complaint.received_on,
                handling_working_days=complaint.handling_working_days,
                previous_deadline=previous_deadline,
                previous_provisional=previous_provisional,
                deadline=complaint.deadline,
                deadline_provisional=complaint.deadline_provisional,
                version=complaint.version,
            )
        )
    await session.commit()
    return changes


# ---------------------------------------------------------------------------------------------
# Random inspections


def inspection_state(inspection: Inspection) -> contracts.InspectionState:
    return state_of(contracts.InspectionState, inspection)


def draw_state(draw: InspectionDraw, inspections: list[Inspection]) -> contracts.InspectionDrawState:
    return state_of(
        contracts.InspectionDrawState,
        draw,
        assignments=[
            contracts.DrawAssignment(inspection_id=i.id, agency_id=i.agency_id, inspectors=i.inspectors)
            for i in inspections
        ],
    )


async def draw_inspections(
    session: AsyncSession, data: DrawCreate, user: User, default_weights: dict[str, int]
) -> contracts.InspectionDrawState:
    require_write_access(user, data.region)
    if data.inspector_count > len(data.inspector_pool):
        raise Invalid.field(
            ["inspector_count"],
            f"the pool holds {len(data.inspector_pool)} inspectors, fewer than {data.inspector_count}",
        )
    weights = data.grade_weights.model_dump() if data.grade_weights else dict(default_weights)
    drawn_on = today()
    eligible_query = scoped(select(Agency).where(Agency.status == "active"), Agency.region, None, data.region)
    agencies = list((await session.execute(eligible_query.order_by(Agency.id))).scalars())
    if data.agency_count > len(agencies):
        raise Conflict(
            f"only {len(agencies)} active agencies in {data.region} are eligible, {data.agency_count} asked for",
            eligible=len(agencies),
        )
    grades = await grades_of(session, [a.id for a in agencies], drawn_on)
    eligible = [
        {"agency_id": a.id, "name": a.name, "grade": grades[a.id].grade, "weight": weights[grades[a.id].grade]}
        for a in agencies
    ]
    pool = sorted(({"id": i.id, "name": i.name} for i in data.inspector_pool), key=lambda i: i["id"])
    seed = data.seed if data.seed is not None else secrets.randbelow(MAX_SEED + 1)
    result = _run(seed, eligible, pool, data.agency_count, data.inspector_count)
    draw = InspectionDraw(
        id=new_id(),
        region=data.region,
        drawn_on=drawn_on,
        seed=seed,
        algorithm=domain.DRAW_ALGORITHM,
        agency_count=data.agency_count,
        inspector_count=data.inspector_count,
        grade_weights=weights,
        eligible_agencies=eligible,
        inspector_pool=pool,
        drawn_agencies=result.agencies,
        drawn_inspectors=result.inspectors,
        actor=user.sub,
        created_at=utcnow(),
    )
    session.add(draw)
    await session.flush()  # the inspections refer to it
    names = {i["id"]: i["name"] for i in pool}
    region_of = {a.id: a.region for a in agencies}
    inspections = [
        Inspection.new(
            draw_id=draw.id,
            agency_id=agency_id,
            region=region_of[agency_id],
            inspectors=[{"id": i, "name": names[i]} for i in pair],
            drawn_on=drawn_on,
            status="pending",
        )
        for agency_id, pair in result.assignments
    ]
    session.add_all(inspections)
    state = draw_state(draw, inspections)
    publish(session, "inspection_draw", "drawn", state, user)
    for inspection in inspections:
        publish(session, "inspection", "scheduled", inspection_state(inspection), user)
    await session.commit()
    return state


def _run(seed: int, eligible: list[dict], pool: list[dict], agency_count: int, inspector_count: int):
    return domain.run_draw(
        seed,
        [domain.Candidate(e["agency_id"], e["weight"]) for e in eligible],
        [i["id"] for i in pool],
        agency_count,
        inspector_count,
    )


async def _draw_states(session: AsyncSession, draws: list[InspectionDraw]) -> list[contracts.InspectionDrawState]:
    """Each draw's state with its inspections, in the order the agencies were drawn."""
    rows = await session.execute(select(Inspection).where(Inspection.draw_id.in_([d.id for d in draws])))
    by_draw: dict[str, list[Inspection]] = {d.id: [] for d in draws}
    for inspection in rows.scalars():
        by_draw[inspection.draw_id].append(inspection)
    return [
        draw_state(draw, sorted(by_draw[draw.id], key=lambda i, order=draw.drawn_agencies: order.index(i.agency_id)))
        for draw in draws
    ]


async def get_draw(session: AsyncSession, draw_id: str, user: User) -> contracts.InspectionDrawState:
    draw = await get_visible(session, InspectionDraw, draw_id, user, "draw")
    return (await _draw_states(session, [draw]))[0]


async def list_draws(session: AsyncSession, user: User, page: PageParams, region: str | None) -> Paged:
    query = scoped(select(InspectionDraw), InspectionDraw.region, user, region)
    rows, next_cursor = await keyset_page(session, query, page, InspectionDraw.id)
    return await _draw_states(session, rows), next_cursor


async def verify_draw(session: AsyncSession, draw_id: str) -> DrawVerification:
    """Runs a recorded draw again from its recorded inputs. Public: anyone may check a draw."""
    draw = await session.get(InspectionDraw, draw_id)
    if draw is None:
        raise NotFound(f"no draw {draw_id}")
    result = _run(draw.seed, draw.eligible_agencies, draw.inspector_pool, draw.agency_count, draw.inspector_count)
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


async def get_inspection(session: AsyncSession, inspection_id: str, user: User) -> contracts.InspectionState:
    return inspection_state(await get_visible(session, Inspection, inspection_id, user, "inspection"))


async def record_finding(
    session: AsyncSession, inspection_id: str, data: FindingCreate, user: User
) -> contracts.InspectionState:
    inspection = await writable(session, Inspection, inspection_id, user, "inspection")
    if inspection.status != "pending":
        raise Conflict(f"inspection {inspection.id} is already concluded", current_status=inspection.status)
    concluded_on = business_date(data.concluded_on, "concluded_on", not_before=inspection.drawn_on, what="date")
    inspection.status = "concluded"
    inspection.finding = data.finding
    inspection.notes = data.notes or None
    inspection.decision_reference = data.decision_reference
    inspection.concluded_on = concluded_on
    inspection.touch()
    state = inspection_state(inspection)
    publish(session, "inspection", "concluded", state, user)
    if kind := domain.CREDIT_KIND_OF_FINDING.get(data.finding):
        await enter_credit(
            session,
            await session.get(Agency, inspection.agency_id),
            kind=kind,
            occurred_on=concluded_on,
            description=f"random inspection: {domain.INSPECTION_FINDINGS[data.finding]}"
            + (f" — {data.notes}" if data.notes else ""),
            reference=data.decision_reference,
            points=None,
            source="inspection",
            source_id=inspection.id,
            user=user,
        )
    await session.commit()
    return state


def _inspections(user: User | None, filters: InspectionFilter):
    query = scoped(select(Inspection), Inspection.region, user, filters.region)
    for column, value in (
        (Inspection.status, filters.status),
        (Inspection.finding, filters.finding),
        (Inspection.agency_id, filters.agency_id),
        (Inspection.draw_id, filters.draw_id),
    ):
        if value:
            query = query.where(column == value)
    if filters.year is not None:
        query = query.where(
            Inspection.drawn_on >= date(filters.year, 1, 1), Inspection.drawn_on <= date(filters.year, 12, 31)
        )
    return query


async def list_inspections(session: AsyncSession, user: User, page: PageParams, filters: InspectionFilter) -> Paged:
    rows, next_cursor = await keyset_page(session, _inspections(user, filters), page, Inspection.id)
    return [inspection_state(i) for i in rows], next_cursor


async def disclose_inspections(
    session: AsyncSession, page: PageParams, filters: InspectionDisclosureFilter
) -> InspectionDisclosureList:
    """Inspections with the agency and the draw (its seed), for the public (一公开)."""
    query = _inspections(None, InspectionFilter(**filters.model_dump()))
    rows, next_cursor = await keyset_page(session, query, page, Inspection.id)
    agencies = await _by_id(session, Agency, {i.agency_id for i in rows})
    draws = await _by_id(session, InspectionDraw, {i.draw_id for i in rows})
    items = [
        InspectionDisclosure(
            inspection_id=i.id,
            draw_id=i.draw_id,
            seed=draws[i.draw_id].seed,
            drawn_on=i.drawn_on,
            agency_id=i.agency_id,
            agency_name=agencies[i.agency_id].name,
            uscc=agencies[i.agency_id].uscc,
            region=i.region,
            inspectors=[p["name"] for p in i.inspectors],
            status=i.status,
            finding=i.finding,
            decision_reference=i.decision_reference,
            concluded_on=i.concluded_on,
        )
        for i in rows
    ]
    return InspectionDisclosureList(items=items, next_cursor=next_cursor)


async def _by_id(session: AsyncSession, model, ids: set[str]) -> dict:
    if not ids:
        return {}
    return {row.id: row for row in (await session.execute(select(model).where(model.id.in_(sorted(ids))))).scalars()}


# ---------------------------------------------------------------------------------------------
# Evaluations


def evaluation_state(evaluation: Evaluation) -> contracts.EvaluationState:
    return state_of(contracts.EvaluationState, evaluation)


async def record_evaluation(
    session: AsyncSession, agency_id: str, data: EvaluationCreate, user: User
) -> contracts.EvaluationState:
    agency = await writable(session, Agency, agency_id, user, "agency")
    with date_rule("year"):
        domain.check_report_year(data.year, agency.filed_on.year, today())
    evaluated_on = business_date(data.evaluated_on, "evaluated_on", what="evaluation date")
    existing = (
        await session.execute(select(Evaluation).where(Evaluation.agency_id == agency.id, Evaluation.year == data.year))
    ).scalar_one_or_none()
    if existing is not None:
        raise Conflict(f"agency {agency.id} is already evaluated for {data.year}", evaluation_id=existing.id)
    evaluation = Evaluation(
        **data.model_dump(exclude={"evaluated_on"}),
        id=new_id(),
        agency_id=agency.id,
        region=agency.region,
        evaluated_on=evaluated_on,
        created_at=utcnow(),
    )
    session.add(evaluation)
    state = evaluation_state(evaluation)
    publish(session, "evaluation", "recorded", state, user)
    await commit_or_conflict(session, f"agency {agency.id} was evaluated for {data.year} at the same time")
    return state


async def _evaluations(session: AsyncSession, query, page: PageParams) -> Paged:
    """Best score first (brand agencies are chosen from the best), then by id."""
    rows, next_cursor = await keyset_page(session, query, page, Evaluation.score.desc(), Evaluation.id)
    return [evaluation_state(e) for e in rows], next_cursor


async def agency_evaluations(session: AsyncSession, agency_id: str, user: User, page: PageParams) -> Paged:
    agency = await visible_agency(session, agency_id, user)
    return await _evaluations(session, select(Evaluation).where(Evaluation.agency_id == agency.id), page)


async def list_evaluations(
    session: AsyncSession, user: User, page: PageParams, region: str | None, year: int | None
) -> Paged:
    query = scoped(select(Evaluation), Evaluation.region, user, region)
    if year is not None:
        query = query.where(Evaluation.year == year)
    return await _evaluations(session, query, page)
