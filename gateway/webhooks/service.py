"""Webhook use cases: subscriptions (each caller's own; an admin's reach all), the deliveries the
applied events make, and a delivery sent again by hand.

A subscription receives the events applied after it was created (never the history a replay
goes through), of its types and regions. Its deliveries are created in the transaction that
applied the events: they are as durable as the read model, and the inbox that applies an event
once creates its deliveries once (the unique key (subscription, event) makes sure again)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.webhooks import signing
from gateway.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from gateway.webhooks.schemas import (
    AttemptPublic,
    DeliveryPublic,
    DeliveryStatus,
    SecretRotated,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
    WebhookUpdate,
)
from zhichan.api.pagination import PageParams, keyset_page
from zhichan.api.problems import Conflict, Forbidden, NotFound
from zhichan.auth import User
from zhichan.clock import utcnow
from zhichan.db import insert_at_commit
from zhichan.events.envelope import Envelope
from zhichan.ids import new_id
from zhichan.regions import registry

DELIVERY_COLUMNS = (
    "id",
    "subscription_id",
    "event_id",
    "event_type",
    "region",
    "body",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
)
# A redelivered event (a consumer that restarted before committing its position) makes no second delivery.
DELIVERY_ONCE = "ON CONFLICT (subscription_id, event_id) DO NOTHING"


# ---------------------------------------------------------------- subscriptions


def public(subscription: WebhookSubscription) -> WebhookPublic:
    return WebhookPublic.model_validate(subscription, from_attributes=True)


def _regions_for(user: User, asked: list[str]) -> list[str]:
    """The regions a subscription of ``user`` follows: those asked, each within the user's; none
    asked, the user's own (an admin's: every region, kept as none)."""
    for code in asked:
        if not user.sees(code):
            raise Forbidden(f"region {code} is not one of yours")
    if asked or user.is_admin:
        return list(dict.fromkeys(asked))
    if not user.regions:  # kept as none, that would be every region's events
        raise Forbidden("your token names no region: a subscription follows the regions of its caller")
    return list(user.regions)


async def create(session: AsyncSession, body: WebhookCreate, user: User) -> WebhookCreated:
    secret = signing.new_secret()
    subscription = WebhookSubscription.new(
        id=new_id(),
        owner=user.sub,
        url=body.url,
        description=body.description,
        event_types=body.event_types,
        regions=_regions_for(user, body.regions),
        secrets=[{"secret": secret, "expires_at": None}],
    )
    session.add(subscription)
    await session.commit()
    return WebhookCreated(**public(subscription).model_dump(), secret=secret)


async def listed(session: AsyncSession, user: User) -> list[WebhookPublic]:
    query = select(WebhookSubscription).order_by(WebhookSubscription.created_at, WebhookSubscription.id)
    if not user.is_admin:
        query = query.where(WebhookSubscription.owner == user.sub)
    return [public(s) for s in (await session.execute(query)).scalars()]


async def owned(
    session: AsyncSession, subscription_id: str, user: User, *, for_update: bool = False
) -> WebhookSubscription:
    """A subscription of the caller's (any, for an admin); anyone else's does not exist for them."""
    query = select(WebhookSubscription).where(WebhookSubscription.id == subscription_id)
    if for_update:
        query = query.with_for_update()
    subscription = (await session.execute(query)).scalar_one_or_none()
    if subscription is None or not (user.is_admin or subscription.owner == user.sub):
        raise NotFound(f"no webhook {subscription_id}")
    return subscription


async def update(session: AsyncSession, subscription_id: str, body: WebhookUpdate, user: User) -> WebhookPublic:
    subscription = await owned(session, subscription_id, user, for_update=True)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("regions") is not None:
        changes["regions"] = _regions_for(user, changes["regions"])
    for name, value in changes.items():
        if value is not None:
            setattr(subscription, name, value)
    if changes.get("active"):
        subscription.disabled_reason = None
    subscription.touch()
    await session.commit()
    return public(subscription)


async def delete(session: AsyncSession, subscription_id: str, user: User) -> None:
    """The subscription and its delivery log; deliveries not yet sent are not sent."""
    subscription = await owned(session, subscription_id, user, for_update=True)
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.subscription_id == subscription.id)
    for model, column in ((WebhookAttempt, WebhookAttempt.delivery_id), (WebhookDelivery, WebhookDelivery.id)):
        for row in (await session.execute(select(model).where(column.in_(deliveries)))).scalars():
            await session.delete(row)
    await session.delete(subscription)
    await session.commit()


def secrets_in_use(subscription: WebhookSubscription, now: datetime) -> list[str]:
    """The secrets that sign a delivery now: the newest, and a rotated one until it expires."""
    return [
        s["secret"]
        for s in subscription.secrets
        if s["expires_at"] is None or datetime.fromisoformat(s["expires_at"]) > now
    ]


async def rotate_secret(session: AsyncSession, subscription_id: str, user: User, grace: timedelta) -> SecretRotated:
    """A new secret; the current one keeps signing for ``grace`` so that the receiver can switch
    without refusing a delivery. Secrets expired by now are dropped."""
    subscription = await owned(session, subscription_id, user, for_update=True)
    now = utcnow()
    secret = signing.new_secret()
    until = now + grace if grace > timedelta(0) else None
    kept = []
    if until is not None:  # each secret still in use keeps signing until its own expiry or the grace's end
        for entry in subscription.secrets:
            if entry["secret"] in secrets_in_use(subscription, now):
                expires = min(datetime.fromisoformat(entry["expires_at"]), until) if entry["expires_at"] else until
                kept.append({"secret": entry["secret"], "expires_at": expires.isoformat()})
    subscription.secrets = [{"secret": secret, "expires_at": None}, *kept]
    subscription.touch()
    await session.commit()
    return SecretRotated(secret=secret, previous_valid_until=until)


# ---------------------------------------------------------------- deliveries


def type_matches(patterns: list[str], event_type: str) -> bool:
    return not patterns or any(
        event_type == p or (p.endswith(".*") and event_type.startswith(p[:-1])) for p in patterns
    )


def region_matches(regions: list[str], region: str) -> bool:
    found = registry()
    return not regions or any(found.contains(code, region) for code in regions)


async def enqueue(session: AsyncSession, envelopes: list[Envelope]) -> int:
    """The deliveries of the events just applied, in their transaction; answers how many."""
    if not envelopes:
        return 0
    query = select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
    subscriptions = (await session.execute(query)).scalars().all()
    if not subscriptions:
        return 0
    now = utcnow()
    rows = [
        (f"msg_{new_id()}", s.id, e.id, e.type, e.region, e.model_dump_json(exclude_none=True), "pending", 0, now, now)
        for e in envelopes
        for s in subscriptions
        if e.time >= s.created_at and type_matches(s.event_types, e.type) and region_matches(s.regions, e.region)
    ]
    insert_at_commit(session, WebhookDelivery.__table__, DELIVERY_COLUMNS, rows, DELIVERY_ONCE, gather="webhook")
    return len(rows)


def delivery_public(delivery: WebhookDelivery, log: list[WebhookAttempt] | None = None) -> DeliveryPublic:
    attempts = [AttemptPublic.model_validate(a, from_attributes=True) for a in log or []]
    return DeliveryPublic.model_validate({**delivery.model_dump(), "log": attempts})


async def deliveries(
    session: AsyncSession, subscription_id: str, user: User, page: PageParams, status: DeliveryStatus | None
) -> tuple[list[DeliveryPublic], str | None]:
    """A subscription's deliveries, the newest first, each with its attempts."""
    subscription = await owned(session, subscription_id, user)
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    rows, cursor = await keyset_page(session, query, page, WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
    logs: dict[str, list[WebhookAttempt]] = {}
    if rows:
        attempts = select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_([d.id for d in rows]))
        for attempt in (
            await session.execute(attempts.order_by(WebhookAttempt.attempted_at, WebhookAttempt.id))
        ).scalars():
            logs.setdefault(attempt.delivery_id, []).append(attempt)
    return [delivery_public(d, logs.get(d.id)) for d in rows], cursor


async def redeliver(session: AsyncSession, subscription_id: str, delivery_id: str, user: User) -> DeliveryPublic:
    """Sends a delivery again now (a dead-lettered one, or a delivered one the receiver lost),
    with a fresh round of retries; its ``webhook-id`` stays, so a receiver that had it drops it."""
    subscription = await owned(session, subscription_id, user)
    query = select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.subscription_id == subscription.id
    )
    delivery = (await session.execute(query.with_for_update())).scalar_one_or_none()
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id} of webhook {subscription_id}")
    if not subscription.active:
        raise Conflict(f"webhook {subscription_id} is disabled ({subscription.disabled_reason}): enable it first")
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    await session.commit()
    return delivery_public(delivery)
