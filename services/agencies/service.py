"""Agency use cases: load, apply the rule, write the row and its outbox event in one transaction."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
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
    AgencyUpdate,
    AnnualReportCreate,
    BrandLevelChange,
    ComplaintCreate,
    ComplaintResolve,
    CreditEntryCreate,
    DrawCreate,
    EvaluationCreate,
    FindingCreate,
    PractitionerCreate,
    PractitionerLeave,
    Transition,
)
from zhichan.api.etag import check_if_match
from zhichan.api.pagination import PageParams, encode_cursor
from zhichan.api.problems import Conflict, Invalid, NotFound
from zhichan.auth import User, require_write_access
from zhichan.clock import today, utcnow
from zhichan.db import insert_at_commit, reads_only
from zhichan.events import record_event
from zhichan.ids import new_id
from zhichan.regions import registry
from zhichan.workdays import CALENDAR, WorkdayCalendar

VERB_OF_ACTION = {
    "approve": "approved",
    "suspend": "suspended",
    "reinstate": "reinstated",
    "deregister": "deregistered",
}


def agency_state(agency: Agency) -> contracts.AgencyState:
    return contracts.AgencyState(
        id=agency.id,
        name=agency.name,
        uscc=agency.uscc,
        region=agency.region,
        address=agency.address,
        service_types=agency.service_type_list,
        licence_numbers=list(agency.licence_numbers),
        offline=agency.offline,
        in_cluster=agency.in_cluster,
        brand_level=agency.brand_level,
        status=agency.status,
        filed_on=agency.filed_on,
        status_history=agency.status_history,
        brand_history=agency.brand_history,
        version=agency.version,
        created_at=agency.created_at,
        updated_at=agency.updated_at,
    )


def _publish(session: AsyncSession, agency: Agency, verb: str, user: User) -> None:
    record_event(
        session,
        service=contracts.SERVICE,
        aggregate="agency",
        verb=verb,
        aggregate_id=agency.id,
        region=agency.region,
        version=agency.version,
        data=agency_state(agency),
        actor=user.sub,
    )


async def _live_uscc_taken(session: AsyncSession, uscc: str) -> Agency | None:
    return (
        await session.execute(select(Agency).where(Agency.uscc == uscc, Agency.status != "deregistered").limit(1))
    ).scalar_one_or_none()


async def file_agency(session: AsyncSession, data: AgencyCreate, user: User) -> contracts.AgencyState:
    """The new agency's state. Its row is a plain insert written with the commit, not an ORM
    object: building and flushing one through the unit of work was a third of a filing's CPU
    (bench/writes.py), for a row nothing reads back before the commit."""
    require_write_access(user, data.region)
    filed_on = data.filed_on or today()
    if filed_on > today():
        raise Invalid.field(["filed_on"], "the filing date lies in the future")
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
    _publish_state(session, "agency", "filed", state, state, user)
    try:
        # The live-USCC unique index decides, not a lookup beforehand: one statement less on
        # every filing (bench/: a fifth of a create's CPU), and no race between look and write.
        await session.commit()
    except IntegrityError:
        await session.rollback()
        if existing := await _live_uscc_taken(session, data.uscc):
            raise Conflict(f"USCC {data.uscc} is already filed as agency {existing.id} ({existing.status})") from None
        raise Conflict(f"USCC {data.uscc} is already filed") from None  # and deregistered since
    return state


async def get_visible(session: AsyncSession, agency_id: str, user: User) -> Agency:
    agency = await session.get(Agency, agency_id)
    if agency is None or not user.sees(agency.region):  # another region's record does not exist for you
        raise NotFound(f"no agency {agency_id}")
    return agency


async def update_agency(
    session: AsyncSession, agency_id: str, data: AgencyUpdate, if_match: str | None, user: User
) -> Agency:
    agency = await get_visible(session, agency_id, user)
    require_write_access(user, agency.region)
    check_if_match(if_match, agency.id, agency.version)
    changes = data.model_dump(exclude_unset=True)
    if "brand_level" in changes and changes["brand_level"] != agency.brand_level:
        raise Invalid.field(
            ["brand_level"], "a brand level changes by decision: POST /agencies/{id}/brand-level with its reference"
        )
    changes.pop("brand_level", None)
    if not changes:
        return agency
    for field, value in changes.items():
        if value is None and field not in ("address",):
            raise Invalid.field([field], "may not be null")
        if field == "service_types":
            agency.service_types = "," + ",".join(dict.fromkeys(value)) + ","
        else:
            setattr(agency, field, value)
    agency.version += 1
    agency.updated_at = utcnow()
    _publish(session, agency, "updated", user)
    await session.commit()
    return agency


async def transition(session: AsyncSession, agency_id: str, action: str, body: Transition, user: User) -> Agency:
    agency = await get_visible(session, agency_id, user)
    require_write_access(user, agency.region)
    try:
        new_status = domain.next_status(action, agency.status)
    except domain.TransitionNotAllowed as exc:
        raise Conflict(str(exc), current_status=agency.status, action=action) from None
    effective = body.date or today()
    last_change = date.fromisoformat(agency.status_history[-1]["on"])
    try:
        domain.check_effective_date(effective, last_change, today())
    except domain.BusinessDateError as exc:
        raise Invalid.field(["date"], str(exc)) from None
    now = utcnow()
    agency.status = new_status
    agency.status_history = [
        *agency.status_history,
        {
            "status": new_status,
            "on": effective.isoformat(),
            "at": now.isoformat(),
            "actor": user.sub,
            "reason": body.reason,
        },
    ]
    agency.version += 1
    agency.updated_at = now
    _publish(session, agency, VERB_OF_ACTION[action], user)
    if new_status == "deregistered":
        await _release_practitioners(session, agency, effective, user)
    await session.commit()
    return agency


async def list_agencies(
    session: AsyncSession,
    user: User,
    page: PageParams,
    *,
    region: str | None,
    status: str | None,
    service_type: str | None,
    offline: bool | None,
    in_cluster: bool | None,
) -> tuple[list[Agency], str | None]:
    query = _scoped(select(Agency).order_by(Agency.id).limit(page.limit + 1), Agency, user, region)
    if status:
        query = query.where(Agency.status == status)
    if service_type:
        query = query.where(Agency.service_types.contains(f",{service_type},"))
    if offline is not None:
        query = query.where(Agency.offline == offline)
    if in_cluster is not None:
        query = query.where(Agency.in_cluster == in_cluster)
    if page.after:
        query = query.where(Agency.id > str(page.after.get("id", "")))
    rows = list((await session.execute(query)).scalars())
    next_cursor = encode_cursor({"id": rows[page.limit - 1].id}) if len(rows) > page.limit else None
    return rows[: page.limit], next_cursor


# ---------------------------------------------------------------------------------------------
# Shared helpers of the supervision use cases


def _publish_state(session: AsyncSession, aggregate: str, verb: str, row, state: BaseModel, user: User | None) -> None:
    record_event(
        session,
        service=contracts.SERVICE,
        aggregate=aggregate,
        verb=verb,
        aggregate_id=row.id,
        region=row.region,
        version=row.version,
        data=state,
        actor=user.sub if user else None,
    )


def _business_date(value: date | None, field: str, *, not_before: date | None = None, what: str = "date") -> date:
    """The given business date (default today): never in the future, never before ``not_before``."""
    day = value or today()
    if day > today():
        raise Invalid.field([field], f"the {what} lies in the future")
    if not_before is not None and day < not_before:
        raise Invalid.field([field], f"the {what} lies before {not_before.isoformat()}")
    return day


def _scoped(query, model, user: User | None, region: str | None):
    """Rows of the requested region (descendants included) that the caller may see."""
    if region is not None and region not in registry():
        raise Invalid.field(["region"], f"unknown region code {region!r}")
    if user is None:  # public disclosure: every region
        scope = registry().descendants(region) if region else None
    else:
        scope = user.scope(region)
    return query if scope is None else query.where(model.region.in_(sorted(scope)))


async def _page(
    session: AsyncSession, query, page: PageParams, model, sort=None, *, descending: bool = False, decode=str
) -> tuple[list, str | None]:
    """Keyset pagination by (``sort``, id) — or by id alone — with an opaque cursor."""
    if sort is None:
        query = query.order_by(model.id)
        if page.after:
            query = query.where(model.id > str(page.after.get("id", "")))
    else:
        query = query.order_by(sort.desc() if descending else sort, model.id)
        if page.after:
            try:
                key, after_id = decode(page.after["key"]), str(page.after["id"])
            except (KeyError, ValueError, ArithmeticError):
                raise Invalid.field(["cursor"], "not a cursor this API gave out") from None
            beyond = sort < key if descending else sort > key
            query = query.where(or_(beyond, and_(sort == key, model.id > after_id)))
    rows = list((await session.execute(query.limit(page.limit + 1))).scalars())
    next_cursor = None
    if len(rows) > page.limit:
        last = rows[page.limit - 1]
        position = {"id": last.id}
        if sort is not None:
            position["key"] = str(getattr(last, sort.key))
        next_cursor = encode_cursor(position)
    return rows[: page.limit], next_cursor


async def _get_in_scope(session: AsyncSession, model, row_id: str, user: User, what: str):
    row = await session.get(model, row_id)
    if row is None or not user.sees(row.region):  # another region's record does not exist for you
        raise NotFound(f"no {what} {row_id}")
    return row


async def _commit_or_conflict(session: AsyncSession, message: str) -> None:
    try:
        await session.commit()
    except IntegrityError:  # a concurrent request took the unique slot first
        await session.rollback()
        raise Conflict(message) from None


# ---------------------------------------------------------------------------------------------
# Practitioners


def practitioner_state(p: Practitioner) -> contracts.PractitionerState:
    return contracts.PractitionerState.model_validate(p, from_attributes=True)


async def join_practitioner(
    session: AsyncSession, agency_id: str, data: PractitionerCreate, user: User
) -> Practitioner:
    agency = await get_visible(session, agency_id, user)
    require_write_access(user, agency.region)
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
    joined_on = _business_date(data.joined_on, "joined_on", not_before=not_before, what="joining date")
    now = utcnow()
    practitioner = Practitioner(
        id=new_id(),
        agency_id=agency.id,
        region=agency.region,
        name=data.name,
        certificate_number=data.certificate_number,
        type=data.type,
        status="active",
        joined_on=joined_on,
        created_at=now,
        updated_at=now,
    )
    session.add(practitioner)
    _publish_state(session, "practitioner", "joined", practitioner, practitioner_state(practitioner), user)
    await _commit_or_conflict(session, f"certificate {data.certificate_number} already practises")
    return practitioner


def _leave(session: AsyncSession, practitioner: Practitioner, left_on: date, reason: str | None, user: User) -> None:
    practitioner.status = "left"
    practitioner.left_on = left_on
    practitioner.leave_reason = reason
    practitioner.version += 1
    practitioner.updated_at = utcnow()
    _publish_state(session, "practitioner", "left", practitioner, practitioner_state(practitioner), user)


async def leave_practitioner(
    session: AsyncSession, practitioner_id: str, data: PractitionerLeave, user: User
) -> Practitioner:
    practitioner = await get_practitioner(session, practitioner_id, user)
    require_write_access(user, practitioner.region)
    if practitioner.status != "active":
        raise Conflict(f"practitioner {practitioner.id} has already left", current_status=practitioner.status)
    left_on = _business_date(data.left_on, "left_on", not_before=practitioner.joined_on, what="leaving date")
    _leave(session, practitioner, left_on, data.reason, user)
    await session.commit()
    return practitioner


async def _release_practitioners(session: AsyncSession, agency: Agency, on: date, user: User) -> None:
    """A deregistered agency has no practitioners: each leaves on the deregistration date."""
    active = await session.execute(
        select(Practitioner).where(Practitioner.agency_id == agency.id, Practitioner.status == "active")
    )
    for practitioner in active.scalars():
        _leave(session, practitioner, max(on, practitioner.joined_on), "the agency was deregistered", user)


async def get_practitioner(session: AsyncSession, practitioner_id: str, user: User) -> Practitioner:
    return await _get_in_scope(session, Practitioner, practitioner_id, user, "practitioner")


async def list_practitioners(
    session: AsyncSession,
    user: User,
    page: PageParams,
    *,
    region: str | None,
    type: str | None,
    status: str | None,
    agency_id: str | None,
    certificate_number: str | None,
) -> tuple[list[Practitioner], str | None]:
    query = _scoped(select(Practitioner), Practitioner, user, region)
    if type:
        query = query.where(Practitioner.type == type)
    if status:
        query = query.where(Practitioner.status == status)
    if agency_id:
        query = query.where(Practitioner.agency_id == agency_id)
    if certificate_number:
        query = query.where(Practitioner.certificate_number == certificate_number.strip().upper())
    return await _page(session, query, page, Practitioner)


# ---------------------------------------------------------------------------------------------
# Annual reports


def annual_report_state(report: AnnualReport) -> contracts.AnnualReportState:
    return contracts.AnnualReportState.model_validate(report, from_attributes=True)


async def submit_annual_report(
    session: AsyncSession, agency_id: str, data: AnnualReportCreate, user: User
) -> AnnualReport:
    agency = await get_visible(session, agency_id, user)
    require_write_access(user, agency.region)
    try:
        domain.check_report_year(data.year, agency.filed_on.year, today())
    except domain.BusinessDateError as exc:
        raise Invalid.field(["year"], str(exc)) from None
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
    now = utcnow()
    report = AnnualReport(
        id=new_id(),
        agency_id=agency.id,
        region=agency.region,
        year=data.year,
        staff=data.staff,
        practitioners=data.practitioners,
        service_revenue=data.service_revenue,
        filings_handled=data.filings_handled,
        status="current",
        submitted_on=today(),
        supersedes=current.id if current else None,
        supersede_reason=data.supersede_reason,
        created_at=now,
        updated_at=now,
    )
    if current is not None:
        current.status = "superseded"
        current.superseded_by = report.id
        current.version += 1
        current.updated_at = now
        _publish_state(session, "annual_report", "superseded", current, annual_report_state(current), user)
        await session.flush()  # the old report leaves the one-current-per-year index before the new one enters
    session.add(report)
    _publish_state(session, "annual_report", "submitted", report, annual_report_state(report), user)
    await _commit_or_conflict(session, f"a report for {data.year} was submitted at the same time")
    return report


async def list_annual_reports(
    session: AsyncSession,
    user: User,
    page: PageParams,
    *,
    agency_id: str | None = None,
    region: str | None = None,
    year: int | None = None,
    include_superseded: bool = False,
) -> tuple[list[AnnualReport], str | None]:
    query = _scoped(select(AnnualReport), AnnualReport, user, region)
    if agency_id:
        query = query.where(AnnualReport.agency_id == agency_id)
    if year is not None:
        query = query.where(AnnualReport.year == year)
    if not include_superseded:
        query = query.where(AnnualReport.status == "current")
    return await _page(session, query, page, AnnualReport)


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


async def credit_report(session: AsyncSession, agency_id: str, user: User, as_of: date | None) -> domain.GradeReport:
    agency = await get_visible(session, agency_id, user)
    return (await grades_of(session, [agency.id], as_of or today()))[agency.id]


async def _enter_credit(
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
) -> CreditEntry:
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
    _publish_state(session, "credit_entry", "recorded", entry, state, user)
    return entry


def entry_fields(entry: CreditEntry) -> dict:
    return {**entry.model_dump(exclude={"actor"}), "polarity": domain.CREDIT_KINDS[entry.kind][0]}


async def record_credit_entry(
    session: AsyncSession, agency_id: str, data: CreditEntryCreate, user: User
) -> CreditEntry:
    agency = await get_visible(session, agency_id, user)
    require_write_access(user, agency.region)
    occurred_on = _business_date(data.occurred_on, "occurred_on", what="date")
    entry = await _enter_credit(
        session,
        agency,
        kind=data.kind,
        occurred_on=occurred_on,
        description=data.description,
        reference=data.reference,
        points=data.points,
        source="manual",
        source_id=None,
        user=user,
    )
    await session.commit()
    return entry


async def list_credit_entries(
    session: AsyncSession, agency_id: str, user: User, page: PageParams
) -> tuple[list[CreditEntry], str | None]:
    agency = await get_visible(session, agency_id, user)
    return await _page(session, select(CreditEntry).where(CreditEntry.agency_id == agency.id), page, CreditEntry)


async def disclose_credit(
    session: AsyncSession, page: PageParams, *, region: str | None, grade: str | None
) -> tuple[list[tuple[Agency, domain.GradeReport]], str | None]:
    """Agencies under supervision (active or suspended) with their grade today, for the public.
    Filtering by grade walks pages until it has enough, since the grade is computed, not stored."""
    query = _scoped(select(Agency).where(Agency.status.in_(["active", "suspended"])), Agency, None, region)
    found: list[tuple[Agency, domain.GradeReport]] = []
    cursor_page = page
    while True:
        rows, next_cursor = await _page(session, query, cursor_page, Agency)
        grades = await grades_of(session, [a.id for a in rows], today())
        for agency in rows:
            if grade is None or grades[agency.id].grade == grade:
                found.append((agency, grades[agency.id]))
                if len(found) == page.limit:
                    more = agency.id != rows[-1].id or next_cursor is not None
                    return found, encode_cursor({"id": agency.id}) if more else None
        if next_cursor is None:
            return found, None
        cursor_page = PageParams(limit=page.limit, after={"id": rows[-1].id})


# ---------------------------------------------------------------------------------------------
# Complaints


def complaint_state(complaint: Complaint) -> contracts.ComplaintState:
    on_time = None if complaint.resolved_on is None else complaint.resolved_on <= complaint.deadline
    return contracts.ComplaintState(**complaint.model_dump(exclude={"complainant_contact"}), resolved_on_time=on_time)


async def receive_complaint(
    session: AsyncSession,
    data: ComplaintCreate,
    user: User,
    handling_working_days: int,
    calendar: WorkdayCalendar = CALENDAR,
) -> Complaint:
    agency = await session.get(Agency, data.agency_id)
    if agency is None or not user.sees(agency.region):
        raise Invalid.field(["agency_id"], f"no agency {data.agency_id}")
    require_write_access(user, agency.region)
    received_on = _business_date(data.received_on, "received_on", what="receipt date")
    deadline = domain.handling_deadline(received_on, handling_working_days, calendar)
    now = utcnow()
    complaint = Complaint(
        id=new_id(),
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
        created_at=now,
        updated_at=now,
    )
    session.add(complaint)
    _publish_state(session, "complaint", "received", complaint, complaint_state(complaint), user)
    await session.commit()
    return complaint


async def get_complaint(session: AsyncSession, complaint_id: str, user: User) -> Complaint:
    return await _get_in_scope(session, Complaint, complaint_id, user, "complaint")


async def resolve_complaint(session: AsyncSession, complaint_id: str, data: ComplaintResolve, user: User) -> Complaint:
    complaint = await get_complaint(session, complaint_id, user)
    require_write_access(user, complaint.region)
    if complaint.status != "open":
        raise Conflict(f"complaint {complaint.id} is already resolved", current_status=complaint.status)
    resolved_on = _business_date(data.resolved_on, "resolved_on", not_before=complaint.received_on, what="date")
    complaint.status = "resolved"
    complaint.outcome = data.outcome
    complaint.findings = data.findings
    complaint.resolved_on = resolved_on
    complaint.version += 1
    complaint.updated_at = utcnow()
    _publish_state(session, "complaint", "resolved", complaint, complaint_state(complaint), user)
    if data.outcome == "upheld":
        agency = await session.get(Agency, complaint.agency_id)
        await _enter_credit(
            session,
            agency,
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
    return complaint


async def list_complaints(
    session: AsyncSession,
    user: User,
    page: PageParams,
    *,
    region: str | None,
    agency_id: str | None,
    status: str | None,
    channel: str | None,
    outcome: str | None,
) -> tuple[list[Complaint], str | None]:
    query = _scoped(select(Complaint), Complaint, user, region)
    for column, value in (
        (Complaint.agency_id, agency_id),
        (Complaint.status, status),
        (Complaint.channel, channel),
        (Complaint.outcome, outcome),
    ):
        if value:
            query = query.where(column == value)
    return await _page(session, query, page, Complaint)


async def overdue_complaints(
    session: AsyncSession, user: User, page: PageParams, *, region: str | None, as_of: date | None
) -> tuple[list[Complaint], str | None]:
    """Open complaints whose deadline has passed by ``as_of`` (default today), oldest deadline first."""
    query = _scoped(select(Complaint), Complaint, user, region).where(
        Complaint.status == "open", Complaint.deadline < (as_of or today())
    )
    return await _page(session, query, page, Complaint, Complaint.deadline, decode=date.fromisoformat)


@dataclass(frozen=True)
class DeadlineChange:
    complaint_id: str
    region: str
    received_on: date
    handling_working_days: int
    previous_deadline: date
    previous_provisional: bool
    deadline: date
    deadline_provisional: bool
    version: int


@dataclass(frozen=True)
class DeadlineRecount:
    known_through: int
    examined: int
    changed: list[DeadlineChange]


RECOUNT_BATCH = 500


async def recount_provisional_deadlines(
    session: AsyncSession, calendar: WorkdayCalendar, user: User | None
) -> DeadlineRecount:
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
            return DeadlineRecount(calendar.last_year, examined, changed)
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
) -> list[DeadlineChange]:
    query = select(Complaint).where(Complaint.id.in_(ids)).order_by(Complaint.id).with_for_update()
    changes = []
    for complaint in (await session.execute(query)).scalars():
        recounted = _recounted(complaint, calendar) if complaint.status == "open" else None
        if recounted is None:
            continue
        previous = complaint.deadline, complaint.deadline_provisional
        complaint.deadline = recounted.day
        complaint.deadline_provisional = recounted.provisional
        complaint.deadline_known_through = calendar.last_year
        complaint.version += 1
        complaint.updated_at = utcnow()
        _publish_state(session, "complaint", "deadline_changed", complaint, complaint_state(complaint), user)
        changes.append(
            DeadlineChange(
                complaint.id,
                complaint.region,
                complaint.received_on,
                complaint.handling_working_days,
                *previous,
                complaint.deadline,
                complaint.deadline_provisional,
                complaint.version,
            )
        )
    await session.commit()
    return changes


# ---------------------------------------------------------------------------------------------
# Random inspections


def inspection_state(inspection: Inspection) -> contracts.InspectionState:
    return contracts.InspectionState.model_validate(inspection, from_attributes=True)


def draw_state(draw: InspectionDraw, inspections: list[Inspection]) -> contracts.InspectionDrawState:
    return contracts.InspectionDrawState(
        **draw.model_dump(exclude={"actor"}),
        assignments=[
            contracts.DrawAssignment(inspection_id=i.id, agency_id=i.agency_id, inspectors=i.inspectors)
            for i in inspections
        ],
    )


async def draw_inspections(session: AsyncSession, data: DrawCreate, user: User, default_weights: dict[str, int]):
    require_write_access(user, data.region)
    if data.inspector_count > len(data.inspector_pool):
        raise Invalid.field(
            ["inspector_count"],
            f"the pool holds {len(data.inspector_pool)} inspectors, fewer than {data.inspector_count}",
        )
    weights = data.grade_weights.model_dump() if data.grade_weights else dict(default_weights)
    drawn_on = today()
    agencies = list(
        (
            await session.execute(
                _scoped(select(Agency).where(Agency.status == "active"), Agency, None, data.region).order_by(Agency.id)
            )
        ).scalars()
    )
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
    now = utcnow()
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
        created_at=now,
    )
    session.add(draw)
    await session.flush()  # the inspections refer to it
    names = {i["id"]: i["name"] for i in pool}
    region_of = {a.id: a.region for a in agencies}
    inspections = []
    for agency_id, pair in result.assignments:
        inspection = Inspection(
            id=new_id(),
            draw_id=draw.id,
            agency_id=agency_id,
            region=region_of[agency_id],
            inspectors=[{"id": i, "name": names[i]} for i in pair],
            drawn_on=drawn_on,
            status="pending",
            created_at=now,
            updated_at=now,
        )
        session.add(inspection)
        inspections.append(inspection)
    _publish_state(session, "inspection_draw", "drawn", draw, draw_state(draw, inspections), user)
    for inspection in inspections:
        _publish_state(session, "inspection", "scheduled", inspection, inspection_state(inspection), user)
    await session.commit()
    return draw, inspections


def _run(seed: int, eligible: list[dict], pool: list[dict], agency_count: int, inspector_count: int):
    return domain.run_draw(
        seed,
        [domain.Candidate(e["agency_id"], e["weight"]) for e in eligible],
        [i["id"] for i in pool],
        agency_count,
        inspector_count,
    )


async def _with_inspections(
    session: AsyncSession, draws: list[InspectionDraw]
) -> list[tuple[InspectionDraw, list[Inspection]]]:
    """Each draw with its inspections, in the order the agencies were drawn."""
    rows = await session.execute(select(Inspection).where(Inspection.draw_id.in_([d.id for d in draws])))
    by_draw: dict[str, list[Inspection]] = {d.id: [] for d in draws}
    for inspection in rows.scalars():
        by_draw[inspection.draw_id].append(inspection)
    return [
        (draw, sorted(by_draw[draw.id], key=lambda i, order=draw.drawn_agencies: order.index(i.agency_id)))
        for draw in draws
    ]


async def get_draw(session: AsyncSession, draw_id: str, user: User) -> tuple[InspectionDraw, list[Inspection]]:
    draw = await _get_in_scope(session, InspectionDraw, draw_id, user, "draw")
    return (await _with_inspections(session, [draw]))[0]


async def list_draws(
    session: AsyncSession, user: User, page: PageParams, *, region: str | None
) -> tuple[list[tuple[InspectionDraw, list[Inspection]]], str | None]:
    rows, next_cursor = await _page(
        session, _scoped(select(InspectionDraw), InspectionDraw, user, region), page, InspectionDraw
    )
    return await _with_inspections(session, rows), next_cursor


async def verify_draw(session: AsyncSession, draw_id: str) -> tuple[InspectionDraw, domain.DrawResult]:
    """Runs a recorded draw again from its recorded inputs. Public: anyone may check a draw."""
    draw = await session.get(InspectionDraw, draw_id)
    if draw is None:
        raise NotFound(f"no draw {draw_id}")
    return draw, _run(draw.seed, draw.eligible_agencies, draw.inspector_pool, draw.agency_count, draw.inspector_count)


async def get_inspection(session: AsyncSession, inspection_id: str, user: User) -> Inspection:
    return await _get_in_scope(session, Inspection, inspection_id, user, "inspection")


async def record_finding(session: AsyncSession, inspection_id: str, data: FindingCreate, user: User) -> Inspection:
    inspection = await get_inspection(session, inspection_id, user)
    require_write_access(user, inspection.region)
    if inspection.status != "pending":
        raise Conflict(f"inspection {inspection.id} is already concluded", current_status=inspection.status)
    concluded_on = _business_date(data.concluded_on, "concluded_on", not_before=inspection.drawn_on, what="date")
    inspection.status = "concluded"
    inspection.finding = data.finding
    inspection.notes = data.notes or None
    inspection.decision_reference = data.decision_reference
    inspection.concluded_on = concluded_on
    inspection.version += 1
    inspection.updated_at = utcnow()
    _publish_state(session, "inspection", "concluded", inspection, inspection_state(inspection), user)
    if kind := domain.CREDIT_KIND_OF_FINDING.get(data.finding):
        agency = await session.get(Agency, inspection.agency_id)
        await _enter_credit(
            session,
            agency,
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
    return inspection


async def list_inspections(
    session: AsyncSession,
    user: User | None,
    page: PageParams,
    *,
    region: str | None,
    status: str | None = None,
    finding: str | None = None,
    agency_id: str | None = None,
    draw_id: str | None = None,
    year: int | None = None,
) -> tuple[list[Inspection], str | None]:
    query = _scoped(select(Inspection), Inspection, user, region)
    for column, value in (
        (Inspection.status, status),
        (Inspection.finding, finding),
        (Inspection.agency_id, agency_id),
        (Inspection.draw_id, draw_id),
    ):
        if value:
            query = query.where(column == value)
    if year is not None:
        query = query.where(Inspection.drawn_on >= date(year, 1, 1), Inspection.drawn_on <= date(year, 12, 31))
    return await _page(session, query, page, Inspection)


async def disclose_inspections(
    session: AsyncSession, page: PageParams, *, region: str | None, year: int | None, finding: str | None
) -> tuple[list[tuple[Inspection, Agency, InspectionDraw]], str | None]:
    """Inspections with the agency and the draw (its seed), for the public (一公开)."""
    rows, next_cursor = await list_inspections(session, None, page, region=region, finding=finding, year=year)
    agencies = await _by_id(session, Agency, {i.agency_id for i in rows})
    draws = await _by_id(session, InspectionDraw, {i.draw_id for i in rows})
    return [(i, agencies[i.agency_id], draws[i.draw_id]) for i in rows], next_cursor


async def _by_id(session: AsyncSession, model, ids: set[str]) -> dict:
    if not ids:
        return {}
    return {row.id: row for row in (await session.execute(select(model).where(model.id.in_(sorted(ids))))).scalars()}


# ---------------------------------------------------------------------------------------------
# Evaluations and brand level


def evaluation_state(evaluation: Evaluation) -> contracts.EvaluationState:
    return contracts.EvaluationState.model_validate(evaluation, from_attributes=True)


async def record_evaluation(session: AsyncSession, agency_id: str, data: EvaluationCreate, user: User) -> Evaluation:
    agency = await get_visible(session, agency_id, user)
    require_write_access(user, agency.region)
    try:
        domain.check_report_year(data.year, agency.filed_on.year, today())
    except domain.BusinessDateError as exc:
        raise Invalid.field(["year"], str(exc)) from None
    evaluated_on = _business_date(data.evaluated_on, "evaluated_on", what="evaluation date")
    existing = (
        await session.execute(select(Evaluation).where(Evaluation.agency_id == agency.id, Evaluation.year == data.year))
    ).scalar_one_or_none()
    if existing is not None:
        raise Conflict(f"agency {agency.id} is already evaluated for {data.year}", evaluation_id=existing.id)
    evaluation = Evaluation(
        id=new_id(),
        agency_id=agency.id,
        region=agency.region,
        year=data.year,
        score=data.score,
        evaluator=data.evaluator,
        evaluated_on=evaluated_on,
        notes=data.notes,
        created_at=utcnow(),
    )
    session.add(evaluation)
    _publish_state(session, "evaluation", "recorded", evaluation, evaluation_state(evaluation), user)
    await _commit_or_conflict(session, f"agency {agency.id} was evaluated for {data.year} at the same time")
    return evaluation


async def list_evaluations(
    session: AsyncSession,
    user: User,
    page: PageParams,
    *,
    agency_id: str | None = None,
    region: str | None = None,
    year: int | None = None,
) -> tuple[list[Evaluation], str | None]:
    """Best score first (brand agencies are chosen from the best), then by id."""
    query = _scoped(select(Evaluation), Evaluation, user, region)
    if agency_id:
        query = query.where(Evaluation.agency_id == agency_id)
    if year is not None:
        query = query.where(Evaluation.year == year)
    return await _page(session, query, page, Evaluation, Evaluation.score, descending=True, decode=Decimal)


async def change_brand_level(session: AsyncSession, agency_id: str, data: BrandLevelChange, user: User) -> Agency:
    agency = await get_visible(session, agency_id, user)
    require_write_access(user, agency.region)
    if agency.status == "deregistered":
        raise Conflict(f"agency {agency.id} is deregistered", current_status=agency.status)
    if data.brand_level == agency.brand_level:
        raise Conflict(f"agency {agency.id} is already at brand level {agency.brand_level}")
    last_decision = date.fromisoformat(agency.brand_history[-1]["decided_on"]) if agency.brand_history else None
    decided_on = _business_date(
        data.decided_on, "decided_on", not_before=last_decision or agency.filed_on, what="decision date"
    )
    now = utcnow()
    agency.brand_history = [
        *agency.brand_history,
        {
            "brand_level": data.brand_level,
            "previous_level": agency.brand_level,
            "decided_on": decided_on.isoformat(),
            "decision_reference": data.decision_reference,
            "at": now.isoformat(),
            "actor": user.sub,
        },
    ]
    agency.brand_level = data.brand_level
    agency.version += 1
    agency.updated_at = now
    _publish(session, agency, "brand_level_changed", user)
    await session.commit()
    return agency
