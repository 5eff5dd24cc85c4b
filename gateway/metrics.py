"""Metrics computed from the read model's daily series, per region (descendants included), per
date, with filters. Names, units, kinds and filters are :mod:`zhichan.metrics_catalogue`'s —
the same definitions the targets service checks plan bindings against."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.facts import MONEY_SERIES, SERIES_DIMENSIONS, SET_DIMENSIONS
from gateway.models import SeriesDaily
from zhichan.api.problems import Invalid
from zhichan.metrics_catalogue import CATALOGUE, Metric
from zhichan.money import from_fen
from zhichan.regions import registry

# Series whose records a region keeps for itself and its descendants together (the watch list
# of a city lists the repeat infringers of its districts too): never summed over descendants.
PER_REGION_SERIES = {"enforcement.repeat_infringers"}
BOOL_VALUES = {"true": True, "false": False, "1": True, "0": False}
HUNDRED = Decimal(100)


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


async def series_sum(session: AsyncSession, series: str, query: MetricQuery, *, stock: bool) -> int:
    stmt = select(func.coalesce(func.sum(SeriesDaily.amount), 0)).where(SeriesDaily.series == series)
    if stock:
        stmt = stmt.where(SeriesDaily.day <= query.as_of)
    else:
        stmt = stmt.where(SeriesDaily.day <= query.window_end)
        if query.start is not None:
            stmt = stmt.where(SeriesDaily.day >= query.start)
    if series in PER_REGION_SERIES:
        # Each region keeps its own list, already counting its descendants: read that list only.
        lists = [query.region] if query.region else _top_level_regions()
        if query.regions is not None:
            lists = [code for code in lists if code in query.regions]
        stmt = stmt.where(SeriesDaily.region.in_(lists))
    elif query.regions is not None:
        stmt = stmt.where(SeriesDaily.region.in_(sorted(query.regions)))
    columns = (SeriesDaily.dim1, SeriesDaily.dim2, SeriesDaily.dim3, SeriesDaily.dim4)
    dims = SERIES_DIMENSIONS[series]
    for name, value in query.filters.items():
        if name not in dims:
            continue  # a filter of the metric this series does not split by (never for catalogue metrics)
        column = columns[dims.index(name)]
        if isinstance(value, bool):
            stmt = stmt.where(column == ("true" if value else "false"))
        elif (series, name) in SET_DIMENSIONS:
            stmt = stmt.where(or_(*[column.contains(f",{v},") for v in value]))
        else:
            stmt = stmt.where(column.in_(list(value)))
    return int((await session.execute(stmt)).scalar_one())


def _top_level_regions() -> list[str]:
    return [r.code for r in registry().all() if r.parent is None]


def _as_unit(series: str, amount: int) -> Decimal:
    return from_fen(amount) if series in MONEY_SERIES else Decimal(amount)


async def _on_time_rate(session, query: MetricQuery, on_time: str, resolved: str, overdue: str) -> Decimal | None:
    """On time ÷ (closed in the window + overdue and still open at its end), in %."""
    closed_on_time = await series_sum(session, on_time, query, stock=False)
    closed = await series_sum(session, resolved, query, stock=False)
    at_end = MetricQuery(query.regions, query.window_end, filters=query.filters, region=query.region)
    overdue_open = await series_sum(session, overdue, at_end, stock=True)
    denominator = closed + overdue_open
    if denominator == 0:
        return None
    return (Decimal(closed_on_time) * HUNDRED / Decimal(denominator)).quantize(Decimal("0.01"))


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


async def metric_value(session: AsyncSession, metric: Metric, query: MetricQuery) -> Decimal | None:
    """The metric's value in its catalogue unit; None when a rate has nothing to divide by."""
    if metric.kind == "rate":
        return await _on_time_rate(session, query, *RATES[metric.name])
    if metric.kind == "reported":
        raise ValueError("targets.reported is read from progress reports, not from series")
    amount = await series_sum(session, metric.name, query, stock=metric.kind == "stock")
    return _as_unit(metric.name, amount)


COMPUTED = {name for name, m in CATALOGUE.items() if m.kind != "reported"}
