"""Complaints (投诉) against agencies: received with a handling deadline, resolved (an upheld
one enters the credit archive), the overdue; and provisional deadlines counted again once the
calendar knows their year."""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.agencies import contracts, domain
from services.agencies.models import Agency, Complaint
from services.agencies.schemas import (
    ComplaintCreate,
    ComplaintFilter,
    ComplaintResolve,
    DeadlineChangePublic,
    DeadlineRecountPublic,
)
from services.agencies.service import credit
from services.agencies.service._common import Paged, business_date, publish, writable
from zhichan.api.pagination import PageParams, keyset_page
from zhichan.api.problems import Conflict, Invalid
from zhichan.api.scope import get_visible, scoped
from zhichan.auth import User, require_write_access
from zhichan.clock import today
from zhichan.db import reads_only, state_of
from zhichan.personal import mask_contact, shown
from zhichan.workdays import CALENDAR, WorkdayCalendar


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
    state = complaint_state(received(session, agency, data, user, handling_working_days, calendar))
    await session.commit()
    return state


def received(
    session: AsyncSession,
    agency: Agency,
    data: ComplaintCreate,
    user: User,
    handling_working_days: int,
    calendar: WorkdayCalendar,
) -> Complaint:
    """The complaint against ``agency`` received on its business date, with its handling deadline
    and its event (the caller commits)."""
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
    publish(session, "complaint", "received", complaint_state(complaint), user)
    return complaint


async def get_complaint(
    session: AsyncSession, complaint_id: str, user: User
) -> tuple[contracts.ComplaintState, dict[str, str | None]]:
    """The complaint's state, and beside it the complainant's contact: whole for officers,
    masked for auditors and departments (never in an event, a list or the disclosure)."""
    complaint = await get_visible(session, Complaint, complaint_id, user, "complaint")
    return complaint_state(complaint), {"complainant_contact": shown(user, complaint.complainant_contact, mask_contact)}


async def resolve_complaint(
    session: AsyncSession, complaint_id: str, data: ComplaintResolve, user: User
) -> contracts.ComplaintState:
    complaint = await writable(session, Complaint, complaint_id, user, "complaint")
    state = await resolved(session, complaint, data, user)
    await session.commit()
    return state


async def resolved(
    session: AsyncSession, complaint: Complaint, data: ComplaintResolve, user: User
) -> contracts.ComplaintState:
    """The open complaint resolved on its business date, with its event; an upheld one enters the
    credit archive (the caller commits)."""
    if complaint.status != "open":
        raise Conflict(f"complaint {complaint.id} is already resolved", current_status=complaint.status)
    resolved_on = business_date(data.resolved_on, "resolved_on", not_before=complaint.received_on, what="date")
    complaint.status = "resolved"
    complaint.outcome = data.outcome
    complaint.findings = data.findings
    complaint.resolved_on = resolved_on
    complaint.touch()
    state = publish(session, "complaint", "resolved", complaint_state(complaint), user)
    if data.outcome == "upheld":
        await credit.enter_credit(
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
