"""The gateway's own routes: metrics and progress views computed from the read model."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.encoders import decimal_encoder, jsonable_encoder
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import views
from gateway.export import progress_workbook
from gateway.freshness import freshness
from gateway.metrics import COMPUTED, MetricQuery, SeriesSums, metric_value, metric_windows, parse_filters
from gateway.models import PlanView
from gateway.statistics import StatisticReading, StatisticReleases, statistic_catalogue
from gateway.statistics import describe as describe_statistic
from gateway.viewcache import ViewCache, read_stamp
from zhichan.api.deps import ReadingSessionDep
from zhichan.api.problems import Forbidden, Invalid, NotFound, ProblemError
from zhichan.auth import OptionalUser, Reader, User
from zhichan.clock import today
from zhichan.fields import DAY_PATTERN, REGION_CODE_PATTERN, Key
from zhichan.metrics_catalogue import CATALOGUE, Metric, describe
from zhichan.regions import registry
from zhichan.statistics_catalogue import Statistic, statistic_code

router = APIRouter(prefix="/api/progress", tags=["progress"])
# What a view made by answer() also answers.
NOT_MODIFIED = {304: {"description": "Not modified: If-None-Match names the view's current ETag"}}

# Who sees a region's figures (the metrics, a region's overview, the scorecard): admin, officer,
# auditor and department — a department reports its region's figures, so it sees them — each
# within their regions. A `public` token sees published plans only, whatever regions it names.
Staff = Reader

RESERVED_PARAMS = {"region", "as_of", "from", "to", "interval"}  # the rest are filters
PUBLISHED = ("active", "closed")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Every date a view is asked for lies in these years; a series spans this many years at most
# (each of its months is computed: a window from year 1 to 9999 was 120 000 of them).
EARLIEST, LATEST = date(1900, 1, 1), date(2200, 12, 31)
SERIES_YEARS = 50
DATES = f"from {EARLIEST} to {LATEST}"
YEARS = {"pattern": DAY_PATTERN}  # the bounds, as the OpenAPI document can say them
AsOf = Annotated[
    date | None,
    Query(
        description=f"The date the view is computed for (default: today, Asia/Shanghai); {DATES}",
        ge=EARLIEST,
        le=LATEST,
        json_schema_extra=YEARS,
    ),
]


def years_after(day: date, years: int) -> date:
    """The same day ``years`` later (28 February for a 29th that year lacks)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def json_value(value: Any) -> Any:
    """What :func:`fastapi.encoders.jsonable_encoder` makes of the values a view holds beyond
    JSON's own (the same bytes), for :func:`json.dumps`: walking a view through that encoder
    was ~5 ms of a computed overview's ~50."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return decimal_encoder(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return list(value)
    return jsonable_encoder(value)


async def answer(request: Request, session: AsyncSession, body: dict[str, Any]) -> Response:
    """JSON with the read model's freshness, and an ETag so a poller gets 304 when nothing moved."""
    body["freshness"] = await freshness(request, session)
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=json_value).encode()
    etag = '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(payload, media_type="application/json", headers={"ETag": etag, "Cache-Control": "no-cache"})


def check_region(user: User, code: str) -> None:
    if code not in registry():
        raise NotFound(f"no region {code}")
    if not user.sees(code):
        raise Forbidden(f"region {code} is outside your regions")


async def visible_plan(session: AsyncSession, key: str, user: User | None) -> PlanView:
    plan = await session.get(PlanView, key)
    # Published plans are public; a draft exists only for those who see its region.
    if plan is None or (plan.status not in PUBLISHED and (user is None or not user.sees(plan.region))):
        raise NotFound(f"no plan {key}")
    return plan


@router.get("/metrics", summary="The metric catalogue, the statistics (statistics.<code>) included")
async def list_metrics(session: ReadingSessionDep, user: Staff) -> dict[str, list[dict]]:
    statistics = await statistic_catalogue(session)
    return {
        "items": [
            *(m for m in describe() if m["name"] in COMPUTED),
            *(describe_statistic(s) for s in statistics.values()),
        ]
    }


MetricRegion = Annotated[
    str | None,
    Query(
        description="Region code; its descendants are counted too", json_schema_extra={"pattern": REGION_CODE_PATTERN}
    ),
]
Window = Annotated[
    date | None,
    Query(
        alias="from",
        description=f"Window start (flow metrics); {DATES}",
        ge=EARLIEST,
        le=LATEST,
        json_schema_extra=YEARS,
    ),
]
WindowEnd = Annotated[
    date | None,
    Query(
        alias="to", description=f"Window end (flow metrics); {DATES}", ge=EARLIEST, le=LATEST, json_schema_extra=YEARS
    ),
]


def metric_request(
    name: str, request: Request, user: User, region: str | None, start: date | None, end: date | None
) -> tuple[Metric, dict[str, object]]:
    """The metric asked for and its filters, or the problem with the question."""
    metric = CATALOGUE.get(name) if name in COMPUTED else None
    if metric is None:
        raise NotFound(f"no metric {name}; GET /api/progress/metrics lists them")
    if region is not None and region not in registry():
        raise Invalid.field(["region"], f"unknown region {region!r}")
    if region is not None and not user.sees(region):
        raise Forbidden(f"region {region} is outside your regions")
    if start and end and start > end:
        raise Invalid.field(["from"], "the window starts after it ends")
    raw_filters: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        if key not in RESERVED_PARAMS:
            raw_filters.setdefault(key, []).append(value)
    return metric, parse_filters(metric, raw_filters)


@router.get("/metrics/{name}", summary="A metric's value for a region (descendants included)", responses=NOT_MODIFIED)
async def get_metric(
    name: str,
    request: Request,
    session: ReadingSessionDep,
    user: Staff,
    region: MetricRegion = None,
    as_of: Annotated[
        date | None,
        Query(
            description=f"Date of the value (stock metrics); default: `to` or today; {DATES}",
            ge=EARLIEST,
            le=LATEST,
            json_schema_extra=YEARS,
        ),
    ] = None,
    start: Window = None,
    end: WindowEnd = None,
) -> Response:
    if statistic_code(name) is not None:
        return await get_statistic(name, request, session, user, region, as_of or end or today(), start, end)
    metric, filters = metric_request(name, request, user, region, start, end)
    as_of = as_of or end or today()
    query = MetricQuery(regions=user.scope(region), as_of=as_of, start=start, end=end, filters=filters, region=region)
    value = await metric_value(SeriesSums(session), metric, query)
    return await answer(
        request,
        session,
        {
            "metric": metric.name,
            "unit": metric.unit,
            "kind": metric.kind,
            "region": region,
            "as_of": as_of,
            "from": start,
            "to": end,
            "filters": filters,
            "value": views.plain(value),
        },
    )


async def statistic_request(
    name: str,
    request: Request,
    session: AsyncSession,
    user: User,
    region: str | None,
    start: date | None,
    end: date | None,
) -> Statistic:
    """The statistic asked for, or the problem with the question (it takes a region, no filters)."""
    statistic = (await statistic_catalogue(session)).get(statistic_code(name) or "")
    if statistic is None:
        raise NotFound(f"no metric {name}; GET /api/progress/metrics lists them")
    if region is None:
        raise Invalid.field(["region"], "a statistic is read for a region: say which")
    if region not in registry():
        raise Invalid.field(["region"], f"unknown region {region!r}")
    if not user.sees(region):
        raise Forbidden(f"region {region} is outside your regions")
    if start and end and start > end:
        raise Invalid.field(["from"], "the window starts after it ends")
    if unknown := [key for key in request.query_params if key not in RESERVED_PARAMS]:
        errors = [{"loc": [key], "msg": "unknown filter; statistics accept none"} for key in unknown]
        raise Invalid("unknown filters or values", errors=errors)
    return statistic


def statistic_point(reading: StatisticReading | None) -> dict[str, Any]:
    """A statistic's value and the day it is good for (a period's end)."""
    if reading is None:
        return {"value": None, "on": None}
    return {"value": views.plain(reading.value), "on": reading.on}


async def get_statistic(
    name: str,
    request: Request,
    session: AsyncSession,
    user: User,
    region: str | None,
    as_of: date,
    start: date | None,
    end: date | None,
) -> Response:
    """A statistic over the window as known on ``as_of`` (releases published by then): a stock's
    latest figure by ``to`` (or ``as_of``), a flow's periods covered from ``from`` to ``to``."""
    statistic = await statistic_request(name, request, session, user, region, start, end)
    figures = await StatisticReleases(session).figures(statistic, registry().descendants(region), as_of)
    return await answer(
        request,
        session,
        {
            "metric": statistic.metric,
            "unit": statistic.unit,
            "kind": statistic.kind,
            "region": region,
            "as_of": as_of,
            "from": start,
            "to": end,
            "filters": {},
            **statistic_point(figures.over(region, start, end or as_of)),
        },
    )


async def get_statistic_series(
    statistic: Statistic,
    request: Request,
    session: AsyncSession,
    region: str,
    periods: list[tuple[date, date]],
    interval: str,
) -> Response:
    """Each period of the window read as the statistic's value over it, as known today."""
    figures = await StatisticReleases(session).figures(statistic, registry().descendants(region), today())
    points = [{"from": since, "to": to, **statistic_point(figures.over(region, since, to))} for since, to in periods]
    return await answer(
        request,
        session,
        {
            "metric": statistic.metric,
            "unit": statistic.unit,
            "kind": statistic.kind,
            "region": region,
            "interval": interval,
            "filters": {},
            "points": points,
        },
    )


@router.get(
    "/metrics/{name}/series",
    summary="A metric month by month (or year by year) over a window",
    responses=NOT_MODIFIED,
)
async def get_metric_series(
    name: str,
    request: Request,
    session: ReadingSessionDep,
    user: Staff,
    region: MetricRegion = None,
    start: Window = None,
    end: WindowEnd = None,
    interval: Literal["month", "year"] = "month",
) -> Response:
    """Each point is a period of the window: flows summed within it, stocks at its last day,
    rates over it (a statistic: as known today, with the day each value is good for). Default
    window: 1 January of last year to today; 50 years at most."""
    end = end or today()
    start = start or date(end.year - 1, 1, 1)
    statistic = None
    if statistic_code(name) is not None:
        statistic = await statistic_request(name, request, session, user, region, start, end)
    else:
        metric, filters = metric_request(name, request, user, region, start, end)
    if end > years_after(start, SERIES_YEARS):
        message = f"a series spans {SERIES_YEARS} years at most; ask for a shorter window"
        raise Invalid(message, errors=[{"loc": ["from"], "msg": message}, {"loc": ["to"], "msg": message}])
    ends = views.month_ends(start, end) if interval == "month" else views.year_ends(start, end)
    periods = list(zip([start, *[e + timedelta(days=1) for e in ends[:-1]]], ends, strict=True))
    if statistic is not None:
        return await get_statistic_series(statistic, request, session, region, periods, interval)
    queries = [
        MetricQuery(regions=user.scope(region), as_of=to, start=since, end=to, filters=filters, region=region)
        for since, to in periods
    ]
    sums = SeriesSums(session)
    for query in queries:
        sums.ask(*metric_windows(metric, query))
    points = [
        {"from": query.start, "to": query.end, "value": views.plain(await metric_value(sums, metric, query))}
        for query in queries
    ]
    return await answer(
        request,
        session,
        {
            "metric": metric.name,
            "unit": metric.unit,
            "kind": metric.kind,
            "region": region,
            "interval": interval,
            "filters": filters,
            "points": points,
        },
    )


@router.get(
    "/plans", summary="Plans the gateway knows: published ones, and drafts in your regions", responses=NOT_MODIFIED
)
async def list_progress_plans(
    request: Request,
    session: ReadingSessionDep,
    user: OptionalUser,
    region: Annotated[
        str | None,
        Query(description="Region; descendants included", json_schema_extra={"pattern": REGION_CODE_PATTERN}),
    ] = None,
) -> Response:
    stmt = select(PlanView).order_by(PlanView.region, PlanView.key)
    if region is not None:
        if region not in registry():
            raise Invalid.field(["region"], f"unknown region {region!r}")
        stmt = stmt.where(PlanView.region.in_(sorted(registry().descendants(region))))
    plans = [
        p
        for p in (await session.execute(stmt)).scalars()
        if p.status in PUBLISHED or (user is not None and user.sees(p.region))
    ]
    return await answer(
        request,
        session,
        {
            "items": [
                {
                    "key": p.key,
                    "title": p.title,
                    "region": p.region,
                    "region_name": views.region_name(p.region),
                    "status": p.status,
                    "start": p.start,
                    "end": p.end,
                }
                for p in plans
            ]
        },
    )


@router.get(
    "/plans/{key}",
    summary="Progress of every indicator of a plan, and its tasks",
    responses={200: {"content": {"application/json": {}, XLSX: {}}}, **NOT_MODIFIED},
)
async def get_plan_progress(
    key: Key,
    request: Request,
    session: ReadingSessionDep,
    user: OptionalUser,
    as_of: AsOf = None,
    format: Literal["json", "xlsx"] = "json",
) -> Response:  # noqa: A002 - the query name
    stamp = await read_stamp(session)  # first: the plan row read next is at least this new
    plan = await visible_plan(session, key, user)
    as_of = as_of or today()
    view = await request.app.state.view_cache.get(
        stamp,
        ("plan", key, as_of),
        lambda: views.plan_progress(views.ViewReads(session, request.app.state.parsed_plans), plan, as_of),
    )
    if format == "xlsx":
        filename = f"{plan.key}-{view['as_of']}.xlsx"
        return Response(
            progress_workbook(view),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return await answer(request, session, {**view})


@router.get(
    "/plans/{key}/indicators/{ikey}/series",
    summary="Actual against expected over time (trend chart)",
    responses=NOT_MODIFIED,
)
async def get_indicator_series(
    key: Key,
    ikey: Key,
    request: Request,
    session: ReadingSessionDep,
    user: OptionalUser,
    as_of: AsOf = None,
    interval: Literal["month", "year"] = "month",
) -> Response:
    plan = await visible_plan(session, key, user)
    state = next((i for i in plan.state["indicators"] if i["key"] == ikey), None)
    if state is None:
        raise NotFound(f"plan {key} has no indicator {ikey}")
    points = await views.indicator_series(
        views.ViewReads(session, request.app.state.parsed_plans), plan, state, as_of or today(), interval
    )
    return await answer(
        request,
        session,
        {"plan": key, "indicator": ikey, "unit": state["unit"], "interval": interval, "points": points},
    )


@router.get(
    "/regions/{code}",
    summary="Region overview: plans, headline figures of each domain, latest events",
    responses=NOT_MODIFIED,
)
async def get_region_overview(
    code: Key, request: Request, session: ReadingSessionDep, user: Staff, as_of: AsOf = None
) -> Response:
    check_region(user, code)
    stamp = await read_stamp(session)
    as_of = as_of or today()
    view = await request.app.state.view_cache.get(
        stamp,
        ("region", code, as_of),
        lambda: views.region_overview(session, code, as_of, request.app.state.parsed_plans),
    )
    return await answer(request, session, {**view})


@router.get("/scorecard", summary="Every region you see, side by side", responses=NOT_MODIFIED)
async def get_scorecard(request: Request, session: ReadingSessionDep, user: Staff, as_of: AsOf = None) -> Response:
    cache: ViewCache = request.app.state.view_cache
    stamp = await read_stamp(session)  # first: the regions and rows read next are at least this new
    # Finding the regions reads the recent events (a million at a city's decade): kept too.
    known = await cache.get(stamp, ("scorecard regions",), lambda: views.scorecard_regions(session))
    regions = [r for r in known if user.sees(r)]
    as_of = as_of or today()
    rows = await cache.get(
        stamp,
        ("scorecard", tuple(regions), as_of),
        lambda: views.scorecard(session, regions, as_of, request.app.state.parsed_plans),
    )
    return await answer(request, session, {"as_of": as_of, "items": rows})


@router.get(
    "/stream",
    summary="Server-sent events: a message each time the read model moves",
    responses={429: {"description": "Too many streams open (`Retry-After` says when to try again)"}},
)
async def stream_changes(request: Request, user: OptionalUser) -> StreamingResponse:
    """Open to anyone (it says only that something moved, and a browser's EventSource sends no
    token); a caller holds a few streams at a time, counted by the token's subject, or by the
    address without a token, and the gateway a bounded number in all (429 beyond either)."""
    changes: ReadModelChanges = request.app.state.changes
    release = stream_slots(request).take(stream_holder(request, user))

    async def events():
        seen = changes.count
        yield f"event: hello\ndata: {seen}\n\n"
        while not await request.is_disconnected():
            if await changes.wait_beyond(seen, timeout=KEEP_ALIVE_SECONDS):
                seen = changes.count
                yield f"event: applied\ndata: {seen}\n\n"
            else:
                yield ": keep-alive\n\n"

    return HeldStream(events(), release=release, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


KEEP_ALIVE_SECONDS = 15.0
STREAM_RETRY_SECONDS = 30  # Retry-After of a stream refused: about two keep-alives


class TooManyStreams(ProblemError):
    status, title, slug = 429, "Too many streams", "too-many-streams"


def stream_holder(request: Request, user: User | None) -> str:
    """Whose streams a stream counts among: the token's subject, else the client's address (the
    one a trusted proxy names, ``GATEWAY_FORWARDED_ALLOW_IPS``)."""
    if user is not None:
        return f"sub:{user.sub}"
    return f"address:{request.client.host if request.client else 'unknown'}"


def stream_slots(request: Request) -> StreamSlots:
    state = request.app.state
    slots = getattr(state, "stream_slots", None)
    if slots is None:  # made at the first stream, from the settings the lifespan made
        settings = state.settings
        slots = state.stream_slots = StreamSlots(settings.sse_streams_per_holder, settings.sse_streams_total)
    return slots


class StreamSlots:
    """The event streams open on this gateway process: at most ``per_holder`` per holder and
    ``total`` in all. :meth:`take` gives the slot's release, which frees it once."""

    def __init__(self, per_holder: int, total: int) -> None:
        self.per_holder = per_holder
        self.total = total
        self.held: dict[str, int] = {}

    @property
    def open(self) -> int:
        return sum(self.held.values())

    def take(self, holder: str) -> Callable[[], None]:
        retry = {"Retry-After": str(STREAM_RETRY_SECONDS)}
        if self.held.get(holder, 0) >= self.per_holder:
            raise TooManyStreams(
                f"at most {self.per_holder} event streams at a time for one caller; close one first", headers=retry
            )
        if self.open >= self.total:
            raise TooManyStreams(f"the gateway holds {self.total} event streams; try again later", headers=retry)
        self.held[holder] = self.held.get(holder, 0) + 1
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            left = self.held[holder] - 1
            if left:
                self.held[holder] = left
            else:
                del self.held[holder]

        return release


class HeldStream(StreamingResponse):
    """A streaming answer that frees its stream slot when it ends, however it ends: the client
    went away, the process stops, or it never started."""

    def __init__(self, content, *, release: Callable[[], None], **kwargs) -> None:
        super().__init__(content, **kwargs)
        self.release = release

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.release()


class ReadModelChanges:
    """Counts events applied, and lets streams wait for the next ones."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = asyncio.Condition()

    def applied(self, n: int) -> None:
        self.count += n
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_beyond(self, seen: int, timeout: float) -> bool:
        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(lambda: self.count > seen), timeout)
            return True
        except TimeoutError:
            return False
