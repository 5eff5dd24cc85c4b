"""Agency events → agency_view and the agency's active spans."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import AgencyActiveSpan, AgencyView
from services.agencies.contracts import AgencyState
from zhichan.events.envelope import Envelope


def active_spans(history: list[dict]) -> list[tuple[date, date | None]]:
    """Stretches [start, end) of business dates during which the history says 'active'."""
    spans: list[tuple[date, date | None]] = []
    start: date | None = None
    for entry in sorted(history, key=lambda e: (e["on"], e["at"])):
        on = date.fromisoformat(str(entry["on"]))
        if entry["status"] == "active" and start is None:
            start = on
        elif entry["status"] != "active" and start is not None:
            if on > start:
                spans.append((start, on))
            start = None
    if start is not None:
        spans.append((start, None))
    return spans


async def apply_agency(session: AsyncSession, envelope: Envelope) -> None:
    state = AgencyState.model_validate(envelope.data)
    view = await session.get(AgencyView, state.id)
    if view is not None and view.version >= state.version:
        return  # already holds this state or a newer one
    if view is None:
        view = AgencyView(
            id=state.id,
            region=state.region,
            status=state.status,
            service_types="",
            offline=False,
            in_cluster=False,
            brand_level="none",
            filed_on=state.filed_on,
            version=0,
        )
        session.add(view)
    view.region = state.region
    view.status = state.status
    view.service_types = "," + ",".join(state.service_types) + ","
    view.offline = state.offline
    view.in_cluster = state.in_cluster
    view.brand_level = state.brand_level
    view.filed_on = state.filed_on
    view.version = state.version
    await session.execute(delete(AgencyActiveSpan).where(AgencyActiveSpan.agency_id == state.id))
    history = [change.model_dump(mode="json") for change in state.status_history]
    for start, end in active_spans(history):
        session.add(AgencyActiveSpan(agency_id=state.id, start_on=start, end_on=end))
