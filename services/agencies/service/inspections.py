"""Random inspections (双随机、一公开): the draw and its verification, the findings
(rectification or a penalty enters the credit archive), and their disclosure."""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.agencies import contracts, domain
from services.agencies.models import Agency, Inspection, InspectionDraw
from services.agencies.schemas import (
    MAX_SEED,
    DrawCreate,
    DrawOutcome,
    DrawVerification,
    FindingCreate,
    InspectionDisclosure,
    InspectionDisclosureFilter,
    InspectionDisclosureList,
    InspectionFilter,
)
from services.agencies.service import credit
from services.agencies.service._common import Paged, business_date, publish, writable
from zhichan.api.pagination import PageParams, keyset_page
from zhichan.api.problems import Conflict, Invalid, NotFound
from zhichan.api.scope import get_visible, scoped
from zhichan.auth import User, require_write_access
from zhichan.clock import today, utcnow
from zhichan.db import state_of
from zhichan.ids import new_id


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
    grades = await credit.grades_of(session, [a.id for a in agencies], drawn_on)
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
    state = publish(session, "inspection_draw", "drawn", draw_state(draw, inspections), user)
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
    state = publish(session, "inspection", "concluded", inspection_state(inspection), user)
    if kind := domain.CREDIT_KIND_OF_FINDING.get(data.finding):
        await credit.enter_credit(
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
