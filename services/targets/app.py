"""The targets service's app: regions, plans, indicators, tasks, progress reports and official statistics."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.targets import contracts, domain
from services.targets.api import regions_router, router, statistics_router
from zhichan.app import create_service_app


def create_app(**kwargs) -> FastAPI:
    return create_service_app(
        "targets",
        replicate_regions=False,  # targets defines the custom regions; the others replicate them
        package_dir=Path(__file__).parent,
        title="Zhichan targets",
        description="Plans, indicators, milestones, tasks and progress reports of an IP office; "
        "reporting rounds with review (填报与审核); "
        "plan import and export (YAML, JSON, Excel); regions, including custom zones; official "
        "statistics (the catalogue, and releases imported from CSV or Excel, with their revisions).",
        routers=[regions_router, router, statistics_router],
        contracts=contracts,
        enum_labels={
            "category": domain.CATEGORIES,
            "measure": domain.MEASURES,
            "direction": domain.DIRECTIONS,
            "nature": domain.NATURES,
            "unit": domain.UNIT_LABELS,
            "plan_status": domain.PLAN_STATUSES,
            "task_status": domain.TASK_STATUSES,
            "region_level": domain.REGION_LEVELS,
            "statistic_kind": domain.STATISTIC_KINDS,
            "period_kind": domain.PERIOD_KINDS,
            "reporting_period": domain.REPORTING_PERIODS,
            "review_mode": domain.REVIEW_MODES,
            "report_review": domain.REPORT_REVIEWS,
            "submission_status": domain.SUBMISSION_STATUSES,
            "timeliness": domain.TIMELINESS,
        },
        **kwargs,
    )
