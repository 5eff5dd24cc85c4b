"""The gateway's app: the read model's consumer, the progress API, the proxy, the merged docs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.alerts import contracts as alert_contracts
from gateway.alerts import service as alerts
from gateway.alerts.api import router as alerts_router
from gateway.alerts.scanner import AlertScanner
from gateway.api import ReadModelChanges
from gateway.api import router as progress_router
from gateway.openapi import docs_router
from gateway.projections import apply_events
from gateway.proxy import proxy_router
from gateway.retention import gateway_pruner
from gateway.settings import GatewaySettings
from gateway.viewcache import ViewCache
from gateway.views import ParsedPlans
from gateway.web import web_router
from gateway.webhooks import service as webhooks
from gateway.webhooks.api import router as webhooks_router
from gateway.webhooks.dispatcher import WebhookDispatcher
from zhichan import migrate, region_sync
from zhichan.app import create_base_app
from zhichan.auth import TokenVerifier
from zhichan.db import make_engine, make_session_factory
from zhichan.events.broker import ALL_TOPICS
from zhichan.events.consumer import Apply, EventConsumer
from zhichan.events.envelope import Envelope
from zhichan.events.relay import OutboxRelay
from zhichan.settings import PlatformSettings, platform_settings, process_settings

# Idle connections to the services are let go after 2 s: a service (uvicorn) closes one idle for
# 5 s, and httpx's default, 5 s too, now and then sent a request on a connection the service was
# closing that moment (ReadError: the caller got 503).
PROXY_KEEPALIVE_SECONDS = 2.0


def live_applier(settings: GatewaySettings) -> Apply:
    """The live consumer's work for a fetch, in one transaction: the read model, the alerts the
    events' records call for, and the webhook deliveries the events make. (A rebuild replays the
    read model alone: alerts and deliveries were made when the events first came.)"""

    async def apply(session: AsyncSession, envelopes: list[Envelope]) -> None:
        await apply_events(session, envelopes)
        await alerts.schedule(session, envelopes, settings.alert_due_soon_days)
        await webhooks.enqueue(session, envelopes)

    return apply


def create_app(settings: GatewaySettings | None = None, platform: PlatformSettings | None = None) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        plat = platform or platform_settings()
        proc = settings or process_settings("gateway", base=GatewaySettings)
        url = proc.resolved_database_url(plat)
        if proc.migrate_on_start:
            await asyncio.to_thread(migrate.upgrade, Path(__file__).parent, url)
        engine = make_engine(url)
        relay_holder: dict[str, OutboxRelay] = {}
        # The alerts' events go out through the kernel's outbox, as a service's do.
        session_factory = make_session_factory(engine, on_commit=lambda: relay_holder["relay"].wake())
        relay = relay_holder["relay"] = OutboxRelay(alert_contracts.SERVICE, session_factory, plat)
        changes: ReadModelChanges = app.state.changes
        dispatcher = WebhookDispatcher(session_factory, proc)
        scanner = AlertScanner(session_factory, proc.alert_scan_seconds)
        pruner = gateway_pruner(session_factory, proc)
        app.state.apply = live_applier(proc)

        def applied(count: int) -> None:
            app.state.metrics.events_consumed.labels("all").inc(count)
            changes.applied(count)  # wakes the dashboard's event streams
            dispatcher.wake()  # the deliveries of those events were committed with them
            scanner.wake()  # a record may be overdue already when it arrives

        consumer = EventConsumer(
            plat, ALL_TOPICS, proc.consumer_group, session_factory, app.state.apply, on_applied=applied
        )
        async with session_factory() as session:  # custom regions known before any event arrives
            await region_sync.load_persisted(session)
        app.state.platform = plat
        app.state.settings = proc
        app.state.engine = engine
        app.state.session_factory = session_factory
        app.state.consumer = consumer
        app.state.webhooks = dispatcher
        app.state.alerts = scanner
        app.state.pruner = pruner
        app.state.token_verifier = TokenVerifier(plat)
        app.state.http = httpx.AsyncClient(
            timeout=proc.proxy_timeout_seconds, limits=httpx.Limits(keepalive_expiry=PROXY_KEEPALIVE_SECONDS)
        )
        if proc.relay_enabled:  # "relay" here means: take part in the bus (consume, deliver webhooks)
            await consumer.start()
            dispatcher.start()
            scanner.start()
            pruner.start()  # what the consumer adds, the pruner lets go of in time
            await relay.start()
        try:
            yield
        finally:
            await pruner.stop()
            await consumer.stop()
            await scanner.stop()
            if proc.relay_enabled:
                await relay.stop()
            await dispatcher.stop()
            await app.state.http.aclose()
            await engine.dispose()

    app = create_base_app(
        "gateway",
        # ASCII: generators name the client after it (openapi-python-client: zhichan_client)
        title="Zhichan",
        description="知产 (Zhichan): one entry point to the targets, enforcement, financing and agencies services, "
        "and the progress of every plan computed live from their events.",
        lifespan=lifespan,
        openapi_url=None,
    )
    app.state.consumer = None
    app.state.changes = ReadModelChanges()
    app.state.view_cache = ViewCache()
    app.state.parsed_plans = ParsedPlans()  # this app's read model's plans, parsed once per version
    app.include_router(progress_router)
    app.include_router(webhooks_router)
    app.include_router(alerts_router)
    app.include_router(docs_router(app))
    app.include_router(web_router(app))
    app.include_router(proxy_router())  # last: it catches every other /api path
    return app
