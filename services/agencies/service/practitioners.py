"""Practitioners (执业人员): a certificate's spells at agencies, joining and leaving."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.agencies import contracts
from services.agencies.models import Agency, Practitioner
from services.agencies.schemas import PractitionerCreate, PractitionerFilter, PractitionerLeave
from services.agencies.service._common import Paged, business_date, live_agency, publish, writable
from zhichan.api.pagination import PageParams, keyset_page
from zhichan.api.problems import Conflict
from zhichan.api.scope import get_visible, scoped
from zhichan.auth import User
from zhichan.db import commit_or_conflict, state_of


def practitioner_state(practitioner: Practitioner) -> contracts.PractitionerState:
    return state_of(contracts.PractitionerState, practitioner)


async def join_practitioner(
    session: AsyncSession, agency_id: str, data: PractitionerCreate, user: User
) -> contracts.PractitionerState:
    agency = await live_agency(session, agency_id, user)
    state = practitioner_state(await joined(session, agency, data, user))
    await commit_or_conflict(session, f"certificate {data.certificate_number} already practises")
    return state


async def joined(session: AsyncSession, agency: Agency, data: PractitionerCreate, user: User) -> Practitioner:
    """The certificate's new spell at ``agency`` from its business date, with its event (the
    caller commits); 409 while the certificate practises elsewhere."""
    spells = list(
        (
            await session.execute(
                select(Practitioner).where(Practitioner.certificate_number == data.certificate_number)
            )
        ).scalars()
    )
    practising = next((p for p in spells if p.status == "active"), None)
    if practising is not None:
        if not user.sees(practising.region):  # an agency of another region: nothing of it is named
            raise Conflict(f"certificate {data.certificate_number} already practises; it must leave first")
        raise Conflict(
            f"certificate {data.certificate_number} practises at agency {practising.agency_id}; it must leave first",
            practitioner_id=practising.id,
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
    publish(session, "practitioner", "joined", practitioner_state(practitioner), user)
    return practitioner


def _leave(
    session: AsyncSession, practitioner: Practitioner, left_on: date, reason: str | None, user: User
) -> contracts.PractitionerState:
    practitioner.status = "left"
    practitioner.left_on = left_on
    practitioner.leave_reason = reason
    practitioner.touch()
    return publish(session, "practitioner", "left", practitioner_state(practitioner), user)


async def leave_practitioner(
    session: AsyncSession, practitioner_id: str, data: PractitionerLeave, user: User
) -> contracts.PractitionerState:
    practitioner = await writable(session, Practitioner, practitioner_id, user, "practitioner")
    state = left(session, practitioner, data, user)
    await session.commit()
    return state


def left(
    session: AsyncSession, practitioner: Practitioner, data: PractitionerLeave, user: User
) -> contracts.PractitionerState:
    """The practitioner leaves on the business date, with the event (the caller commits); 409 when
    they have left already."""
    if practitioner.status != "active":
        raise Conflict(f"practitioner {practitioner.id} has already left", current_status=practitioner.status)
    left_on = business_date(data.left_on, "left_on", not_before=practitioner.joined_on, what="leaving date")
    return _leave(session, practitioner, left_on, data.reason, user)


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
