"""The gateway's own routes: metrics and progress views computed from the read model."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import views
from gateway.export import progress_workbook
from gateway.freshness import freshness
from gateway.metrics import COMPUTED, MetricQuery, SeriesSums, metric_value, metric_windows, parse_filters
from gateway.models import PlanView
from gateway.viewcache import ViewCache, read_stamp
from zhichan.api.deps import ReadingSessionDep
from zhichan.api.problems import PROBLEM_RESPONSES, Forbidden, Invalid, NotFound
from zhichan.auth import CurrentUser, OptionalUser, User
from zhichan.clock import today
from zhichan.metrics_catalogue import CATALOGUE, Metric, describe
from zhichan.regions import registry

router = APIRouter(prefix="/api/progress", tags=["progress"], responses=PROBLEM_RESPONSES)

RESERVED_PARAMS = {"region", "as_of", "from", "to", "interval"}  # the rest are filters
PUBLISHED = ("active", "closed")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AsOf = Annotated[date | None, Query(description="The date the view is computed for (default: today, Asia/Shanghai)")]


async def answer(request: Request, session: AsyncSession, body: dict[str, Any]) -> Response:
    """JSON with the read model's freshness, and an ETag so a poller gets 304 when nothing moved."""
    body["freshness"] = await freshness(request, session)
    payload = json.dumps(jsonable_encoder(body), ensure_ascii=False, separators=(",", ":")).encode()
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


@router.get("/metrics", summary="The metric catalogue")
async def catalogue() -> dict[str, list[dict]]:
    return {"items": [m for m in describe() if m["name"] in COMPUTED]}


MetricRegion = Annotated[str | None, Query(description="Region code; its descendants are counted too")]
Window = Annotated[date | None, Query(alias="from", description="Window start (flow metrics)")]
WindowEnd = Annotated[date | None, Query(alias="to", description="Window end (flow metrics)")]


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


@router.get("/metrics/{name}", summary="A metric's value for a region (descendants included)")
async def read_metric(
    name: str,
    request: Request,
    session: ReadingSessionDep,
    user: CurrentUser,
    region: MetricRegion = None,
    as_of: Annotated[
        date | None, Query(description="Date of the value (stock metrics); default: `to` or today")
    ] = None,
    start: Window = None,
    end: WindowEnd = None,
) -> Response:
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


@router.get("/metrics/{name}/series", summary="A metric month by month (or year by year) over a window")
async def metric_series(
    name: str,
    request: Request,
    session: ReadingSessionDep,
    user: CurrentUser,
    region: MetricRegion = None,
    start: Window = None,
    end: WindowEnd = None,
    interval: Literal["month", "year"] = "month",
) -> Response:
    """Each point is a period of the window: flows summed within it, stocks at its last day,
    rates over it. Default window: 1 January of last year to today."""
    end = end or today()
    start = start or date(end.year - 1, 1, 1)
    metric, filters = metric_request(name, request, user, region, start, end)
    ends = views.month_ends(start, end) if interval == "month" else views.year_ends(start, end)
    periods = list(zip([start, *[e + timedelta(days=1) for e in ends[:-1]]], ends, strict=True))
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


@router.get("/plans", summary="Plans the gateway knows: published ones, and drafts in your regions")
async def list_plans(
    request: Request,
    session: ReadingSessionDep,
    user: OptionalUser,
    region: Annotated[str | None, Query(description="Region; descendants included")] = None,
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
    responses={200: {"content": {"application/json": {}, XLSX: {}}}},
)
async def plan_progress(
    key: str,
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
        stamp, ("plan", key, as_of), lambda: views.plan_progress(views.ViewReads(session), plan, as_of)
    )
    if format == "xlsx":
        filename = f"{plan.key}-{view['as_of']}.xlsx"
        return Response(
            progress_workbook(view),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return await answer(request, session, {**view})


@router.get("/plans/{key}/indicators/{ikey}/series", summary="Actual against expected over time (trend chart)")
async def indicator_series(
    key: str,
    ikey: str,
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
    points = await views.indicator_series(views.ViewReads(session), plan, state, as_of or today(), interval)
    return await answer(
        request,
        session,
        {"plan": key, "indicator": ikey, "unit": state["unit"], "interval": interval, "points": points},
    )


@router.get("/regions/{code}", summary="Region overview: plans, headline figures of each domain, latest events")
async def region_overview(
    code: str, request: Request, session: ReadingSessionDep, user: CurrentUser, as_of: AsOf = None
) -> Response:
    check_region(user, code)
    stamp = await read_stamp(session)
    as_of = as_of or today()
    view = await request.app.state.view_cache.get(
        stamp, ("region", code, as_of), lambda: views.region_overview(session, code, as_of)
    )
    return await answer(request, session, {**view})


@router.get("/scorecard", summary="Every region you see, side by side")
async def scorecard(request: Request, session: ReadingSessionDep, user: CurrentUser, as_of: AsOf = None) -> Response:
    cache: ViewCache = request.app.state.view_cache
    stamp = await read_stamp(session)  # first: the regions and rows read next are at least this new
    # Finding the regions reads the recent events (a million at a city's decade): kept too.
    known = await cache.get(stamp, ("scorecard regions",), lambda: views.scorecard_regions(session))
    regions = [r for r in known if user.sees(r)]
    as_of = as_of or today()
    rows = await cache.get(
        stamp, ("scorecard", tuple(regions), as_of), lambda: views.scorecard(session, regions, as_of)
    )
    return await answer(request, session, {"as_of": as_of, "items": rows})


@router.get("/stream", summary="Server-sent events: a message each time the read model moves")
async def stream(request: Request) -> StreamingResponse:
    changes: ReadModelChanges = request.app.state.changes

    async def events():
        seen = changes.count
        yield f"event: hello\ndata: {seen}\n\n"
        while not await request.is_disconnected():
            if await changes.wait_beyond(seen, timeout=15.0):
                seen = changes.count
                yield f"event: applied\ndata: {seen}\n\n"
            else:
                yield ": keep-alive\n\n"

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


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
