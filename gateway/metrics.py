"""Metrics computed from the read model's sums per month and per day, per region (descendants
included), per date, with filters. Names, units, kinds and filters are
:mod:`zhichan.metrics_catalogue`'s — the same definitions the targets service checks plan
bindings against."""

from __future__ import annotations

import calendar
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import Table, and_, bindparam, case, func, literal_column, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.facts import MONEY_SERIES, SERIES_DIMENSIONS, SET_DIMENSIONS
from gateway.models import SeriesDaily, SeriesMonthly, SeriesYearly
from zhichan import rates
from zhichan.api.problems import Invalid
from zhichan.metrics_catalogue import CATALOGUE, Metric
from zhichan.money import from_fen
from zhichan.regions import registry

# Series whose records a region keeps for itself and its descendants together (the watch list
# of a city lists the repeat infringers of its districts too): never summed over descendants.
PER_REGION_SERIES = {"enforcement.repeat_infringers"}
BOOL_VALUES = {"true": True, "false": False, "1": True, "0": False}
# The day ranges at windows' edges read in one query, each a SELECT of a UNION ALL (SQLite allows
# 500): a view's windows end on a few dates, so it meets a few; past this, near ones are joined.
MAX_DAY_RANGES = 16
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class MetricQuery:
    regions: frozenset[str] | None  # None: every region
    as_of: date
    start: date | None = None  # flows: window start (None: since the beginning)
    end: date | None = None  # flows: window end (None: as_of)
    filters: dict[str, object] = field(default_factory=dict)
    region: str | None = None  # the region asked for (``regions`` is it with its descendants)

    @property
    def window_end(self) -> date:
        return self.end or self.as_of


def parse_filters(metric: Metric, params: dict[str, list[str]]) -> dict[str, object]:
    """Query parameters → filter values; unknown filters and values are refused, listed together."""
    parsed: dict[str, object] = {}
    errors = []
    for name, raw_values in params.items():
        spec = metric.filters.get(name)
        if spec is None:
            allowed = ", ".join(metric.filters) or "none"
            errors.append({"loc": [name], "msg": f"unknown filter; {metric.name} accepts: {allowed}"})
            continue
        values = [v for raw in raw_values for v in raw.split(",") if v]
        if spec.boolean:
            if len(values) != 1 or values[0].lower() not in BOOL_VALUES:
                errors.append({"loc": [name], "msg": "must be true or false"})
                continue
            parsed[name] = BOOL_VALUES[values[0].lower()]
        else:
            unknown = [v for v in values if v not in spec.values]
            if unknown or not values:
                errors.append({"loc": [name], "msg": f"unknown value(s) {unknown}; allowed: {', '.join(spec.values)}"})
                continue
            parsed[name] = values
    if errors:
        raise Invalid("unknown filters or values", errors=errors)
    return parsed


def normalise_filters(filters: dict) -> dict[str, object]:
    """Filters as a plan binding gives them (value or list; booleans) → the parsed form."""
    return {
        name: value if isinstance(value, bool) else (value if isinstance(value, list) else [value])
        for name, value in filters.items()
    }


@dataclass(frozen=True)
class SeriesWindow:
    """One sum of a series' amounts in some regions, with some dimension values, over the days
    from ``start`` (None: the beginning) to ``end``, both included."""

    series: str
    regions: frozenset[str] | None  # None: every region
    start: date | None
    end: date
    filters: tuple[tuple[str, bool | tuple[str, ...]], ...] = ()  # the series' own dimensions only


def series_window(series: str, query: MetricQuery, *, stock: bool) -> SeriesWindow:
    """The sum a metric query asks of one series: a stock's level at ``as_of``, or a flow's window."""
    if series in PER_REGION_SERIES:
        # Each region keeps its own list, already counting its descendants: read that list only.
        lists = [query.region] if query.region else _top_level_regions()
        if query.regions is not None:
            lists = [code for code in lists if code in query.regions]
        regions = frozenset(lists)
    else:
        regions = query.regions
    dims = SERIES_DIMENSIONS[series]
    # A filter of the metric this series does not split by is no filter (never for catalogue metrics).
    filters = tuple(
        sorted(
            (name, value if isinstance(value, bool) else tuple(sorted(value)))
            for name, value in query.filters.items()
            if name in dims
        )
    )
    if stock:
        return SeriesWindow(series, regions, None, query.as_of, filters)
    return SeriesWindow(series, regions, query.start, query.window_end, filters)


@dataclass(frozen=True)
class WindowParts:
    """A window of days cut into what is read from ``series_monthly`` — the whole months in it,
    ``months`` (first days of the first and last; a first of None: since the beginning) — and
    what is read from ``series_daily``: the days of the partial months at its edges."""

    months: tuple[date | None, date] | None
    days: tuple[tuple[date, date], ...] = ()


def split_window(start: date | None, end: date) -> WindowParts:
    """The whole months of [start, end] and the day ranges left at its edges (none when the
    window starts on a month's first day and ends on a month's last day)."""
    if start is not None and start > end:
        return WindowParts(None)
    end_month = end.replace(day=1)
    if start is not None and start.replace(day=1) == end_month:
        whole = start.day == 1 and end == _last_day(end)
        return WindowParts((end_month, end_month)) if whole else WindowParts(None, ((start, end),))
    head: tuple[tuple[date, date], ...] = ()
    first: date | None = None
    if start is not None:
        first = start.replace(day=1)
        if start.day != 1:
            head = ((start, _last_day(start)),)
            first = _last_day(start) + timedelta(days=1)
    if end == _last_day(end):
        return WindowParts((first, end_month), head)
    tail = ((end_month, end),)
    if end_month == date.min or (first is not None and first == end_month):
        return WindowParts(None, head + tail)  # no whole month between the edges
    return WindowParts((first, (end_month - timedelta(days=1)).replace(day=1)), head + tail)


def _last_day(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def covering_ranges(ranges: set[tuple[date, date]], most: int) -> list[tuple[date, date]]:
    """At most ``most`` disjoint day ranges, in order, covering every day of ``ranges``:
    overlapping and adjacent ones joined, then (only past ``most``) those with the shortest gaps
    between them — each is one key range to read, and more rows read is only more rows for the
    sums' own conditions to leave out."""
    merged: list[tuple[date, date]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    while len(merged) > most:
        i = min(range(len(merged) - 1), key=lambda i: merged[i + 1][0] - merged[i][1])
        merged[i : i + 2] = [(merged[i][0], merged[i + 1][1])]
    return merged


def split_months(
    first: date | None, last: date
) -> tuple[tuple[date | None, date] | None, tuple[tuple[date, date], ...]]:
    """Whole months ``first``..``last`` (first days; a first of None: since the beginning) cut
    into the whole calendar years in them (first days of the first and last year, or None) and
    the runs of months left at their edges (first days of each run's first and last month)."""
    start_year = None if first is None else first.year + (first.month != 1)
    end_year = last.year - (last.month != 12)
    if end_year < date.min.year or (start_year is not None and start_year > end_year):
        return None, ((first or date.min, last),)  # no whole year between the edges
    head = () if first is None or first.month == 1 else ((first, date(first.year, 12, 1)),)
    tail = () if last.month == 12 else ((date(last.year, 1, 1), last),)
    return (None if start_year is None else date(start_year, 1, 1), date(end_year, 1, 1)), head + tail


@dataclass(frozen=True)
class ReadRanges:
    """A window of days as read: the whole years in it from ``series_yearly`` (first days of the
    first and last; a first of None: since the beginning), the months at their edges from
    ``series_monthly``, the days at the months' edges from ``series_daily`` and, subtracted,
    the days of an edge month read whole that lie outside the window (``less``)."""

    years: tuple[date | None, date] | None
    months: tuple[tuple[date, date], ...]
    days: tuple[tuple[date, date], ...]
    less: tuple[tuple[date, date], ...] = ()


def read_ranges(start: date | None, end: date) -> ReadRanges:
    """How to read [start, end] with the fewest rows: whole years and months as they are, and a
    partial month at an edge as its days — or, when that is more days than the rest of the
    month, as the whole month less the days outside the window (a level at 2025-06-29 reads June
    less the 30th, not 29 days of June: a day's rows are as many as a month's, per dimension)."""
    parts = split_window(start, end)
    run = parts.months
    days: list[tuple[date, date]] = []
    less: list[tuple[date, date]] = []
    for first, last in parts.days:
        month = first.replace(day=1)
        outside = []
        if first > month:
            outside.append((month, first - ONE_DAY))
        if last < (month_end := _last_day(last)):
            outside.append((last + ONE_DAY, month_end))
        if sum((b - a).days + 1 for a, b in outside) >= (last - first).days + 1:
            days.append((first, last))
            continue
        less.extend(outside)
        # The month joins the whole months: it is next to them, or (none between) to the other edge.
        if run is None:
            run = (month, month)
        elif run[0] is not None and month < run[0]:
            run = (month, run[1])
        else:
            run = (run[0], max(run[1], month))
    if run is None:
        return ReadRanges(None, (), tuple(days))
    years, months = split_months(*run)
    return ReadRanges(years, months, tuple(days), tuple(less))


class SeriesSums:
    r"""The sums a whole view needs, read with one query per series.

    A view first :meth:`ask`\ s for every window it will read; the first :meth:`amount` then
    reads them together: every window of a series — whatever its regions, dates and filters —
    comes from one query returning the series' amounts per region and year, month or day, a
    column per set of filters, and the windows are added up from those in Python (a plan asks
    for ~20 sums, an overview for ~1,000, of ~10 series). A window is read as its whole years
    from ``series_yearly``, the whole months at their edges from ``series_monthly`` and the days
    of the partial months at its edges from ``series_daily`` (:func:`read_ranges`): a decade's
    level reads ~10 yearly rows, at most ~11 monthly and ~31 daily ones per region and dimension
    values, not ~3,650. The database adds each row once, into its region's and period's group: a
    column of ``SUM(CASE …)`` per date range made it test every range on every row, ~5× the cost
    of the scan at a city's size (BENCHMARKS.md). A window not asked beforehand is still
    answered, by a query of its own."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._pending: set[SeriesWindow] = set()
        self._amounts: dict[SeriesWindow, int] = {}

    def ask(self, *windows: SeriesWindow) -> None:
        self._pending.update(w for w in windows if w not in self._amounts)

    async def amount(self, window: SeriesWindow) -> int:
        if window not in self._amounts:
            self.ask(window)
            await self._read_pending()
        return self._amounts[window]

    async def _read_pending(self) -> None:
        by_series: dict[str, list[SeriesWindow]] = defaultdict(list)
        for window in self._pending:
            by_series[window.series].append(window)
        self._pending = set()
        for series, windows in by_series.items():
            await self._read_series(series, windows)

    async def _read_series(self, series: str, windows: list[SeriesWindow]) -> None:
        filter_sets = sorted({w.filters for w in windows})
        ranges = {r: read_ranges(*r) for r in {(w.start, w.end) for w in windows}}
        regions = None
        if all(w.regions is not None for w in windows):
            regions = sorted(set().union(*(w.regions for w in windows)))
        amounts = _PerPeriod(len(filter_sets))
        query = _series_query(series, filter_sets, regions, ranges.values())
        if query is not None:
            connection = await self.session.connection()  # Core rows: no ORM layer to pass through
            for row in (await connection.execute(*query)).all():
                amounts.add(*row)
        column_of = {filters: i for i, filters in enumerate(filter_sets)}
        per_region: dict[tuple, dict[str, int]] = {}
        for window in windows:
            key = (column_of[window.filters], window.start, window.end)
            if key not in per_region:
                per_region[key] = amounts.over(key[0], ranges[(window.start, window.end)])
            summed = per_region[key]
            in_regions = summed if window.regions is None else window.regions
            self._amounts[window] = sum(summed[r] for r in in_regions if r in summed)


YEARS, MONTHS, DAYS = 0, 1, 2  # which table a row of a series' query comes from


def _series_query(
    series: str, filter_sets: list[tuple], regions: list[str] | None, ranges
) -> tuple[object, dict[str, date]] | None:
    """The series' amounts in ``regions`` per (table, region, year, month or day), a column per
    set of filters: the whole years of ``ranges`` from ``series_yearly``, the months and days at
    their edges from ``series_monthly`` and ``series_daily``, each run of months or days a
    SELECT of its own (a key range both databases read by the primary key; an OR of ranges in
    one WHERE, they may not); None when nothing is to be read. The statement is kept per shape
    (:func:`_series_statement`), the dates bound as its parameters."""
    params: dict[str, date] = {}
    years = [r.years for r in ranges if r.years is not None]
    year_bounds = None
    if years:
        params["last_year"] = max(last for _first, last in years)
        year_bounds = "to"
        if all(first is not None for first, _last in years):
            params["first_year"] = min(first for first, _last in years)
            year_bounds = "between"
    months = covering_ranges({(first, _last_day(last)) for r in ranges for first, last in r.months}, MAX_DAY_RANGES)
    for i, (start, end) in enumerate(months):
        params[f"month_{i}_from"], params[f"month_{i}_to"] = start, end
    days = covering_ranges({d for r in ranges for d in (*r.days, *r.less)}, MAX_DAY_RANGES)
    for i, (start, end) in enumerate(days):
        params[f"day_{i}_from"], params[f"day_{i}_to"] = start, end
    if not params:
        return None
    shape = (year_bounds, len(months), len(days))
    return _series_statement(series, tuple(filter_sets), None if regions is None else tuple(regions), shape), params


@lru_cache(maxsize=1024)
def _series_statement(series: str, filter_sets: tuple, regions: tuple[str, ...] | None, shape: tuple) -> object:
    """The statement of :func:`_series_query` for a shape (how the years are bounded, how many
    runs of months and of days), its dates bound parameters: built and compiled once, not per
    view (building it was ~0.6 ms a series, ~6 ms an overview)."""
    year_bounds, month_runs, day_runs = shape
    arms = []
    if year_bounds is not None:
        table = SeriesYearly.__table__
        bounds = [table.c.year <= bindparam("last_year")]
        if year_bounds == "between":
            bounds.append(table.c.year >= bindparam("first_year"))
        arms.append(_arm(table, table.c.year, YEARS, series, filter_sets, regions, bounds))
    table = SeriesMonthly.__table__
    for i in range(month_runs):
        between = table.c.month.between(bindparam(f"month_{i}_from"), bindparam(f"month_{i}_to"))
        arms.append(_arm(table, table.c.month, MONTHS, series, filter_sets, regions, [between]))
    table = SeriesDaily.__table__
    for i in range(day_runs):
        between = table.c.day.between(bindparam(f"day_{i}_from"), bindparam(f"day_{i}_to"))
        arms.append(_arm(table, table.c.day, DAYS, series, filter_sets, regions, [between]))
    return arms[0] if len(arms) == 1 else union_all(*arms)


def _arm(table: Table, period, part: int, series: str, filter_sets: list[tuple], regions, bounds: list):
    if len(filter_sets) == 1:
        # One set of filters (most series of a view): they select the rows, a plain sum adds them.
        columns = [func.sum(table.c.amount)]
        bounds = [*bounds, *_dimension_conditions(table, series, filter_sets[0])]
    else:
        # A column per set: the rows of any set are read once, each added to the sets it matches.
        conditions = [and_(*_dimension_conditions(table, series, f)) if f else None for f in filter_sets]
        columns = [
            func.sum(table.c.amount) if condition is None else func.sum(case((condition, table.c.amount), else_=0))
            for condition in conditions
        ]
        if all(condition is not None for condition in conditions):
            bounds = [*bounds, or_(*conditions)]
    stmt = select(literal_column(str(part)), table.c.region, period, *columns).where(table.c.series == series, *bounds)
    if regions is not None:
        stmt = stmt.where(table.c.region.in_(regions))
    return stmt.group_by(table.c.region, period)


class _PerPeriod:
    """A series' amounts as read, per set of filters, table, region and period (year, month or
    day: its first day); sums over a window's ranges by running totals."""

    def __init__(self, columns: int) -> None:
        self.columns = columns
        self._rows: dict[tuple[int, str], dict[date, list[int]]] = defaultdict(dict)
        self._totals: dict[tuple[int, str], tuple[list[date], list[list[int]]]] = {}

    def add(self, part: int, region: str, period: date | str, *amounts) -> None:
        day = period if isinstance(period, date) else date.fromisoformat(period)
        self._rows[(int(part), region)][day] = [int(a or 0) for a in amounts]

    def _running(self, key: tuple[int, str]) -> tuple[list[date], list[list[int]]]:
        if key not in self._totals:
            periods = sorted(self._rows[key])
            totals = [[0] * (len(periods) + 1) for _ in range(self.columns)]
            for i, period in enumerate(periods):
                for c, amount in enumerate(self._rows[key][period]):
                    totals[c][i + 1] = totals[c][i] + amount
            self._totals[key] = periods, totals
        return self._totals[key]

    def _between(self, key: tuple[int, str], column: int, first: date | None, last: date) -> int:
        periods, totals = self._running(key)
        low = 0 if first is None else bisect_left(periods, first)
        high = bisect_right(periods, last)
        return totals[column][high] - totals[column][low] if high > low else 0

    def over(self, column: int, ranges: ReadRanges) -> dict[str, int]:
        """Each region's sum of the window read as ``ranges``, for the set of filters ``column``."""
        summed: dict[str, int] = {}
        for key in self._rows:
            part, region = key
            if part == YEARS:
                amount = 0 if ranges.years is None else self._between(key, column, *ranges.years)
            elif part == MONTHS:
                amount = sum(self._between(key, column, a, b) for a, b in ranges.months)
            else:
                amount = sum(self._between(key, column, a, b) for a, b in ranges.days)
                amount -= sum(self._between(key, column, a, b) for a, b in ranges.less)
            summed[region] = summed.get(region, 0) + amount
        return summed


def _dimension_conditions(table: Table, series: str, filters: tuple) -> list:
    columns = (table.c.dim1, table.c.dim2, table.c.dim3, table.c.dim4)
    dims = SERIES_DIMENSIONS[series]
    conditions = []
    for name, value in filters:
        column = columns[dims.index(name)]
        if isinstance(value, bool):
            conditions.append(column == ("true" if value else "false"))
        elif (series, name) in SET_DIMENSIONS:
            conditions.append(or_(*[column.contains(f",{v},") for v in value]))
        else:
            conditions.append(column.in_(list(value)))
    return conditions


def _top_level_regions() -> list[str]:
    return [r.code for r in registry().all() if r.parent is None]


def _as_unit(series: str, amount: int) -> Decimal:
    return from_fen(amount) if series in MONEY_SERIES else Decimal(amount)


RATES = {
    "enforcement.on_time_closure_rate": (
        "enforcement.cases_closed_on_time",
        "enforcement.cases_closed",
        "enforcement.overdue_open_cases",
    ),
    "agencies.complaints_resolved_on_time": (
        "agencies.complaints_resolved_on_time",
        "agencies.complaints_resolved",
        "agencies.complaints_overdue_open",
    ),
}


def metric_windows(metric: Metric, query: MetricQuery) -> tuple[SeriesWindow, ...]:
    """The sums the metric's value is computed from."""
    if metric.kind == "rate":
        # On time ÷ (closed in the window + overdue and still open at its end).
        on_time, resolved, overdue = RATES[metric.name]
        at_end = MetricQuery(query.regions, query.window_end, filters=query.filters, region=query.region)
        return (
            series_window(on_time, query, stock=False),
            series_window(resolved, query, stock=False),
            series_window(overdue, at_end, stock=True),
        )
    if metric.kind == "reported":
        raise ValueError("targets.reported is read from progress reports, not from series")
    return (series_window(metric.name, query, stock=metric.kind == "stock"),)


RATE_PARTS_UNIT = "件"  # both rates divide counts of records (cases, complaints)


def rate_parts(metric: Metric, amounts: list[int]) -> tuple[int, int]:
    """A rate's numerator and denominator from its :func:`metric_windows`' amounts: on time, and
    resolved in the window plus overdue and still open at its end."""
    on_time, resolved, overdue_open = amounts
    return on_time, resolved + overdue_open


def metric_from(metric: Metric, amounts: list[int]) -> Decimal | None:
    """The metric's value in its catalogue unit from its :func:`metric_windows`' amounts; None
    when a rate has nothing to divide by."""
    if metric.kind == "rate":
        return rates.percent(*rate_parts(metric, amounts))
    return _as_unit(metric.name, amounts[0])


async def metric_value(sums: SeriesSums, metric: Metric, query: MetricQuery) -> Decimal | None:
    """The metric's value in its catalogue unit; None when a rate has nothing to divide by."""
    return metric_from(metric, [await sums.amount(w) for w in metric_windows(metric, query)])


COMPUTED = {name for name, m in CATALOGUE.items() if m.kind != "reported"}
