"""What each aggregate's state contributes to the metrics: pure functions, no I/O.

A *fact* is an integer amount on a business date, for a series, in a region, with dimension
values. Flows are summed over a window of dates; stocks are running sums of +1/−1 steps, so
the level on a date is the sum of every step up to it. Money is counted in fen (exact).

When an aggregate changes, the read model takes away its previous facts and adds the new ones
(see :mod:`gateway.readmodel`), so a case that closes, a pledge released or an agency
deregistered moves every series that counted it — and dates in the past keep their values.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from zhichan.money import to_fen

DAY = timedelta(days=1)

# Dimensions of each series, in the order of the read model's dim1..dim4 columns. A dimension
# listed in SET_DIMENSIONS holds several codes (",a,b,") and matches when any is asked for.
SERIES_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "agencies.active_agencies": ("service_type", "offline", "in_cluster", "brand_level"),
    "agencies.practitioners": ("type",),
    "agencies.staff": (),
    "agencies.revenue": (),
    "agencies.complaints_received": (),
    "agencies.complaints_resolved": (),
    "agencies.complaints_resolved_on_time": (),
    "agencies.complaints_overdue_open": (),
    "agencies.complaints_open": (),
    "agencies.inspections": ("finding",),
    "enforcement.cases_filed": ("type", "procedure", "origin"),
    "enforcement.cases_closed": ("type", "procedure", "origin"),
    "enforcement.cases_closed_on_time": ("type", "procedure", "origin"),
    "enforcement.overdue_open_cases": ("type", "procedure", "origin"),
    "enforcement.open_cases": ("type", "procedure", "origin"),
    "enforcement.campaigns": (),
    "enforcement.repeat_infringers": (),
    "financing.pledge_amount": ("ip_type", "kind"),
    "financing.pledge_count": ("ip_type", "kind"),
    "financing.pledged_patents": (),
    "financing.transaction_count": ("type",),
    "financing.transaction_amount": ("type",),
    "financing.insured_ip_count": ("ip_type",),
    "financing.matchmaking_events": (),
}
SET_DIMENSIONS = {
    ("agencies.active_agencies", "service_type"),
    ("financing.pledge_amount", "ip_type"),
    ("financing.pledge_count", "ip_type"),
}
MONEY_SERIES = {"agencies.revenue", "financing.pledge_amount", "financing.transaction_amount"}


class Fact(NamedTuple):
    # A named tuple, not a dataclass: a replay makes millions of these, and a tuple is made fastest.
    series: str
    region: str
    day: date
    amount: int
    dims: tuple[str, str, str, str] = ("", "", "", "")


_DIMENSION_NAMES = {series: frozenset(names) for series, names in SERIES_DIMENSIONS.items()}
_PADDING = {n: ("",) * (4 - n) for n in range(5)}


def dimension_values(series: str, **dims: Any) -> tuple[str, str, str, str]:
    """The read model's dim1..dim4 of ``series`` for these dimension values."""
    names = SERIES_DIMENSIONS[series]
    if not dims.keys() <= _DIMENSION_NAMES[series]:
        raise ValueError(f"{series} has no dimension {sorted(set(dims) - _DIMENSION_NAMES[series])}")
    values = tuple([_dim_value(series, name, dims.get(name)) for name in names])
    return values + _PADDING[len(values)]  # type: ignore[return-value]


NO_DIMENSIONS = ("", "", "", "")


def fact(series: str, region: str, day: date, amount: int, **dims: Any) -> Fact:
    return Fact(series, region, day, amount, dimension_values(series, **dims))


def _dim_value(series: str, name: str, value: Any) -> str:
    if value is None:
        return ""
    if (series, name) in SET_DIMENSIONS:
        return "," + ",".join(sorted(set(value))) + ","
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def span(
    series: str, region: str, start: date, end_exclusive: date | None, dims: tuple[str, ...] = NO_DIMENSIONS
) -> list[Fact]:
    """A stock that is 1 from ``start`` until the day before ``end_exclusive``; ``dims`` as
    :func:`dimension_values` gives them (computed once per record, not once per fact)."""
    if end_exclusive is not None and end_exclusive <= start:
        return []
    facts = [Fact(series, region, start, 1, dims)]
    if end_exclusive is not None:
        facts.append(Fact(series, region, end_exclusive, -1, dims))
    return facts


def _d(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return _parse_day(str(value))


@lru_cache(maxsize=16_384)  # a decade of days: facts then share date objects (a replay pickles them once)
def _parse_day(value: str) -> date:
    return date.fromisoformat(value)


def _fen(value: Any) -> int:
    return to_fen(Decimal(str(value)))


# ---------------------------------------------------------------- agencies


def agency_facts(state: dict) -> list[Fact]:
    dims = dimension_values(
        "agencies.active_agencies",
        service_type=state["service_types"],
        offline=state["offline"],
        in_cluster=state["in_cluster"],
        brand_level=state["brand_level"],
    )
    facts: list[Fact] = []
    start: date | None = None
    for entry in sorted(state["status_history"], key=lambda e: (str(e["on"]), str(e["at"]))):
        on = _d(entry["on"])
        if entry["status"] == "active" and start is None:
            start = on
        elif entry["status"] != "active" and start is not None:
            facts += span("agencies.active_agencies", state["region"], start, on, dims)
            start = None
    if start is not None:
        facts += span("agencies.active_agencies", state["region"], start, None, dims)
    return facts


def practitioner_facts(state: dict) -> list[Fact]:
    dims = dimension_values("agencies.practitioners", type=state["type"])
    return span("agencies.practitioners", state["region"], _d(state["joined_on"]), _d(state.get("left_on")), dims)


def annual_report_facts(state: dict) -> list[Fact]:
    if state.get("status") != "current":
        return []
    year_end = date(int(state["year"]), 12, 31)
    next_year_end = date(int(state["year"]) + 1, 12, 31)
    region = state["region"]
    # Staff is a level: this report's figure holds until the next year's report would replace it.
    return [
        fact("agencies.staff", region, year_end, int(state["staff"])),
        fact("agencies.staff", region, next_year_end, -int(state["staff"])),
        fact("agencies.revenue", region, year_end, _fen(state["service_revenue"])),
    ]


def complaint_facts(state: dict) -> list[Fact]:
    region = state["region"]
    received, deadline, resolved = _d(state["received_on"]), _d(state["deadline"]), _d(state.get("resolved_on"))
    facts = [fact("agencies.complaints_received", region, received, 1)]
    facts += span("agencies.complaints_open", region, received, resolved)
    facts += span("agencies.complaints_overdue_open", region, deadline + DAY, resolved)
    if resolved is not None:
        facts.append(fact("agencies.complaints_resolved", region, resolved, 1))
        if resolved <= deadline:
            facts.append(fact("agencies.complaints_resolved_on_time", region, resolved, 1))
    return facts


def inspection_facts(state: dict) -> list[Fact]:
    concluded = _d(state.get("concluded_on"))
    if concluded is None or not state.get("finding"):
        return []
    return [fact("agencies.inspections", state["region"], concluded, 1, finding=state["finding"])]


# ---------------------------------------------------------------- enforcement


CASE_SERIES = (
    "enforcement.cases_filed",
    "enforcement.open_cases",
    "enforcement.cases_closed",
    "enforcement.cases_closed_on_time",
    "enforcement.overdue_open_cases",
)
# case_facts computes a case's dimension values once for all its series.
assert len({SERIES_DIMENSIONS[series] for series in CASE_SERIES}) == 1


def case_facts(state: dict) -> list[Fact]:
    region = state["region"]
    try:
        dims = _case_dimensions(state["type"], state["procedure"], state["origin"])
    except TypeError:  # a value that cannot be a cache key (a list …): the values are as computed
        dims = _case_dimensions.__wrapped__(state["type"], state["procedure"], state["origin"])
    filed, closed = _d(state["filed_date"]), _d(state.get("closed_date"))
    facts = [Fact("enforcement.cases_filed", region, filed, 1, dims)]
    facts += span("enforcement.open_cases", region, filed, closed, dims)
    if closed is not None:
        facts.append(Fact("enforcement.cases_closed", region, closed, 1, dims))
        if state.get("closed_on_time"):
            facts.append(Fact("enforcement.cases_closed_on_time", region, closed, 1, dims))
    for period in state.get("overdue_periods", []):
        end = _d(period.get("end"))
        facts += span("enforcement.overdue_open_cases", region, _d(period["start"]), end + DAY if end else None, dims)
    return facts


# A city has a few dozen combinations of a case's type, procedure and origin, and a replay a
# million cases: each combination's dimension values are computed once (typed: 1, 1.0 and True
# are different values here).
@lru_cache(maxsize=4096, typed=True)
def _case_dimensions(case_type: Any, procedure: Any, origin: Any) -> tuple[str, str, str, str]:
    return dimension_values("enforcement.cases_filed", type=case_type, procedure=procedure, origin=origin)


def campaign_facts(state: dict) -> list[Fact]:
    return [fact("enforcement.campaigns", state["region"], _d(state["start"]), 1)]


def watchlist_entry_facts(state: dict) -> list[Fact]:
    facts: list[Fact] = []
    for period in state.get("listed_periods", []):
        end = _d(period.get("end"))
        facts += span("enforcement.repeat_infringers", state["region"], _d(period["start"]), end + DAY if end else None)
    return facts


# ---------------------------------------------------------------- financing


def pledge_facts(state: dict) -> list[Fact]:
    region, registered = state["region"], _d(state["registered_on"])
    # pledge_amount and pledge_count split by the same dimensions: computed once for both.
    dims = dimension_values("financing.pledge_count", ip_type=state["asset_types"], kind=state["kind"])
    return [
        Fact("financing.pledge_amount", region, registered, _fen(state["loan_amount"]), dims),
        Fact("financing.pledge_count", region, registered, 1, dims),
        fact("financing.pledged_patents", region, registered, int(state["patent_count"])),
    ]


def transaction_facts(state: dict) -> list[Fact]:
    region, recorded = state["region"], _d(state["recorded_on"])
    return [
        fact("financing.transaction_count", region, recorded, 1, type=state["type"]),
        fact("financing.transaction_amount", region, recorded, _fen(state["amount"]), type=state["type"]),
    ]


def insurance_policy_facts(state: dict) -> list[Fact]:
    per_type: dict[str, int] = {}
    for asset in state["assets"]:
        per_type[asset["type"]] = per_type.get(asset["type"], 0) + 1
    start = _d(state["period_start"])
    return [fact("financing.insured_ip_count", state["region"], start, n, ip_type=t) for t, n in per_type.items()]


def matchmaking_event_facts(state: dict) -> list[Fact]:
    return [fact("financing.matchmaking_events", state["region"], _d(state["held_on"]), 1)]


# (service, aggregate) → how its state becomes facts
FACTS_OF: dict[tuple[str, str], Callable[[dict], list[Fact]]] = {
    ("agencies", "agency"): agency_facts,
    ("agencies", "practitioner"): practitioner_facts,
    ("agencies", "annual_report"): annual_report_facts,
    ("agencies", "complaint"): complaint_facts,
    ("agencies", "inspection"): inspection_facts,
    ("enforcement", "case"): case_facts,
    ("enforcement", "campaign"): campaign_facts,
    ("enforcement", "watchlist_entry"): watchlist_entry_facts,
    ("financing", "pledge"): pledge_facts,
    ("financing", "transaction"): transaction_facts,
    ("financing", "insurance_policy"): insurance_policy_facts,
    ("financing", "matchmaking_event"): matchmaking_event_facts,
}
