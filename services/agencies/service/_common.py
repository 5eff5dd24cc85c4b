"""What the agencies use cases share: the event of a change, business dates, loading a record
to change it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.agencies import contracts, domain
from services.agencies.models import Agency
from zhichan.api.problems import Conflict, Invalid
from zhichan.api.scope import get_visible
from zhichan.auth import User, require_write_access
from zhichan.clock import today
from zhichan.events import record_event
from zhichan.record_import import KEYS_PER_SELECT

Row = TypeVar("Row")
State = TypeVar("State", bound=BaseModel)
Paged = tuple[list, str | None]  # states (or a list's items) and the next page's cursor


def publish(session: AsyncSession, aggregate: str, verb: str, state: State, user: User | None) -> State:
    """The change's event, in the change's transaction (the caller commits); ``user`` None: the
    service's own doing. Gives back ``state``, which the use case answers with."""
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
    return state


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


async def live_agency(session: AsyncSession, agency_id: str, user: User) -> Agency:
    """The agency a change is made to that a deregistered agency no longer takes (409)."""
    agency = await writable(session, Agency, agency_id, user, "agency")
    if agency.status == "deregistered":
        raise Conflict(f"agency {agency.id} is deregistered", current_status=agency.status)
    return agency


async def agency_of_year(session: AsyncSession, agency_id: str, year: int, user: User) -> Agency:
    """The agency a yearly record (an annual report, an evaluation) is made for: the year has
    begun, and the agency was filed by then (else 422)."""
    agency = await writable(session, Agency, agency_id, user, "agency")
    with date_rule("year"):
        domain.check_report_year(year, agency.filed_on.year, today())
    return agency


async def agencies_by_uscc(
    session: AsyncSession, usccs: set[str], *, for_update: bool = False
) -> dict[str, list[Agency]]:
    """The agencies filed under each USCC, the last filed first (a USCC is filed again only after
    its agency was deregistered, so at most one of them is not); ``for_update`` locks them until
    the commit on PostgreSQL."""
    found: dict[str, list[Agency]] = {}
    ordered = sorted(usccs)
    for start in range(0, len(ordered), KEYS_PER_SELECT):
        query = select(Agency).where(Agency.uscc.in_(ordered[start : start + KEYS_PER_SELECT]))
        if for_update:
            query = query.with_for_update()
        for agency in (await session.execute(query)).scalars():
            found.setdefault(agency.uscc, []).append(agency)
    for agencies in found.values():
        agencies.sort(key=lambda a: (a.filed_on, a.id), reverse=True)
    return found


def agency_named(agencies: list[Agency] | None) -> Agency | None:
    """The agency a USCC names in a record of it (a practitioner, a report, a complaint): the one
    not deregistered, else the one filed last."""
    if not agencies:
        return None
    return next((a for a in agencies if a.status != "deregistered"), agencies[0])
