"""``/api/alerts``: what needs attention in the caller's regions, and acknowledging it."""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel

from gateway.alerts import service
from gateway.alerts.contracts import AlertKind, AlertState
from zhichan.api.deps import PageDep, SessionDep
from zhichan.api.scope import RegionQuery
from zhichan.auth import Reader, Writer
from zhichan.fields import Key

router = APIRouter(prefix="/api/alerts", tags=["alerts"])


class AlertList(BaseModel):
    items: list[AlertState]
    next_cursor: str | None = None


@router.get(
    "",
    response_model=AlertList,
    summary="Alerts raised in your regions, the newest first: deadlines near or passed, loans defaulted",
    description="A department's user sees the alerts its department is responsible for (its `department` claim "
    "among `responsible`). Each alert is also published on the topic `zhichan.alerts` and to webhooks.",
)
async def list_alerts(
    session: SessionDep,
    user: Reader,
    page: PageDep,
    region: RegionQuery = None,
    kind: AlertKind | None = Query(None, description="Only alerts of this kind"),
    acknowledged: bool | None = Query(None, description="`false`: only those nobody has acknowledged yet"),
) -> AlertList:
    items, cursor = await service.listed(session, user, page, region=region, kind=kind, acknowledged=acknowledged)
    return AlertList(items=items, next_cursor=cursor)


@router.post(
    "/{alert_id}/acknowledge",
    response_model=AlertState,
    summary="Acknowledge an alert: seen, and being dealt with (again: no change)",
)
async def acknowledge_alert(alert_id: Key, session: SessionDep, user: Writer) -> AlertState:
    return await service.acknowledge(session, alert_id, user)
