"""The gateway's own routes: progress computed from the read model."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from gateway.freshness import freshness
from gateway.metrics import COMPUTED, MetricQuery, metric_value, parse_filters
from zhichan.api.deps import SessionDep
from zhichan.api.problems import PROBLEM_RESPONSES, Forbidden, Invalid, NotFound
from zhichan.auth import CurrentUser
from zhichan.clock import today
from zhichan.metrics_catalogue import CATALOGUE, describe
from zhichan.regions import registry

router = APIRouter(prefix="/api/progress", tags=["progress"], responses=PROBLEM_RESPONSES)

RESERVED_PARAMS = {"region", "as_of", "from", "to"}


class MetricValue(BaseModel):
    metric: str
    unit: str
    kind: str
    region: str | None
    as_of: date
    start: date | None = Field(None, alias="from")
    end: date | None = Field(None, alias="to")
    filters: dict[str, Any]
    value: str | None = Field(description="Exact decimal, as a string; null: a rate with nothing to divide by")
    freshness: dict[str, Any]


@router.get("/metrics", summary="The metric catalogue")
async def catalogue() -> dict[str, list[dict]]:
    return {"items": describe()}


@router.get(
    "/metrics/{name}",
    response_model=MetricValue,
    response_model_by_alias=True,
    summary="A metric's value for a region (descendants included)",
)
async def read_metric(
    name: str,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    region: Annotated[str | None, Query(description="Region code; its descendants are counted too")] = None,
    as_of: Annotated[date | None, Query(description="Date of the value (stock metrics); default today")] = None,
    start: Annotated[date | None, Query(alias="from", description="Window start (flow metrics)")] = None,
    end: Annotated[date | None, Query(alias="to", description="Window end (flow metrics)")] = None,
) -> dict[str, Any]:
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
    filters = parse_filters(metric, raw_filters)
    as_of = as_of or end or today()
    query = MetricQuery(regions=user.scope(region), as_of=as_of, start=start, end=end, filters=filters, region=region)
    value = await metric_value(session, metric, query)
    return {
        "metric": metric.name,
        "unit": metric.unit,
        "kind": metric.kind,
        "region": region,
        "as_of": as_of,
        "from": start,
        "to": end,
        "filters": filters,
        "value": format(value.normalize(), "f"),
        "freshness": await freshness(request, session),
    }
