"""The repeat-infringer watch list (重点监管): a respondent's entries on the lists of the regions
above its cases, worked out again when a decision or a window changes, and read for a day."""

from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.enforcement import contracts, domain
from services.enforcement.models import Case, WatchlistEntry
from services.enforcement.schemas import WatchlistCase, WatchlistItem, WatchlistPage
from services.enforcement.service._common import from_iso, publish
from services.enforcement.service._in_force import chain_of, policies_of, window_change_days, window_in_force, years_on
from zhichan.api.pagination import PageParams, next_page
from zhichan.auth import User
from zhichan.clock import today
from zhichan.db import state_of
from zhichan.regions import registry


def watchlist_state(entry: WatchlistEntry) -> contracts.WatchlistEntryState:
    return state_of(contracts.WatchlistEntryState, entry)


def _periods(stored: list[dict]) -> list[tuple[date, date]]:
    return [(date.fromisoformat(p["start"]), date.fromisoformat(p["end"])) for p in stored]


def _reentered(before: list[tuple[date, date]], after: list[tuple[date, date]]) -> bool:
    """Whether a listed stretch appeared that overlaps none of the earlier ones."""
    return any(all(end < old_start or start > old_end for old_start, old_end in before) for start, end in after)


async def _serialize_on(session: AsyncSession, key: str) -> None:
    """Makes concurrent transactions about the same thing take turns. SQLite already runs one
    writer at a time; PostgreSQL gets a transaction-scoped advisory lock."""
    if session.bind.dialect.name == "postgresql":
        lock = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        await session.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": lock})


async def refresh(session: AsyncSession, targets: dict[str, set[str]], user: User) -> None:
    """Works out again, for each respondent (USCC) and each region given, the days it is on the
    region's watch list; a changed entry is written with its event (``entered`` when a new
    listed stretch begins)."""
    for uscc in sorted(targets):
        await _serialize_on(session, f"watchlist:{uscc}")
        query = select(Case).where(
            Case.respondent_uscc == uscc,
            Case.outcome.in_(sorted(domain.AGAINST_RESPONDENT)),
            Case.decided_date.is_not(None),
        )
        cases = sorted((await session.execute(query)).scalars(), key=lambda c: (c.decided_date, c.case_number))
        regions = targets[uscc]
        policies = await policies_of(session, {code for region in regions for code in chain_of(region)})
        for region in sorted(regions):
            scope = registry().descendants(region)
            mine = [c for c in cases if c.region in scope]
            periods = domain.listed_periods(
                [c.decided_date for c in mine], years_on(policies, region), window_change_days(policies, region)
            )
            entry = await session.get(WatchlistEntry, f"{region}:{uscc}")
            if entry is None and not periods:
                continue
            decisions = [
                state_of(contracts.WatchedDecision, c, case_id=c.id, type=c.case_type).model_dump(mode="json")
                for c in mine
            ]
            listed = [{"start": start.isoformat(), "end": end.isoformat()} for start, end in periods]
            if entry is not None and entry.decisions == decisions and entry.listed_periods == listed:
                continue
            if entry is None:  # listed: two decisions at least
                verb = "entered"
                entry = WatchlistEntry.new(
                    id=f"{region}:{uscc}",
                    region=region,
                    uscc=uscc,
                    respondent_name=mine[-1].respondent_name,
                    decisions=decisions,
                    listed_periods=listed,
                )
                session.add(entry)
            else:
                verb = "entered" if _reentered(_periods(entry.listed_periods), periods) else "updated"
                entry.respondent_name = mine[-1].respondent_name if mine else entry.respondent_name
                entry.decisions = decisions
                entry.listed_periods = listed
                entry.touch()
            publish(session, "watchlist_entry", verb, watchlist_state(entry), user)


def _top_regions(user: User) -> set[str]:
    """Where a caller's watch list is read when no region is asked for: the regions of the
    token, or for an administrator the provinces (entries exist at every level above a case)."""
    if user.is_admin and not user.regions:
        return {r.code for r in registry().all() if r.parent is None}
    return {code for code in user.regions if code in registry()}


async def listed(
    session: AsyncSession, user: User, page: PageParams, region: str | None, as_of: date | None
) -> WatchlistPage:
    """The respondents listed on a day (default today): on the region's list, or on the lists of
    the caller's regions; in the order of the entries' ids."""
    as_of = as_of or today()
    regions = ({region} if user.sees(region) else set()) if region else _top_regions(user)
    query = select(WatchlistEntry).where(WatchlistEntry.region.in_(sorted(regions))).order_by(WatchlistEntry.id)
    if page.after:
        query = query.where(WatchlistEntry.id > str(page.after.get("id", "")))
    entries = list((await session.execute(query)).scalars())
    policies = await policies_of(session, {code for e in entries for code in chain_of(e.region)})
    items = []
    for entry in entries:
        period = next(((s, e) for s, e in _periods(entry.listed_periods) if s <= as_of <= e), None)
        if period is None:
            continue
        years = window_in_force(policies, entry.region, as_of).value
        counting = set(domain.counting_decisions([from_iso(d["decided_date"]) for d in entry.decisions], as_of, years))
        cases = [
            WatchlistCase(**d, counts_until=domain.add_years(from_iso(d["decided_date"]), years))
            for d in entry.decisions
            if from_iso(d["decided_date"]) in counting
        ]
        items.append(
            WatchlistItem(
                id=entry.id,
                region=entry.region,
                uscc=entry.uscc,
                respondent_name=entry.respondent_name,
                window_years=years,
                listed_since=period[0],
                listed_until=period[1],
                cases=cases,
            )
        )
        if len(items) > page.limit:
            break
    items, next_cursor = next_page(items, page, lambda item: {"id": item.id})
    return WatchlistPage(as_of=as_of, items=items, next_cursor=next_cursor)
