"""The financing service's app. Its domain is built in its own issue; until then it is a real,
empty service: health, readiness, metrics, migrations and an outbox relay."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.financing import contracts
from zhichan.app import create_service_app


def create_app(**kwargs) -> FastAPI:
    return create_service_app(
        "financing",
        package_dir=Path(__file__).parent,
        title="Zhichan financing",
        description="Pledges, transactions, insurance and matchmaking: the uses of IP plans count.",
        routers=[],
        contracts=contracts,
        enum_labels={},
        **kwargs,
    )
