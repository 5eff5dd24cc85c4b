"""The agencies service's app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.agencies import contracts, domain
from services.agencies.api import router
from zhichan.app import create_service_app


def create_app(**kwargs) -> FastAPI:
    return create_service_app(
        "agencies",
        package_dir=Path(__file__).parent,
        title="Zhichan agencies",
        description="IP service agencies: filing (备案), status, supervision.",
        routers=[router],
        contracts=contracts,
        enum_labels={
            "service_type": domain.SERVICE_TYPES,
            "brand_level": domain.BRAND_LEVELS,
            "status": domain.STATUSES,
            "action": domain.ACTION_LABELS,
        },
        **kwargs,
    )
