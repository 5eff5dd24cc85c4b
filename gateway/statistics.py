"""Official statistics read from their releases: the metrics ``statistics.<code>``.

A release is a figure for a region × a statistic × a period, published on a date; a later release
of the same cell revises it and both are kept. A view as of a date reads the statistic **as it was
known on that date**: only releases published by then count, and of one cell's releases the
latest published (ties: the later made, then the greater id). So a November release revising
October's figure changes the view as of December, not a view as of a date before it was published.

A region's figure for a period is its own release; for an additive statistic without one, the sum
of its child regions' figures for that period (recursively; a child without one adds nothing). A
non-additive statistic (a share, a per-capita figure) is only ever its own release.

Over a window (``start`` may be None, ``end`` included):

- a **stock** is the figure of the latest period ending on or before ``end`` (the start is
  ignored), dated at that period's end — a year's figure before a quarter's, a quarter's before a
  month's, when several end that day;
- an additive **flow** covers the window from ``start`` (None: the first period released) period
  after period — a year where a whole year fits, else a quarter, else a month — and stops at the
  first period without a figure; its value is the sum, dated at the last day covered; nothing
  covered, no reading. A window starting mid-month counts that month whole (no figure is finer);
- a non-additive flow is never summed: the longest period inside the window of those ending last.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import StatisticDefinitionView, StatisticReleaseView
from zhichan.regions import registry
from zhichan.statistics_catalogue import BUILT_IN, Period, Statistic

ONE_DAY = timedelta(days=1)
# Of the periods ending the same day, the one a stock is read from; and the order a flow's window
# is covered in: the longest period that fits first.
LONGEST_FIRST = ("year", "quarter", "month")


@dataclass(frozen=True)
class StatisticReading:
    """A statistic's value over a window and the day it is good for (a period's end)."""

    value: Decimal
    on: date


async def statistic_catalogue(session: AsyncSession) -> dict[str, Statistic]:
    """The built-in statistics and those an admin added (an added one may not replace a built-in)."""
    rows = (await session.execute(select(StatisticDefinitionView))).scalars()
    added = {
        row.code: Statistic(row.code, row.name, row.unit, row.kind, row.additive, row.description)
        for row in rows
        if row.code not in BUILT_IN
    }
    return {**BUILT_IN, **added}


def describe(statistic: Statistic) -> dict:
    """A statistic as the metric listing shows it (the shape of a catalogue metric's entry)."""
    return {
        "name": statistic.metric,
        "kind": statistic.kind,
        "unit": statistic.unit,
        "description": f"{statistic.name}: {statistic.description}" if statistic.description else statistic.name,
        "dated_by": "the end of the release's period; as known on the date asked (releases published by then)",
        "filters": {},
        "additive": statistic.additive,
    }


class StatisticReleases:
    """The releases of the statistics a view reads, asked for ahead and read with one query per
    statistic: every release of its regions, whatever the date (a trend view reads many dates)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._catalogue: dict[str, Statistic] | None = None
        self._pending: dict[str, set[str]] = defaultdict(set)
        self._read: dict[str, tuple[frozenset[str], list[StatisticReleaseView]]] = {}
        # An indicator reads the same figures over each of its windows, a trend view on each date.
        self._figures: dict[tuple[str, frozenset[str], date], StatisticFigures] = {}

    async def statistic(self, code: str) -> Statistic | None:
        """The catalogue's entry (read once per view); None for a code nobody defined."""
        if self._catalogue is None:
            self._catalogue = await statistic_catalogue(self.session)
        return self._catalogue.get(code)

    def ask(self, code: str, regions: Iterable[str]) -> None:
        known = self._read.get(code)
        wanted = set(regions) - (known[0] if known else frozenset())
        if wanted:
            self._pending[code] |= wanted

    async def figures(self, statistic: Statistic, regions: frozenset[str], as_of: date) -> StatisticFigures:
        """The statistic's figures in ``regions`` as known on ``as_of``."""
        key = (statistic.code, regions, as_of)
        if key in self._figures:
            return self._figures[key]
        self.ask(statistic.code, regions)
        if self._pending.get(statistic.code):
            wanted = self._pending.pop(statistic.code)
            known, rows = self._read.get(statistic.code, (frozenset(), []))
            stmt = select(StatisticReleaseView).where(
                StatisticReleaseView.statistic == statistic.code, StatisticReleaseView.region.in_(sorted(wanted))
            )
            rows = rows + list((await self.session.execute(stmt)).scalars())
            self._read[statistic.code] = (known | wanted, rows)
        rows = [row for row in self._read[statistic.code][1] if row.region in regions]
        figures = self._figures[key] = StatisticFigures(statistic, rows, as_of)
        return figures


class StatisticFigures:
    """One statistic's figures per region and period, from the releases published by ``as_of``."""

    def __init__(self, statistic: Statistic, releases: Iterable[StatisticReleaseView], as_of: date) -> None:
        self.statistic = statistic
        latest: dict[tuple[str, Period], StatisticReleaseView] = {}
        for row in releases:
            if row.published_on > as_of:
                continue
            cell = (row.region, Period(row.period_start, row.period_end, row.period_kind))
            held = latest.get(cell)
            if held is None or _newer(row, held):
                latest[cell] = row
        self._own: dict[str, dict[Period, Decimal]] = defaultdict(dict)
        for (region, period), row in latest.items():
            self._own[region][period] = Decimal(row.value)
        self._values: dict[tuple[str, Period], Decimal | None] = {}

    def value(self, region: str, period: Period) -> Decimal | None:
        """The region's figure for the period: its own, or its children's summed (additive)."""
        own = self._own.get(region, {}).get(period)
        if own is not None or not self.statistic.additive:
            return own
        if (region, period) not in self._values:
            children = [self.value(child, period) for child in _children(region)]
            found = [v for v in children if v is not None]
            self._values[(region, period)] = sum(found, Decimal(0)) if found else None
        return self._values[(region, period)]

    def periods(self, region: str) -> list[Period]:
        """The periods the region has a figure for, in order."""
        regions = registry().descendants(region) if self.statistic.additive and region in registry() else {region}
        return sorted({period for code in regions for period in self._own.get(code, {})})

    def over(self, region: str, start: date | None, end: date) -> StatisticReading | None:
        """The statistic over the window, by its kind (module docstring); None when nothing is known."""
        if self.statistic.kind == "stock":
            return self.level(region, end)
        if self.statistic.additive:
            return self.covered(region, start, end)
        return self.single_period(region, start, end)

    def level(self, region: str, end: date) -> StatisticReading | None:
        candidates = [p for p in self.periods(region) if p.end <= end]
        for period in sorted(candidates, key=lambda p: (p.end, -LONGEST_FIRST.index(p.kind)), reverse=True):
            if (value := self.value(region, period)) is not None:
                return StatisticReading(value, period.end)
        return None

    def covered(self, region: str, start: date | None, end: date) -> StatisticReading | None:
        # Statistics come by the month at the finest: a window starting mid-month (a plan starting
        # 2024-03-26) counts its first month whole rather than have no figure at all.
        first = None if start is None else start.replace(day=1)
        by_start: dict[date, list[Period]] = defaultdict(list)
        for period in self.periods(region):
            if period.end <= end and (first is None or period.start >= first):
                by_start[period.start].append(period)
        day = first if first is not None else min(by_start, default=None)
        total, last = Decimal(0), None
        while day is not None:
            following = sorted(by_start.get(day, ()), key=lambda p: LONGEST_FIRST.index(p.kind))
            found = next(((p, v) for p in following if (v := self.value(region, p)) is not None), None)
            if found is None:
                break  # a gap: what comes after it is not added
            period, value = found
            total, last, day = total + value, period.end, period.end + ONE_DAY
        return None if last is None else StatisticReading(total, last)

    def single_period(self, region: str, start: date | None, end: date) -> StatisticReading | None:
        inside = [p for p in self.periods(region) if p.end <= end and (start is None or p.start >= start)]
        for period in sorted(inside, key=lambda p: (p.end, p.end - p.start), reverse=True):
            if (value := self.value(region, period)) is not None:
                return StatisticReading(value, period.end)
        return None


def _newer(row: StatisticReleaseView, than: StatisticReleaseView) -> bool:
    return (row.published_on, row.created_at, row.id) > (than.published_on, than.created_at, than.id)


def _children(region: str) -> list[str]:
    return [child.code for child in registry().children(region, withdrawn=True)] if region in registry() else []
