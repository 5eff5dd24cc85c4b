"""Sends the deliveries due, outside request handling: a task of the gateway process, woken when
events were applied and every ``webhook_poll_seconds`` for retries.

At least once: a delivery is claimed by moving its next attempt past the time an attempt can take
(a lease), so another gateway process leaves it alone, and a process that dies mid-attempt leaves
it to be sent again when the lease ends. Each attempt is logged; a 2xx answer delivers it, a 410
Gone disables the subscription (the Standard Webhooks convention for "stop sending"), anything
else is retried after the next wait of ``webhook_retry_seconds`` until they are used up, when
the delivery is dead-lettered (``failed``) until someone redelivers it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import select

from gateway.settings import GatewaySettings
from gateway.webhooks import signing
from gateway.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from gateway.webhooks.service import secrets_in_use
from zhichan.clock import utcnow
from zhichan.db import SessionFactory
from zhichan.events.envelope import CONTENT_TYPE

log = logging.getLogger("zhichan.gateway.webhooks")
GONE = 410
# Beyond the attempt's own timeout, what a claim leaves for writing its outcome.
LEASE_MARGIN = timedelta(seconds=30)


@dataclass(frozen=True)
class Claimed:
    delivery_id: str
    subscription_id: str
    url: str
    secrets: list[str]
    body: bytes


@dataclass(frozen=True)
class Outcome:
    status: int | None
    error: str | None
    duration_ms: int


class WebhookDispatcher:
    def __init__(self, session_factory: SessionFactory, settings: GatewaySettings) -> None:
        self.session_factory = session_factory
        self.settings = settings
        self.batch = settings.webhook_concurrency * 4
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._client: httpx.AsyncClient | None = None

    def start(self) -> None:
        # Its own client: a receiver is not a service, and a slow one must not hold the proxy's connections.
        self._client = httpx.AsyncClient(timeout=self.settings.webhook_timeout_seconds, follow_redirects=False)
        self._task = asyncio.create_task(self._run(), name="webhook-dispatcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None:
            await self._client.aclose()

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                sent = await self.deliver_due()
            except Exception:  # a database hiccup must not end the deliveries for good
                log.exception("webhook deliveries failed; trying again")
                sent = 0
            if sent < self.batch:  # a full batch: more may be due at once
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.webhook_poll_seconds)
                self._wake.clear()

    async def deliver_due(self) -> int:
        """Sends the deliveries due now (at most a batch); answers how many."""
        claimed = await self._claim()
        if claimed:
            limit = asyncio.Semaphore(self.settings.webhook_concurrency)

            async def one(item: Claimed) -> None:
                async with limit:
                    await self._record(item, await self._send(item))

            await asyncio.gather(*(one(item) for item in claimed))
        return len(claimed)

    async def _claim(self) -> list[Claimed]:
        now = utcnow()
        lease = now + timedelta(seconds=self.settings.webhook_timeout_seconds) + LEASE_MARGIN
        async with self.session_factory() as session:
            query = (
                select(WebhookDelivery, WebhookSubscription)
                .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
                .where(
                    WebhookDelivery.status == "pending",
                    WebhookDelivery.next_attempt_at <= now,
                    WebhookSubscription.active.is_(True),
                )
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(self.batch)
                .with_for_update(of=WebhookDelivery, skip_locked=True)  # PostgreSQL: gateways share the work
            )
            claimed = []
            for delivery, subscription in (await session.execute(query)).all():
                delivery.next_attempt_at = lease
                claimed.append(
                    Claimed(
                        delivery.id,
                        subscription.id,
                        subscription.url,
                        secrets_in_use(subscription, now),
                        delivery.body.encode(),
                    )
                )
            await session.commit()
        return claimed

    async def _send(self, item: Claimed) -> Outcome:
        assert self._client is not None
        headers = {
            "content-type": CONTENT_TYPE,
            "user-agent": "Zhichan-Webhooks/1",
            **signing.headers(item.secrets, item.delivery_id, int(time.time()), item.body),
        }
        started = time.perf_counter()
        try:
            response = await self._client.post(item.url, content=item.body, headers=headers)
            status, error = response.status_code, None if response.is_success else f"answered {response.status_code}"
        except httpx.HTTPError as exc:
            status, error = None, f"{type(exc).__name__}: {exc}"[:500]
        return Outcome(status, error, round((time.perf_counter() - started) * 1000))

    async def _record(self, item: Claimed, outcome: Outcome) -> None:
        now = utcnow()
        waits = self.settings.webhook_retry_seconds
        async with self.session_factory() as session:
            delivery = await session.get(WebhookDelivery, item.delivery_id, with_for_update=True)
            if delivery is None:  # its subscription was deleted meanwhile
                return
            session.add(WebhookAttempt(delivery_id=delivery.id, attempted_at=now, **vars(outcome)))
            delivery.attempts += 1
            delivery.last_status, delivery.last_error = outcome.status, outcome.error
            if outcome.error is None:
                delivery.status, delivery.delivered_at, delivery.next_attempt_at = "succeeded", now, None
            elif outcome.status == GONE:
                delivery.status, delivery.next_attempt_at = "failed", None
                subscription = await session.get(WebhookSubscription, item.subscription_id, with_for_update=True)
                if subscription is not None:
                    subscription.active = False
                    subscription.disabled_reason = f"the receiver answered 410 Gone on {now.date().isoformat()}"
                    subscription.touch()
                log.warning("webhook %s disabled: its receiver answered 410 Gone", item.subscription_id)
            elif delivery.attempts > len(waits):
                delivery.status, delivery.next_attempt_at = "failed", None
                log.warning("webhook delivery %s dead-lettered after %d attempts", delivery.id, delivery.attempts)
            else:
                delivery.next_attempt_at = now + timedelta(seconds=waits[delivery.attempts - 1])
            await session.commit()
