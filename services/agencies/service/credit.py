"""The credit archive (诚信档案) and the grade it gives (信用等级); the public list of grades."""

from __future__ import annotations

import inspect
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.agencies import contracts, domain
from services.agencies.models import Agency, CreditEntry
from services.agencies.schemas import (
    CountedEntryPublic,
    CreditDisclosure,
    CreditDisclosureList,
    CreditEntryCreate,
    CreditPublic,
)
from services.agencies.service._common import Paged, business_date, publish, visible_agency, writable
from zhichan.api.pagination import PageParams, encode_cursor, keyset_page
from zhichan.api.scope import scoped
from zhichan.auth import User
from zhichan.clock import today, utcnow
from zhichan.ids import new_id


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
    return publish(session, "credit_entry", "recorded", state, user)


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
