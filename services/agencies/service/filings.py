"""Agencies' filings (备案): filed, particulars changed, approved, suspended, reinstated,
deregistered; brand level decisions; the list."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.agencies import contracts, domain
from services.agencies.models import Agency
from services.agencies.schemas import AgencyCreate, AgencyFilter, AgencyUpdate, BrandLevelChange, Transition
from services.agencies.service import practitioners
from services.agencies.service._common import (
    Paged,
    business_date,
    date_rule,
    live_agency,
    publish,
    visible_agency,
    writable,
)
from zhichan.api.etag import check_if_match
from zhichan.api.pagination import PageParams, keyset_page
from zhichan.api.problems import Conflict, Invalid
from zhichan.api.scope import scoped
from zhichan.auth import User, require_write_access
from zhichan.clock import today, utcnow
from zhichan.db import commit_or_conflict, insert_at_commit, state_of
from zhichan.ids import new_id

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
    return publish(session, "agency", verb, agency_state(agency), user)


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
        if holder is None or not user.sees(holder.region):  # deregistered since, or not the caller's to know
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
        with date_rule("date"):
            state = await take_action(session, agency, action, body.date or today(), body.reason, user)
    except domain.TransitionNotAllowed as exc:
        raise refused_action(exc, agency) from None
    await session.commit()
    return state


def refused_action(exc: domain.TransitionNotAllowed, agency: Agency) -> Conflict:
    """The answer to an action the state machine refuses."""
    return Conflict(str(exc), current_status=agency.status, action=exc.action)


async def take_action(
    session: AsyncSession, agency: Agency, action: str, effective: date, reason: str | None, user: User
) -> contracts.AgencyState:
    """Takes ``action`` on its business date ``effective``, with its event (the caller commits);
    :class:`domain.TransitionNotAllowed` or :class:`domain.BusinessDateError` when the rules refuse."""
    new_status = domain.next_status(action, agency.status)
    domain.check_effective_date(effective, date.fromisoformat(agency.status_history[-1]["on"]), today())
    agency.status = new_status
    agency.status_history = [
        *agency.status_history,
        {
            "status": new_status,
            "on": effective.isoformat(),
            "at": utcnow().isoformat(),
            "actor": user.sub,
            "reason": reason,
        },
    ]
    state = _changed(session, agency, VERB_OF_ACTION[action], user)
    if new_status == "deregistered":
        await practitioners.release_practitioners(session, agency, effective, user)
    return state


async def change_brand_level(
    session: AsyncSession, agency_id: str, data: BrandLevelChange, user: User
) -> contracts.AgencyState:
    agency = await live_agency(session, agency_id, user)
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
