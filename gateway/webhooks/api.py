"""``/api/webhooks``: subscriptions to the platform's events for systems that do not speak Kafka,
with their delivery log. An officer manages their own; an admin sees every one."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Query, Request, Response

from gateway.webhooks import service
from gateway.webhooks.schemas import (
    DeliveryList,
    DeliveryPublic,
    DeliveryStatus,
    SecretRotated,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookPublic,
    WebhookUpdate,
)
from zhichan.api.deps import PageDep, SessionDep
from zhichan.auth import Writer
from zhichan.fields import Key

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])


@router.post(
    "",
    status_code=201,
    response_model=WebhookCreated,
    summary="Subscribe a URL to events: each one POSTed there, signed per Standard Webhooks",
    description="Every event applied from now on whose type and region match is POSTed to `url` as its CloudEvent "
    "(`application/cloudevents+json`), with the headers `webhook-id`, `webhook-timestamp` and `webhook-signature` "
    "(HMAC-SHA256 with the secret answered here, once). An answer other than 2xx is retried with growing waits; "
    "410 Gone disables the subscription.",
)
async def create_webhook(body: WebhookCreate, session: SessionDep, user: Writer, response: Response) -> WebhookCreated:
    created = await service.create(session, body, user)
    response.headers["Location"] = f"/api/webhooks/{created.id}"
    return created


@router.get("", response_model=WebhookList, summary="Your webhook subscriptions (an admin: all)")
async def list_webhooks(session: SessionDep, user: Writer) -> WebhookList:
    return WebhookList(items=await service.listed(session, user))


@router.get("/{webhook_id}", response_model=WebhookPublic, summary="One webhook subscription")
async def get_webhook(webhook_id: Key, session: SessionDep, user: Writer) -> WebhookPublic:
    return service.public(await service.owned(session, webhook_id, user))


@router.patch(
    "/{webhook_id}",
    response_model=WebhookPublic,
    summary="Change a subscription's URL, types or regions, or enable it again (`active: true`)",
)
async def update_webhook(webhook_id: Key, body: WebhookUpdate, session: SessionDep, user: Writer) -> WebhookPublic:
    return await service.update(session, webhook_id, body, user)


@router.delete("/{webhook_id}", status_code=204, summary="End a subscription; its deliveries not sent are dropped")
async def delete_webhook(webhook_id: Key, session: SessionDep, user: Writer) -> Response:
    await service.delete(session, webhook_id, user)
    return Response(status_code=204)


@router.post(
    "/{webhook_id}/rotate-secret",
    response_model=SecretRotated,
    summary="A new signing secret; the previous one keeps signing beside it for the grace period",
    description="During the grace (`GATEWAY_WEBHOOK_SECRET_GRACE_HOURS`), `webhook-signature` carries a "
    "signature by each secret, separated by a space: a receiver that verifies with either accepts the delivery.",
)
async def rotate_webhook_secret(webhook_id: Key, request: Request, session: SessionDep, user: Writer) -> SecretRotated:
    grace = timedelta(hours=request.app.state.settings.webhook_secret_grace_hours)
    return await service.rotate_secret(session, webhook_id, user, grace)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=DeliveryList,
    summary="A subscription's deliveries, the newest first, each with its attempts",
)
async def list_webhook_deliveries(
    webhook_id: Key,
    session: SessionDep,
    user: Writer,
    page: PageDep,
    status: DeliveryStatus | None = Query(None, description="Only these: `failed` is the dead letter"),
) -> DeliveryList:
    items, cursor = await service.deliveries(session, webhook_id, user, page, status)
    return DeliveryList(items=items, next_cursor=cursor)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    response_model=DeliveryPublic,
    summary="Send a delivery again now, with a fresh round of retries (the same `webhook-id`)",
)
async def redeliver_webhook(
    webhook_id: Key, delivery_id: Key, request: Request, session: SessionDep, user: Writer
) -> DeliveryPublic:
    delivery = await service.redeliver(session, webhook_id, delivery_id, user)
    dispatcher = getattr(request.app.state, "webhooks", None)
    if dispatcher is not None:
        dispatcher.wake()
    return delivery
