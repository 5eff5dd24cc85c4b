"""The agencies service's app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.agencies import contracts, domain
from services.agencies.api import disclosure, router, supervision
from services.agencies.settings import AgenciesRules
from zhichan.app import create_service_app


def create_app(rules: AgenciesRules | None = None, **kwargs) -> FastAPI:
    async def load_rules(app: FastAPI) -> None:
        app.state.rules = rules or AgenciesRules()

    return create_service_app(
        "agencies",
        package_dir=Path(__file__).parent,
        title="Zhichan agencies",
        description="IP service agencies: filing (备案), practitioners, annual reports, complaints, "
        "random inspections (双随机、一公开), credit archive and grades, evaluations.",
        routers=[router, supervision, disclosure],
        contracts=contracts,
        enum_labels={
            "service_type": domain.SERVICE_TYPES,
            "brand_level": domain.BRAND_LEVELS,
            "status": domain.STATUSES,
            "action": domain.ACTION_LABELS,
            "practitioner_type": domain.PRACTITIONER_TYPES,
            "practitioner_status": domain.PRACTITIONER_STATUSES,
            "annual_report_status": domain.REPORT_STATUSES,
            "complaint_channel": domain.COMPLAINT_CHANNELS,
            "complaint_outcome": domain.COMPLAINT_OUTCOMES,
            "complaint_status": domain.COMPLAINT_STATUSES,
            "credit_kind": domain.CREDIT_KIND_LABELS,
            "credit_grade": domain.CREDIT_GRADES,
            "inspection_finding": domain.INSPECTION_FINDINGS,
            "inspection_status": domain.INSPECTION_STATUSES,
        },
        on_startup=[load_rules],
        **kwargs,
    )
