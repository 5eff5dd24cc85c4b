"""The progress views: a plan's indicators against their trajectories, a region's overview and
the scorecard of all regions. Read from the read model only, never from a service."""

from __future__ import annotations

import calendar
import json
from collections import Counter, OrderedDict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from gateway import progress
from gateway.drilldown import metric_links, report_link, statistic_link
from gateway.metrics import (
    RATE_PARTS_UNIT,
    MetricQuery,
    SeriesSums,
    SeriesWindow,
    metric_from,
    metric_windows,
    rate_parts,
    series_window,
)
from gateway.models import PlanView, RecentEvent, ReportView
from gateway.sources import (
    CatalogueMetric,
    Source,
    SourceContext,
    SourceReading,
    StatisticMetric,
    Window,
    build_source,
)
from gateway.statistics import StatisticReleases
from services.targets.contracts import report_counts
from zhichan.metrics_catalogue import CATALOGUE, Metric
from zhichan.money import in_all_units
from zhichan.regions import registry

STATUSES = [s.value for s in progress.Status]
TASK_STATUSES = ("planned", "in_progress", "done", "delayed")


def plain(value: Decimal | None) -> str | None:
    """An exact decimal as a string without exponent or trailing zeros."""
    if value is None:
        return None
    return format(value.normalize(), "f")


class ParsedIndicator:
    """What the rules need of one indicator of a plan, parsed once from its state."""

    __slots__ = ("indicator", "period", "reported", "source_key", "state")

    def __init__(self, state: dict, period: progress.Period) -> None:
        self.state = state
        self.indicator = progress.Indicator.from_dict(state)
        self.period = period
        self.reported = reads_reports(state["source"])
        # What its source reads, as a key: indicators of one region with the same key read the
        # same values (a region's plans often bind the same metric; :meth:`ViewReads.source`).
        self.source_key = None if self.reported else (json.dumps(state["source"], sort_keys=True), state["unit"])


class ParsedPlan:
    """What a view reads of a plan's state (:attr:`PlanView.state`), parsed once."""

    __slots__ = ("indicators", "issued_by", "review_required", "tasks")

    def __init__(self, plan: PlanView) -> None:
        state = plan.state
        period = progress.Period(plan.start, plan.end)
        self.indicators = [ParsedIndicator(indicator, period) for indicator in state["indicators"]]
        self.issued_by = state.get("issued_by")
        self.tasks: list[dict] = state.get("tasks", [])
        # Whether the plan counts only the reports an officer approved (its reporting rounds say so).
        self.review_required = (state.get("reporting") or {}).get("review") == "required"


class ParsedPlans:
    """Each plan's state parsed (:class:`ParsedPlan`), kept per plan key and version: a plan's
    state at a version never changes, and a newer version is a new key (the older one ages out,
    the least recently used dropped beyond ``size``). One per app (its read model), never shared
    between read models: two databases may hold different plans under the same key and version
    (tests do). With it, a view loads the plans' rows without their state when every version is
    known (:func:`plans_in_any`)."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._plans: OrderedDict[tuple[str, int], ParsedPlan] = OrderedDict()

    def knows(self, plan: PlanView) -> bool:
        return (plan.key, plan.version) in self._plans

    def of(self, plan: PlanView) -> ParsedPlan:
        """The plan's state parsed: kept, or parsed now (which needs the row's state loaded)."""
        key = (plan.key, plan.version)
        parsed = self._plans.get(key)
        if parsed is None:
            parsed = self._plans[key] = ParsedPlan(plan)
            while len(self._plans) > self.size:
                self._plans.popitem(last=False)
        else:
            self._plans.move_to_end(key)
        return parsed


class ViewReads:
    """What a view reads of the read model, asked for ahead and read together: sums over the
    daily series (:class:`SeriesSums`), the progress reports of its plans (one query for all
    the plans asked for, instead of one per reported indicator) and the releases of the
    statistics it reads (:class:`StatisticReleases`, one query per statistic). ``parsed``: the
    app's parsed plans, kept between views (parsed afresh without)."""

    def __init__(self, session: AsyncSession, parsed: ParsedPlans | None = None) -> None:
        self.session = session
        self.parsed = parsed
        self._parsed_now: dict[str, ParsedPlan] = {}  # without ``parsed``: for this view only
        self.sums = SeriesSums(session)
        self.releases = StatisticReleases(session)
        self._report_plans: set[str] = set()
        self._reports: dict[str, list[ReportView]] = {}
        self._contexts: dict[str, SourceContext] = {}
        # Per (region, source key): the source built once a view, what was asked of it and read.
        self._sources: dict[tuple, Source] = {}
        self._asked: set[tuple] = set()
        self._read: dict[tuple, SourceReading | None] = {}

    def context(self, region: str) -> SourceContext:
        """Where the sources of a plan of ``region`` read: the region and the regions below it."""
        if region not in self._contexts:
            regions = registry().descendants(region) if region in registry() else frozenset({region})
            self._contexts[region] = SourceContext(self.sums, self.releases, region, regions)
        return self._contexts[region]

    def source(self, region: str, indicator: ParsedIndicator) -> Source:
        """The indicator's source, shared by every indicator of the view that reads the same
        source in the same region and unit (what it reads is then asked and read once)."""
        key = (region, indicator.source_key)
        if key not in self._sources:
            self._sources[key] = build_source(self.context(region), indicator.state["source"], indicator.indicator.unit)
        return self._sources[key]

    def ask_source(self, region: str, indicator: ParsedIndicator, window: Window, as_of: date) -> None:
        key = (region, indicator.source_key, window, as_of)
        if key not in self._asked:
            self._asked.add(key)
            self.source(region, indicator).ask(window, as_of)

    async def read_source(
        self, region: str, indicator: ParsedIndicator, window: Window, as_of: date
    ) -> SourceReading | None:
        key = (region, indicator.source_key, window, as_of)
        if key not in self._read:
            self._read[key] = await self.source(region, indicator).read(window, as_of)
        return self._read[key]

    def plan(self, plan: PlanView) -> ParsedPlan:
        """The plan's state parsed (kept by ``parsed``, else once per view)."""
        if self.parsed is not None:
            return self.parsed.of(plan)
        if plan.key not in self._parsed_now:
            self._parsed_now[plan.key] = ParsedPlan(plan)
        return self._parsed_now[plan.key]

    def ask_reports(self, plan: str) -> None:
        if plan not in self._reports:
            self._report_plans.add(plan)

    async def reports(self, plan: str) -> list[ReportView]:
        """Every report of the plan, by date (then as made, so that ties keep one order)."""
        if plan not in self._reports:
            self._report_plans.add(plan)
            plans, self._report_plans = sorted(self._report_plans), set()
            stmt = (
                select(ReportView)
                .where(ReportView.plan.in_(plans))
                .order_by(ReportView.plan, ReportView.indicator, ReportView.as_of, ReportView.created_at)
            )
            self._reports.update({key: [] for key in plans})
            for row in (await self.session.execute(stmt)).scalars():
                self._reports[row.plan].append(row)
        return self._reports[plan]


def reads_reports(source: str | dict) -> bool:
    """Whether an indicator's actual is its progress reports (``reported``, or the metric
    targets.reported) rather than a source the read model computes."""
    if source == "reported":
        return True
    metric = CATALOGUE.get(source.get("metric", ""))
    return metric is not None and metric.kind == "reported"


class IndicatorReader:
    """Readings of one indicator in its own unit: from its source (:mod:`gateway.sources`) or
    from its reports."""

    def __init__(self, reads: ViewReads, plan: PlanView, parsed: ParsedIndicator, review_required: bool) -> None:
        self.reads = reads
        self.plan = plan
        self.parsed = parsed
        # Whether the plan counts only the reports an officer approved (its reporting rounds say so).
        self.review_required = review_required
        self.state = parsed.state
        self.indicator = parsed.indicator
        self.period = parsed.period
        self.source = None if parsed.reported else reads.source(plan.region, parsed)
        # The day a ratio's or a growth's reading is good for → how it was computed.
        self.derivations: dict[date, str] = {}
        self._windows: tuple[date, list[tuple[date | None, date]]] | None = None  # the last as_of's

    def windows(self, as_of: date) -> list[tuple[date | None, date]]:
        """:func:`progress.reading_windows` as of ``as_of``, made once for asking and reading."""
        if self._windows is None or self._windows[0] != as_of:
            self._windows = as_of, progress.reading_windows(self.indicator, self.period, as_of)
        return self._windows[1]

    def ask(self, as_of: date) -> None:
        """Asks ahead for what :meth:`readings` will read for ``as_of``."""
        if self.source is None:
            self.reads.ask_reports(self.plan.key)
            return
        for window in self.windows(as_of):
            self.reads.ask_source(self.plan.region, self.parsed, window, as_of)

    async def readings(self, as_of: date) -> list[progress.Reading]:
        """The readings the rules need as of ``as_of``: the source read over each of
        :func:`progress.reading_windows`, dated at the day it is good for (a catalogue metric:
        the window's end; a statistic: the end of the last period read); or the reports made by then."""
        if self.source is None:
            return await self._reports(as_of)
        readings = []
        for window in self.windows(as_of):
            if (reading := await self.reads.read_source(self.plan.region, self.parsed, window, as_of)) is not None:
                readings.append(progress.Reading(reading.on, self._with_baseline(reading.value)))
                if reading.derivation is not None:
                    self.derivations[reading.on] = reading.derivation
        return readings

    async def rate_parts(self, as_of: date) -> dict[str, Any] | None:
        """What a metric rate's actual is a ratio of ("7 / 8 件"), so a reader sees the evidence."""
        if not isinstance(self.source, CatalogueMetric) or self.source.metric.kind != "rate":
            return None
        window = progress.actual_window(self.indicator, self.period, as_of)
        if window is None:
            return None
        amounts = [await self.reads.sums.amount(w) for w in self.source.windows(window)]
        numerator, denominator = rate_parts(self.source.metric, amounts)
        return {"numerator": numerator, "denominator": denominator, "unit": RATE_PARTS_UNIT}

    def _with_baseline(self, value: Decimal) -> Decimal:
        # A cumulative goal with a baseline counts from it (the trajectory starts there).
        if self.indicator.measure is progress.Measure.CUMULATIVE and self.indicator.baseline is not None:
            return self.indicator.baseline.value + value
        return value

    async def _current_reports(self, as_of: date) -> list[ReportView]:
        """The indicator's reports made by ``as_of`` that no later report corrects."""
        key = self.state["key"]
        rows = [r for r in await self.reads.reports(self.plan.key) if r.indicator == key and r.as_of <= as_of]
        superseded = {r.supersedes for r in rows if r.supersedes}
        return [r for r in rows if r.id not in superseded]

    async def _reports(self, as_of: date) -> list[progress.Reading]:
        required = self.review_required
        return [
            progress.Reading(r.as_of, Decimal(r.value))
            for r in await self._current_reports(as_of)
            if report_counts(r.review, required)
        ]

    async def pending_reports(self, as_of: date) -> int | None:
        """How many of its current reports await review and do not count yet (where the plan
        requires review); None for an indicator whose actual is not reported."""
        if self.source is not None:
            return None
        if not self.review_required:
            return 0
        return sum(1 for r in await self._current_reports(as_of) if r.review == "pending")

    def drilldown(self, as_of: date) -> list[str]:
        """Links to the records behind each metric the source reads: a catalogue metric's over
        the actual's window, a statistic's releases published by ``as_of``."""
        if self.source is None:
            return [report_link(self.plan.key, self.state["key"])]
        window = progress.actual_window(self.indicator, self.period, as_of)
        links: list[str] = []
        for leaf in self.source.metrics():
            if isinstance(leaf, StatisticMetric):
                found = [statistic_link(leaf.code, self.plan.region, as_of)]
            else:
                found = metric_links(leaf.name, self.plan.region, window, leaf.filters)
            links.extend(link for link in found if link not in links)
        return links


async def _evaluate(reader: IndicatorReader, as_of: date) -> progress.Progress:
    return progress.evaluate(reader.indicator, reader.period, as_of, await reader.readings(as_of))


async def _status(reader: IndicatorReader, as_of: date) -> str:
    """The status :func:`_evaluate` gives, alone (:func:`progress.status_at`)."""
    return progress.status_at(reader.indicator, reader.period, as_of, await reader.readings(as_of)).value


def year_row(year: progress.YearResult) -> dict[str, Any]:
    return {
        "year": year.year,
        "start": year.start,
        "end": year.end,
        "figure": plain(year.figure),
        "figure_max": plain(year.figure_max),
        "due": plain(year.due),
        "actual": plain(year.actual),
        "actual_on": year.actual_on,
        "verdict": year.verdict.value,
    }


async def indicator_progress(reader: IndicatorReader, as_of: date) -> dict[str, Any]:
    state = reader.state
    result = await _evaluate(reader, as_of)
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
        "trajectory": state.get("trajectory", progress.Trajectory.LINEAR.value),
        "target": plain(result.target),
        "target_max": plain(result.target_max),
        "milestone_this_year": plain(result.milestone_this_year),
        "milestone_this_year_max": plain(result.milestone_this_year_max),
        "actual": plain(result.actual),
        "actual_on": result.actual_on,
        "actual_parts": await reader.rate_parts(as_of) if result.actual is not None else None,
        "pending_reports": await reader.pending_reports(as_of),
        "expected": plain(result.expected),
        "status": result.status.value,
        "progress": plain(result.progress),
        "expected_progress": plain(result.expected_progress),
        "forecast": plain(result.forecast),
        "forecast_meets_target": result.forecast_meets_target,
        "trajectory_start": plain(result.trajectory_start),
        "trajectory_start_on": result.trajectory_start_on,
        "baseline_observed": result.baseline_observed,
        "years": [year_row(y) for y in result.years],
        "explanation": _with_derivation(result, reader),
        "drilldown": reader.drilldown(as_of),
    }


def _with_derivation(result: progress.Progress, reader: IndicatorReader) -> str:
    """The rules' explanation, and how a ratio's or a growth's actual was computed from what it read."""
    derivation = reader.derivations.get(result.actual_on) if result.actual is not None else None
    return result.explanation if derivation is None else f"{result.explanation};实际值 = {derivation}"


def tasks_summary(tasks: list[dict], as_of: date) -> dict[str, Any]:
    counts = Counter(t["status"] for t in tasks)
    overdue = [
        {"key": t["key"], "title": t["title"], "responsible": t["responsible"], "due": t["due"], "status": t["status"]}
        for t in tasks
        if t.get("due") and t["status"] != "done" and date.fromisoformat(str(t["due"])) < as_of
    ]
    return {"counts": {s: counts.get(s, 0) for s in TASK_STATUSES}, "overdue": overdue, "total": len(tasks)}


def plan_readers(reads: ViewReads, plan: PlanView, as_of: date) -> list[IndicatorReader]:
    """A reader per indicator, what they read asked for (read together at the first answer)."""
    parsed = reads.plan(plan)
    readers = [IndicatorReader(reads, plan, indicator, parsed.review_required) for indicator in parsed.indicators]
    for reader in readers:
        reader.ask(as_of)
    return readers


def _plan_header(plan: PlanView, parsed: ParsedPlan) -> dict[str, Any]:
    return {
        "key": plan.key,
        "title": plan.title,
        "region": plan.region,
        "region_name": region_name(plan.region),
        "issued_by": parsed.issued_by,
        "start": plan.start,
        "end": plan.end,
        "status": plan.status,
    }


async def plan_progress(reads: ViewReads, plan: PlanView, as_of: date) -> dict[str, Any]:
    indicators = [await indicator_progress(reader, as_of) for reader in plan_readers(reads, plan, as_of)]
    counts = Counter(i["status"] for i in indicators)
    return {
        "plan": _plan_header(plan, reads.plan(plan)),
        "as_of": as_of,
        "status_counts": {s: counts.get(s, 0) for s in STATUSES},
        "indicators": indicators,
        "tasks": tasks_summary(reads.plan(plan).tasks, as_of),
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
    reads: ViewReads, plan: PlanView, state: dict, as_of: date, interval: str
) -> list[dict[str, Any]]:
    """Actual against expected at each month (or year) end from plan start to the date."""
    parsed = reads.plan(plan)
    indicator = next(i for i in parsed.indicators if i.state["key"] == state["key"])
    reader = IndicatorReader(reads, plan, indicator, parsed.review_required)
    end = min(as_of, plan.end)
    if end < plan.start:
        return []
    dates = month_ends(plan.start, end) if interval == "month" else year_ends(plan.start, end)
    for on in dates:
        reader.ask(on)
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


def _headline_questions(code: str, as_of: date) -> dict[str, tuple[Metric | None, tuple[SeriesWindow, ...]]]:
    """Each headline figure's metric (None: a series' own level) and the sums it is computed from."""
    regions = registry().descendants(code)
    now = MetricQuery(regions, as_of=as_of, region=code)
    this_year = MetricQuery(regions, as_of=as_of, region=code, start=date(as_of.year, 1, 1), end=as_of)

    def metric(name: str, query: MetricQuery) -> tuple[Metric, tuple[SeriesWindow, ...]]:
        return CATALOGUE[name], metric_windows(CATALOGUE[name], query)

    def level(series: str) -> tuple[None, tuple[SeriesWindow, ...]]:
        return None, (series_window(series, MetricQuery(regions, as_of), stock=True),)

    return {
        "open_cases": level("enforcement.open_cases"),
        "overdue_open_cases": metric("enforcement.overdue_open_cases", now),
        "on_time_closure_rate_this_year": metric("enforcement.on_time_closure_rate", this_year),
        "pledge_amount_this_year": metric("financing.pledge_amount", this_year),
        "pledge_count_this_year": metric("financing.pledge_count", this_year),
        "active_agencies": metric("agencies.active_agencies", now),
        "open_complaints": level("agencies.complaints_open"),
    }


def ask_headline(sums: SeriesSums, code: str, as_of: date) -> None:
    for _metric, windows in _headline_questions(code, as_of).values():
        sums.ask(*windows)


async def headline_figures(sums: SeriesSums, code: str, as_of: date) -> dict[str, Any]:
    """Each domain's headline numbers for a region and its descendants."""
    values: dict[str, Any] = {}
    for name, (metric, windows) in _headline_questions(code, as_of).items():
        amounts = [await sums.amount(w) for w in windows]
        values[name] = amounts[0] if metric is None else metric_from(metric, amounts)
    return {
        "open_cases": values["open_cases"],
        "overdue_open_cases": int(values["overdue_open_cases"] or 0),
        "on_time_closure_rate_this_year": plain(values["on_time_closure_rate_this_year"]),
        "pledge_amount_this_year": in_all_units(values["pledge_amount_this_year"] or Decimal(0)),
        "pledge_count_this_year": int(values["pledge_count_this_year"] or 0),
        "active_agencies": int(values["active_agencies"] or 0),
        "open_complaints": values["open_complaints"],
    }


async def plans_in(session: AsyncSession, code: str, parsed: ParsedPlans | None = None) -> list[PlanView]:
    """The plans of a region and its descendants."""
    return await plans_in_any(session, sorted(registry().descendants(code)), parsed)


async def plans_in_any(session: AsyncSession, regions: list[str], parsed: ParsedPlans | None = None) -> list[PlanView]:
    """The plans of these regions (not of their descendants), by key. With ``parsed``, the rows
    come without their state (decoding 50 plans' JSON was ~5 ms a view) when it knows every
    plan's version; otherwise with it, and parsed there (read their state through ``parsed``)."""
    stmt = select(PlanView).where(PlanView.region.in_(sorted(regions))).order_by(PlanView.key)
    if parsed is not None:
        plans = list((await session.execute(stmt.options(defer(PlanView.state)))).scalars().all())
        if all(parsed.knows(plan) for plan in plans):
            return plans
        stmt = stmt.execution_options(populate_existing=True)  # again, whole (and as new as now)
    plans = list((await session.execute(stmt)).scalars().all())
    for plan in plans if parsed is not None else ():
        parsed.of(plan)
    return plans


async def plan_summaries(reads: ViewReads, plans: list[PlanView], as_of: date) -> list[dict[str, Any]]:
    """What an overview shows of each plan (its statuses, not the indicators' figures); what
    every plan reads is asked for first so that it is read together."""
    readers = [plan_readers(reads, plan, as_of) for plan in plans]
    summaries = []
    for plan, indicator_readers in zip(plans, readers, strict=True):
        counts = Counter([await _status(reader, as_of) for reader in indicator_readers])
        parsed = reads.plan(plan)
        tasks = tasks_summary(parsed.tasks, as_of)
        summaries.append(
            {
                **_plan_header(plan, parsed),
                "status_counts": {s: counts.get(s, 0) for s in STATUSES},
                "tasks": tasks["counts"],
                "overdue_tasks": len(tasks["overdue"]),
            }
        )
    return summaries


async def region_overview(
    session: AsyncSession, code: str, as_of: date, parsed: ParsedPlans | None = None
) -> dict[str, Any]:
    reads = ViewReads(session, parsed)
    ask_headline(reads.sums, code, as_of)
    plans = await plan_summaries(
        reads, [p for p in await plans_in(session, code, parsed) if p.status != "draft"], as_of
    )
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
        "headline": await headline_figures(reads.sums, code, as_of),
        "latest_events": [
            {"id": e.event_id, "type": e.type, "subject": e.subject, "region": e.region, "time": e.time} for e in events
        ],
    }


async def scorecard_regions(session: AsyncSession) -> list[str]:
    """Regions with a plan, plus every region records were kept for."""
    with_plans = (await session.execute(select(PlanView.region).distinct())).scalars().all()
    with_events = (await session.execute(select(RecentEvent.region).distinct().limit(500))).scalars().all()
    return sorted({r for r in [*with_plans, *with_events] if r in registry()})


async def scorecard(
    session: AsyncSession, regions: list[str], as_of: date, parsed: ParsedPlans | None = None
) -> list[dict[str, Any]]:
    reads = ViewReads(session, parsed)
    for code in regions:
        ask_headline(reads.sums, code, as_of)
    published = [p for p in await plans_in_any(session, regions, parsed) if p.status != "draft"]
    summaries = dict(zip([p.key for p in published], await plan_summaries(reads, published, as_of), strict=True))
    rows = []
    for code in regions:
        plans = [summaries[p.key] for p in published if p.region == code]
        totals = Counter()
        for plan in plans:
            totals.update(plan["status_counts"])
        rows.append(
            {
                "region": code,
                "name": region_name(code),
                "plans": len(plans),
                "status_counts": {s: totals.get(s, 0) for s in STATUSES},
                "headline": await headline_figures(reads.sums, code, as_of),
            }
        )
    return rows


async def last_event_time(session: AsyncSession):
    return (await session.execute(select(func.max(RecentEvent.time)))).scalar_one()
