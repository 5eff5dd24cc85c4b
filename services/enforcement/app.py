"""The enforcement service's app. Its domain is built in its own issue; until then it is a real,
empty service: health, readiness, metrics, migrations and an outbox relay."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.enforcement import contracts
from zhichan.app import create_service_app


def create_app(**kwargs) -> FastAPI:
    return create_service_app(
        "enforcement",
        package_dir=Path(__file__).parent,
        title="Zhichan enforcement",
        description="Administrative IP enforcement: cases with legal deadlines, campaigns, repeat infringers.",
        routers=[],
        contracts=contracts,
        enum_labels={},
        **kwargs,
    )
