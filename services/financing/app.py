"""The financing service's app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.financing import contracts, domain
from services.financing.api import router
from zhichan.app import create_service_app


def create_app(**kwargs) -> FastAPI:
    return create_service_app(
        "financing",
        package_dir=Path(__file__).parent,
        title="Zhichan financing",
        description="Pledges, transactions, insurance and matchmaking: the uses of IP plans count.",
        routers=[router],
        contracts=contracts,
        enum_labels={
            "asset_type": domain.ASSET_TYPES,
            "pledge_kind": domain.PLEDGE_KINDS,
            "guarantee_mode": domain.GUARANTEE_MODES,
            "pledge_status": domain.PLEDGE_STATUSES,
            "transaction_type": domain.TRANSACTION_TYPES,
            "action": domain.ACTION_LABELS,
        },
        **kwargs,
    )
