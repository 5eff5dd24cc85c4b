"""Agency use cases: load, apply the rule, write the row and its outbox event in one transaction."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.agencies import contracts, domain
from services.agencies.models import Agency
from services.agencies.schemas import AgencyCreate, AgencyUpdate, Transition
from zhichan.api.etag import check_if_match
from zhichan.api.pagination import PageParams, encode_cursor
from zhichan.api.problems import Conflict, Invalid, NotFound
from zhichan.auth import User, require_write_access
from zhichan.clock import today, utcnow
from zhichan.events import record_event
from zhichan.ids import new_id

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


async def file_agency(session: AsyncSession, data: AgencyCreate, user: User) -> Agency:
    require_write_access(user, data.region)
    filed_on = data.filed_on or today()
    if filed_on > today():
        raise Invalid.field(["filed_on"], "the filing date lies in the future")
    if existing := await _live_uscc_taken(session, data.uscc):
        raise Conflict(f"USCC {data.uscc} is already filed as agency {existing.id} ({existing.status})")
    now = utcnow()
    agency = Agency(
        id=new_id(),
        name=data.name,
        uscc=data.uscc,
        region=data.region,
        address=data.address,
        service_types="," + ",".join(data.service_types) + ",",
        licence_numbers=data.licence_numbers,
        offline=data.offline,
        in_cluster=data.in_cluster,
        brand_level=data.brand_level,
        status="filed",
        filed_on=filed_on,
        status_history=[{"status": "filed", "on": filed_on.isoformat(), "at": now.isoformat(), "actor": user.sub}],
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(agency)
    _publish(session, agency, "filed", user)
    try:
        await session.commit()
    except IntegrityError:  # a concurrent filing of the same USCC won the race
        await session.rollback()
        raise Conflict(f"USCC {data.uscc} is already filed") from None
    return agency


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
    query = select(Agency).order_by(Agency.id).limit(page.limit + 1)
    scope = user.scope(region)
    if scope is not None:
        query = query.where(Agency.region.in_(sorted(scope)))
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
