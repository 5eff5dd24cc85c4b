"""The agencies service's app."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI

from services.agencies import contracts, domain
from services.agencies.api import disclosure, router, supervision
from services.agencies.service import complaints
from services.agencies.settings import AgenciesRules
from zhichan.app import create_service_app
from zhichan.workdays import CALENDAR, WorkdayCalendar

log = logging.getLogger("zhichan.agencies")


def create_app(rules: AgenciesRules | None = None, calendar: WorkdayCalendar | None = None, **kwargs) -> FastAPI:
    """``calendar``: the working-day calendar deadlines are counted with (default: the package's)."""

    async def load_rules(app: FastAPI) -> None:
        app.state.rules = rules or AgenciesRules()
        app.state.calendar = calendar or CALENDAR

    async def recount_provisional_deadlines(app: FastAPI) -> None:
        """A new release may bring a calendar that knows another year: count the open complaints'
        provisional deadlines again (idempotent). A failure does not keep the service down; it is
        logged, and POST /complaints/deadlines/recompute does the same on demand."""
        try:
            async with app.state.session_factory() as session:
                recount = await complaints.recount_provisional_deadlines(session, app.state.calendar, None)
        except Exception:  # noqa: BLE001 - logged; the service can serve without it
            log.exception("provisional complaint deadlines were not counted again at startup")
            return
        if recount.changed:
            log.info(
                "%d of %d provisional complaint deadlines moved: the calendar knows the years up to %d",
                len(recount.changed),
                recount.examined,
                recount.known_through,
            )

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
        on_startup=[load_rules, recount_provisional_deadlines],
        **kwargs,
    )
