"""Agency metrics."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.metrics.base import FilterSpec, Metric, MetricQuery
from gateway.models import AgencyActiveSpan, AgencyView

SERVICE_TYPES = (
    "patent_agency",
    "trademark_agency",
    "legal",
    "information",
    "operation",
    "valuation",
    "navigation",
    "consulting",
    "training",
    "finance",
)
BRAND_LEVELS = ("none", "municipal", "provincial", "national")


class ActiveAgencies(Metric):
    name = "agencies.active_agencies"
    unit = "家"
    kind = "stock"
    description = "Agencies active on the date (approved, not suspended or deregistered)"
    filters = {
        "service_type": FilterSpec(SERVICE_TYPES, "offers any of these service types"),
        "offline": FilterSpec(None, "has offline premises (线下)"),
        "in_cluster": FilterSpec(None, "located in a service cluster (集聚区)"),
        "brand_level": FilterSpec(BRAND_LEVELS, "brand level is one of these"),
    }

    async def value(self, session: AsyncSession, query: MetricQuery) -> Decimal:
        stmt = (
            select(func.count(func.distinct(AgencyView.id)))
            .join(AgencyActiveSpan, AgencyActiveSpan.agency_id == AgencyView.id)
            .where(AgencyActiveSpan.start_on <= query.as_of)
            .where(or_(AgencyActiveSpan.end_on.is_(None), AgencyActiveSpan.end_on > query.as_of))
        )
        if query.regions is not None:
            stmt = stmt.where(AgencyView.region.in_(sorted(query.regions)))
        f = query.filters
        if "service_type" in f:
            stmt = stmt.where(or_(*[AgencyView.service_types.contains(f",{t},") for t in f["service_type"]]))
        if "offline" in f:
            stmt = stmt.where(AgencyView.offline == f["offline"])
        if "in_cluster" in f:
            stmt = stmt.where(AgencyView.in_cluster == f["in_cluster"])
        if "brand_level" in f:
            stmt = stmt.where(AgencyView.brand_level.in_(f["brand_level"]))
        return Decimal((await session.execute(stmt)).scalar_one())
