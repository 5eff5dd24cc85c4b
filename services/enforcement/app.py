"""The enforcement service's app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.enforcement import contracts, domain
from services.enforcement.api import campaigns_router, cases_router, disclosure_router, watchlist_router
from zhichan.app import create_service_app


def create_app(**kwargs) -> FastAPI:
    return create_service_app(
        "enforcement",
        package_dir=Path(__file__).parent,
        title="Zhichan enforcement",
        description="Administrative IP enforcement: cases with legal deadlines, campaigns, repeat infringers, "
        "public disclosure.",
        routers=[cases_router, campaigns_router, watchlist_router, disclosure_router],
        contracts=contracts,
        enum_labels={
            "type": domain.CASE_TYPES,
            "procedure": domain.PROCEDURES,
            "origin": domain.ORIGINS,
            "status": domain.STATUSES,
            "outcome": domain.OUTCOMES,
            "transfer_to": domain.TRANSFER_TARGETS,
            "party_kind": domain.PARTY_KINDS,
            "period_unit": domain.PERIOD_UNITS,
            "action": domain.ACTION_LABELS,
        },
        **kwargs,
    )
