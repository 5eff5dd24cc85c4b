"""The progress views: a plan's indicators against their trajectories, a region's overview and
the scorecard of all regions. Read from the read model only, never from a service."""

from __future__ import annotations

import calendar
from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import progress
from gateway.drilldown import metric_links, report_link
from gateway.metrics import MetricQuery, metric_value, normalise_filters, series_sum
from gateway.models import PlanView, RecentEvent, ReportView
from zhichan.metrics_catalogue import CATALOGUE, convert_unit
from zhichan.money import in_all_units
from zhichan.regions import registry

STATUSES = [s.value for s in progress.Status]
TASK_STATUSES = ("planned", "in_progress", "done", "delayed")


def plain(value: Decimal | None) -> str | None:
    """An exact decimal as a string without exponent or trailing zeros."""
    if value is None:
        return None
    return format(value.normalize(), "f")


class IndicatorReader:
    """Readings of one indicator in its own unit: from its bound metric or from its reports."""

    def __init__(self, session: AsyncSession, plan: PlanView, state: dict) -> None:
        self.session = session
        self.plan = plan
        self.state = state
        self.indicator = progress.Indicator.from_dict(state)
        self.period = progress.Period(plan.start, plan.end)
        source = state["source"]
        self.metric = None if source == "reported" else CATALOGUE[source["metric"]]
        if self.metric is not None and self.metric.kind == "reported":
            self.metric = None
        self.filters = normalise_filters(source.get("filters", {})) if isinstance(source, dict) else {}
        self.regions = registry().descendants(plan.region) if plan.region in registry() else frozenset({plan.region})

    async def readings(self, as_of: date) -> list[progress.Reading]:
        if self.metric is None:
            return await self._reports(as_of)
        readings = []
        observed_on = progress.observed_baseline_date(self.indicator, self.period)
        if observed_on is not None:
            if (level := await self._metric_over((None, observed_on))) is not None:
                readings.append(progress.Reading(observed_on, level))
        window = progress.actual_window(self.indicator, self.period, as_of)
        if window is not None and (value := await self._metric_over(window)) is not None:
            readings.append(progress.Reading(window[1], self._with_baseline(value)))
        return readings

    def _with_baseline(self, value: Decimal) -> Decimal:
        # A cumulative goal with a baseline counts from it (the trajectory starts there).
        if self.indicator.measure is progress.Measure.CUMULATIVE and self.indicator.baseline is not None:
            return self.indicator.baseline.value + value
        return value

    async def _metric_over(self, window: tuple[date | None, date]) -> Decimal | None:
        start, end = window
        query = MetricQuery(
            self.regions, as_of=end, start=start, end=end, filters=self.filters, region=self.plan.region
        )
        value = await metric_value(self.session, self.metric, query)
        return None if value is None else convert_unit(value, self.metric.unit, self.indicator.unit)

    async def _reports(self, as_of: date) -> list[progress.Reading]:
        rows = (
            (
                await self.session.execute(
                    select(ReportView).where(
                        ReportView.plan == self.plan.key,
                        ReportView.indicator == self.state["key"],
                        ReportView.as_of <= as_of,
                    )
                )
            )
            .scalars()
            .all()
        )
        superseded = {r.supersedes for r in rows if r.supersedes}
        return [progress.Reading(r.as_of, Decimal(r.value)) for r in rows if r.id not in superseded]

    def drilldown(self, as_of: date) -> list[str]:
        if self.metric is None:
            return [report_link(self.plan.key, self.state["key"])]
        window = progress.actual_window(self.indicator, self.period, as_of)
        return metric_links(self.metric.name, self.plan.region, window, self.state["source"].get("filters", {}))


async def indicator_progress(session: AsyncSession, plan: PlanView, state: dict, as_of: date) -> dict[str, Any]:
    reader = IndicatorReader(session, plan, state)
    result = progress.evaluate(reader.indicator, reader.period, as_of, await reader.readings(as_of))
    return {
        "key": state["key"],
        "name": state["name"],
        "category": state["category"],
        "unit": state["unit"],
        "measure": state["measure"],
        "direction": state["direction"],
        "nature": state["nature"],
        "responsible": state.get("responsible", []),
        "source": state["source"],
        "baseline": state.get("baseline"),
        "target": plain(result.target),
        "milestone_this_year": plain(result.milestone_this_year),
        "actual": plain(result.actual),
        "actual_on": result.actual_on,
        "expected": plain(result.expected),
        "status": result.status.value,
        "progress": plain(result.progress),
        "expected_progress": plain(result.expected_progress),
        "forecast": plain(result.forecast),
        "forecast_meets_target": result.forecast_meets_target,
        "trajectory_start": plain(result.trajectory_start),
        "baseline_observed": result.baseline_observed,
        "explanation": result.explanation,
        "drilldown": reader.drilldown(as_of),
    }


def task_summary(state: dict, as_of: date) -> dict[str, Any]:
    tasks = state.get("tasks", [])
    counts = Counter(t["status"] for t in tasks)
    overdue = [
        {"key": t["key"], "title": t["title"], "responsible": t["responsible"], "due": t["due"], "status": t["status"]}
        for t in tasks
        if t.get("due") and t["status"] != "done" and date.fromisoformat(str(t["due"])) < as_of
    ]
    return {"counts": {s: counts.get(s, 0) for s in TASK_STATUSES}, "overdue": overdue, "total": len(tasks)}


async def plan_progress(session: AsyncSession, plan: PlanView, as_of: date) -> dict[str, Any]:
    indicators = [await indicator_progress(session, plan, state, as_of) for state in plan.state["indicators"]]
    counts = Counter(i["status"] for i in indicators)
    return {
        "plan": {
            "key": plan.key,
            "title": plan.title,
            "region": plan.region,
            "region_name": region_name(plan.region),
            "issued_by": plan.state.get("issued_by"),
            "start": plan.start,
            "end": plan.end,
            "status": plan.status,
        },
        "as_of": as_of,
        "status_counts": {s: counts.get(s, 0) for s in STATUSES},
        "indicators": indicators,
        "tasks": task_summary(plan.state, as_of),
    }


def month_ends(start: date, end: date) -> list[date]:
    points = []
    year, month = start.year, start.month
    while True:
        last = date(year, month, calendar.monthrange(year, month)[1])
        if last >= end:
            points.append(end)
            return points
        points.append(last)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def year_ends(start: date, end: date) -> list[date]:
    return [min(date(y, 12, 31), end) for y in range(start.year, end.year + 1)]


async def indicator_series(
    session: AsyncSession, plan: PlanView, state: dict, as_of: date, interval: str
) -> list[dict[str, Any]]:
    """Actual against expected at each month (or year) end from plan start to the date."""
    reader = IndicatorReader(session, plan, state)
    end = min(as_of, plan.end)
    if end < plan.start:
        return []
    dates = month_ends(plan.start, end) if interval == "month" else year_ends(plan.start, end)
    points = []
    for on in dates:
        result = progress.evaluate(reader.indicator, reader.period, on, await reader.readings(on))
        points.append(
            {
                "date": on,
                "actual": plain(result.actual),
                "expected": plain(result.expected),
                "status": result.status.value,
            }
        )
    return points


def region_name(code: str) -> str | None:
    return registry().get(code).name if code in registry() else None


async def headline_figures(session: AsyncSession, code: str, as_of: date) -> dict[str, Any]:
    """Each domain's headline numbers for a region and its descendants."""
    regions = registry().descendants(code)
    year_start = date(as_of.year, 1, 1)

    async def value(metric: str, **window) -> Decimal | None:
        query = MetricQuery(regions, as_of=as_of, region=code, **window)
        return await metric_value(session, CATALOGUE[metric], query)

    open_cases = await series_sum(session, "enforcement.open_cases", MetricQuery(regions, as_of), stock=True)
    open_complaints = await series_sum(session, "agencies.complaints_open", MetricQuery(regions, as_of), stock=True)
    pledge_amount = await value("financing.pledge_amount", start=year_start, end=as_of) or Decimal(0)
    return {
        "open_cases": open_cases,
        "overdue_open_cases": int(await value("enforcement.overdue_open_cases") or 0),
        "on_time_closure_rate_this_year": plain(
            await value("enforcement.on_time_closure_rate", start=year_start, end=as_of)
        ),
        "pledge_amount_this_year": in_all_units(pledge_amount),
        "pledge_count_this_year": int(await value("financing.pledge_count", start=year_start, end=as_of) or 0),
        "active_agencies": int(await value("agencies.active_agencies") or 0),
        "open_complaints": open_complaints,
    }


async def plans_in(session: AsyncSession, code: str) -> list[PlanView]:
    regions = registry().descendants(code)
    rows = (
        (await session.execute(select(PlanView).where(PlanView.region.in_(sorted(regions))).order_by(PlanView.key)))
        .scalars()
        .all()
    )
    return list(rows)


async def plan_summary(session: AsyncSession, plan: PlanView, as_of: date) -> dict[str, Any]:
    view = await plan_progress(session, plan, as_of)
    return {
        **view["plan"],
        "status_counts": view["status_counts"],
        "tasks": view["tasks"]["counts"],
        "overdue_tasks": len(view["tasks"]["overdue"]),
    }


async def region_overview(session: AsyncSession, code: str, as_of: date) -> dict[str, Any]:
    plans = [await plan_summary(session, p, as_of) for p in await plans_in(session, code) if p.status != "draft"]
    events = (
        (
            await session.execute(
                select(RecentEvent)
                .where(RecentEvent.region.in_(sorted(registry().descendants(code))))
                .order_by(RecentEvent.time.desc())
                .limit(20)
            )
        )
        .scalars()
        .all()
    )
    totals = Counter()
    for plan in plans:
        totals.update(plan["status_counts"])
    return {
        "region": {"code": code, "name": region_name(code), "level": registry().get(code).level},
        "as_of": as_of,
        "plans": plans,
        "status_counts": {s: totals.get(s, 0) for s in STATUSES},
        "headline": await headline_figures(session, code, as_of),
        "latest_events": [
            {"id": e.event_id, "type": e.type, "subject": e.subject, "region": e.region, "time": e.time} for e in events
        ],
    }


async def scorecard_regions(session: AsyncSession) -> list[str]:
    """Regions with a plan, plus every region records were kept for."""
    with_plans = (await session.execute(select(PlanView.region).distinct())).scalars().all()
    with_events = (await session.execute(select(RecentEvent.region).distinct().limit(500))).scalars().all()
    return sorted({r for r in [*with_plans, *with_events] if r in registry()})


async def scorecard(session: AsyncSession, regions: list[str], as_of: date) -> list[dict[str, Any]]:
    rows = []
    for code in regions:
        plans = [
            await plan_summary(session, p, as_of)
            for p in await plans_in(session, code)
            if p.status != "draft" and p.region == code
        ]
        totals = Counter()
        for plan in plans:
            totals.update(plan["status_counts"])
        rows.append(
            {
                "region": code,
                "name": region_name(code),
                "plans": len(plans),
                "status_counts": {s: totals.get(s, 0) for s in STATUSES},
                "headline": await headline_figures(session, code, as_of),
            }
        )
    return rows


async def last_event_time(session: AsyncSession):
    return (await session.execute(select(func.max(RecentEvent.time)))).scalar_one()
