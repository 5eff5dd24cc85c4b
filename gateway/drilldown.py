"""Links to the records behind a number: the owning service's list endpoint (through the
gateway) with the filters that reproduce it. A metric filter with several values gives one
link per value, since the list endpoints take one value per filter."""

from __future__ import annotations

from datetime import date
from itertools import product
from urllib.parse import urlencode

# metric → (path, window parameters (from, to) or as-of parameter, extra fixed parameters,
#           metric filter → list parameter)
LINKS: dict[str, tuple[str, tuple[str, str] | str | None, dict[str, str], dict[str, str]]] = {
    "financing.pledge_amount": (
        "/api/pledges",
        ("registered_from", "registered_to"),
        {},
        {"ip_type": "asset_type", "kind": "kind"},
    ),
    "financing.pledge_count": ("/api/pledges", ("registered_from", "registered_to"), {}, {"ip_type": "asset_type"}),
    "financing.pledged_patents": ("/api/pledges", ("registered_from", "registered_to"), {"asset_type": "patent"}, {}),
    "financing.transaction_count": ("/api/transactions", ("recorded_from", "recorded_to"), {}, {"type": "type"}),
    "financing.transaction_amount": ("/api/transactions", ("recorded_from", "recorded_to"), {}, {"type": "type"}),
    "financing.insured_ip_count": ("/api/insurance-policies", None, {}, {}),
    "financing.matchmaking_events": ("/api/matchmaking-events", None, {}, {}),
    "enforcement.cases_filed": (
        "/api/cases",
        ("filed_from", "filed_to"),
        {},
        {"type": "type", "procedure": "procedure", "origin": "origin"},
    ),
    "enforcement.cases_closed": (
        "/api/cases",
        ("closed_from", "closed_to"),
        {},
        {"type": "type", "procedure": "procedure", "origin": "origin"},
    ),
    "enforcement.on_time_closure_rate": ("/api/cases/stats", ("from", "to"), {}, {}),
    "enforcement.overdue_open_cases": ("/api/cases/overdue", "as_of", {}, {}),
    "enforcement.campaigns": ("/api/campaigns", None, {}, {}),
    "enforcement.repeat_infringers": ("/api/watchlist", "as_of", {}, {}),
    "agencies.active_agencies": (
        "/api/agencies",
        None,
        {"status": "active"},
        {"service_type": "service_type", "offline": "offline", "in_cluster": "in_cluster"},
    ),
    "agencies.practitioners": ("/api/practitioners", None, {}, {"type": "type"}),
    "agencies.staff": ("/api/annual-reports", None, {}, {}),
    "agencies.revenue": ("/api/annual-reports", None, {}, {}),
    "agencies.complaints_received": ("/api/complaints", None, {}, {}),
    "agencies.complaints_resolved_on_time": ("/api/complaints", None, {}, {}),
    "agencies.inspections": ("/api/disclosure/inspections", None, {}, {"finding": "finding"}),
}


def metric_links(metric: str, region: str, window: tuple[date | None, date] | None, filters: dict) -> list[str]:
    path, dates, fixed, filter_params = LINKS[metric]
    params: dict[str, str] = {"region": region, **fixed}
    if isinstance(dates, tuple) and window is not None:
        if window[0] is not None:
            params[dates[0]] = window[0].isoformat()
        params[dates[1]] = window[1].isoformat()
    elif isinstance(dates, str) and window is not None:
        params[dates] = window[1].isoformat()
    choices: list[list[tuple[str, str]]] = []
    for name, value in filters.items():
        param = filter_params.get(name)
        if param is None:
            continue
        values = value if isinstance(value, list) else [value]
        choices.append([(param, str(v).lower() if isinstance(v, bool) else str(v)) for v in values])
    return [f"{path}?{urlencode({**params, **dict(combo)})}" for combo in product(*choices)]


def report_link(plan: str, indicator: str) -> str:
    return f"/api/plans/{plan}/indicators/{indicator}/reports"


def statistic_link(code: str, region: str, as_of: date) -> str:
    """The releases of a statistic in the region and below, as published by ``as_of`` (the
    targets service's list, revisions included, through the gateway)."""
    params = {"statistic": code, "region": region, "descendants": "true", "published_by": as_of.isoformat()}
    return f"/api/statistics?{urlencode(params)}"
