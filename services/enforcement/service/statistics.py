"""Reports on the cases of a region: filed, closed, closed on time and overdue in a window (按期结案率),
and the overdue open cases of a day by handling unit."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.enforcement import domain
from services.enforcement.models import Case
from services.enforcement.schemas import CaseStats, Counts, OverdueCase, OverdueReport, OverdueUnit, StatsWindow
from services.enforcement.service.cases import case_file
from zhichan.api.problems import Invalid
from zhichan.api.scope import scoped
from zhichan.auth import User
from zhichan.clock import today


async def _cases_touching(session: AsyncSession, user: User, region: str | None, start: date, end: date) -> list[Case]:
    """Cases filed by ``end`` that were still open on ``start`` or later."""
    query = select(Case).where(Case.filed_date <= end, or_(Case.closed_date.is_(None), Case.closed_date >= start))
    return list((await session.execute(scoped(query, Case.region, user, region))).scalars())


async def case_stats(session: AsyncSession, user: User, window: StatsWindow) -> CaseStats:
    """Cases filed, closed, closed on time and overdue in a window (default: the year to today)."""
    end = window.to or today()
    start = window.from_ or date(end.year, 1, 1)
    if end < start:
        raise Invalid.field(["from"], "the window starts after it ends")
    total = domain.Tally()
    by_type = {code: domain.Tally() for code in domain.CASE_TYPES}
    by_procedure = {code: domain.Tally() for code in domain.PROCEDURES}
    for case in await _cases_touching(session, user, window.region, start, end):
        cf = case_file(case)
        for tally in (total, by_type[case.case_type], by_procedure[case.procedure]):
            tally.count(cf, start, end)
    return CaseStats(
        **Counts.of(total).model_dump(),
        region=window.region,
        from_=start,
        to=end,
        by_type={code: Counts.of(t) for code, t in by_type.items()},
        by_procedure={code: Counts.of(t) for code, t in by_procedure.items()},
    )


def _status_on(case: Case, day: date) -> str:
    return [step["status"] for step in case.timeline if date.fromisoformat(step["date"]) <= day][-1]


async def overdue_report(session: AsyncSession, user: User, region: str | None, as_of: date | None) -> OverdueReport:
    """The open cases past their deadline on a day (default today), by handling unit."""
    as_of = as_of or today()
    units: dict[str, list[OverdueCase]] = defaultdict(list)
    for case in await _cases_touching(session, user, region, as_of, as_of):
        cf = case_file(case)
        if not cf.overdue_on(as_of):
            continue
        due = cf.due_as_of(as_of)
        units[case.handling_unit].append(
            OverdueCase(
                id=case.id,
                case_number=case.case_number,
                region=case.region,
                type=case.case_type,
                procedure=case.procedure,
                status=_status_on(case, as_of),
                filed_date=case.filed_date,
                due_date=due,
                days_overdue=(as_of - due).days,
            )
        )
    listed = [
        OverdueUnit(
            handling_unit=unit, count=len(cases), cases=sorted(cases, key=lambda c: (c.due_date, c.case_number))
        )
        for unit, cases in units.items()
    ]
    listed.sort(key=lambda u: (-u.count, u.handling_unit))
    return OverdueReport(region=region, as_of=as_of, total=sum(u.count for u in listed), units=listed)
