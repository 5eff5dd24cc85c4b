"""The frame every service app shares: lifespan (settings, engine, migrations, relay), errors,
health, metrics, logs, the AsyncAPI document of what the service publishes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.middleware import Middleware

from zhichan import migrate
from zhichan.api import openapi
from zhichan.api.idempotency import IdempotencyMiddleware
from zhichan.api.limits import BodyLimitMiddleware
from zhichan.api.problems import install_problem_handlers, problem_response
from zhichan.api.region_lookup import RegionLookup, RegionLookupMiddleware
from zhichan.auth import TokenVerifier
from zhichan.db import make_engine, make_session_factory
from zhichan.events.broker import broker_reachable
from zhichan.events.relay import OutboxRelay
from zhichan.observability import Metrics, RequestContextMiddleware, configure_logging
from zhichan.region_sync import RegionSync
from zhichan.settings import PlatformSettings, ProcessSettings, platform_settings, process_settings

Hook = Callable[[FastAPI], Awaitable[None]]


def create_service_app(
    name: str,
    *,
    package_dir: Path,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    contracts: ModuleType | None = None,
    enum_labels: Mapping[str, Mapping[str, str]] | None = None,
    settings: ProcessSettings | None = None,
    platform: PlatformSettings | None = None,
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    replicate_regions: bool = True,
) -> FastAPI:
    """``enum_labels``: the vocabularies ``/meta/enums`` serves, by name (:mod:`zhichan.vocabulary`).
    ``replicate_regions``: keep the custom regions the targets service defines (every service
    but targets itself, which owns them); the service's migrations must create the tables of
    :mod:`zhichan.region_sync`."""
    region_replica = RegionSync(name) if replicate_regions else None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        plat = platform or platform_settings()
        proc = settings or process_settings(name)
        configure_logging(plat.log_level)
        url = proc.resolved_database_url(plat)
        if proc.migrate_on_start:
            await asyncio.to_thread(migrate.upgrade, package_dir, url)
        engine = make_engine(url)
        relay_holder: dict[str, OutboxRelay] = {}
        session_factory = make_session_factory(engine, on_commit=lambda: relay_holder["relay"].wake())
        relay = OutboxRelay(name, session_factory, plat, on_published=app.state.metrics.events_published.inc)
        relay_holder["relay"] = relay
        app.state.platform = plat
        app.state.settings = proc
        app.state.engine = engine
        app.state.session_factory = session_factory
        app.state.relay = relay
        app.state.token_verifier = TokenVerifier(plat)
        if proc.relay_enabled:
            await relay.start()
        if region_replica is not None:
            app.state.region_lookup = RegionLookup(plat.targets_url)
            await region_replica.start(app, consume=proc.relay_enabled)
        for hook in on_startup:
            await hook(app)
        try:
            yield
        finally:
            for hook in on_shutdown:
                await hook(app)
            if region_replica is not None:
                await region_replica.stop(app)
                await app.state.region_lookup.close()
            await relay.stop()
            await engine.dispose()

    # Inside the body limit: both read the whole body (to hash it; to run a request again once its
    # unknown regions are learnt). The idempotency key sees only the final answer.
    app = create_base_app(
        name,
        title=title,
        description=description,
        lifespan=lifespan,
        middleware=[Middleware(IdempotencyMiddleware), Middleware(RegionLookupMiddleware)],
        idempotent_posts=True,
    )
    if enum_labels is not None:
        labels = {name: dict(vocabulary) for name, vocabulary in enum_labels.items()}

        @app.get("/meta/enums", tags=["meta"], summary="Chinese labels of every enum code")
        async def get_enum_labels() -> dict[str, dict[str, str]]:
            return labels

    if contracts is not None:
        from zhichan.events.asyncapi import asyncapi_document

        document = asyncapi_document(name, contracts)

        @app.get("/asyncapi.json", tags=["meta"], summary="AsyncAPI document of the events this service publishes")
        async def get_asyncapi() -> dict:
            return document

    for router in routers:
        app.include_router(router)
    return app


def create_base_app(
    name: str,
    *,
    title: str,
    description: str,
    lifespan,
    middleware: Sequence[Middleware] = (),
    idempotent_posts: bool = False,
    **fastapi_options,
) -> FastAPI:
    """What every process has, services and gateway alike: problems, request ids and logs,
    metrics, health, the request body limit, an OpenAPI document that says what the process does
    (:mod:`zhichan.api.openapi`; ``idempotent_posts``: its POSTs take an Idempotency-Key). ``/docs``
    is served by the gateway from local assets, not from a CDN.

    The middleware, outermost first: request id and access log (every answer has them), the body
    limit (before anything reads the body), then ``middleware`` in the order given."""
    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=openapi.operation_id,
        **fastapi_options,
    )
    openapi.install(app, idempotent_posts=idempotent_posts)
    app.state.metrics = Metrics(name)
    app.state.service_name = name
    install_problem_handlers(app)
    for inner in reversed(middleware):  # each one added goes outside those added before it
        app.add_middleware(inner.cls, *inner.args, **inner.kwargs)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    app.include_router(health_router(name))
    return app


def health_router(name: str) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Alive")
    async def check_alive() -> dict[str, str]:
        return {"status": "ok", "process": name}

    @router.get(
        "/readyz",
        summary="Database and broker reachable",
        responses={503: {"description": "Not ready: a dependency is unreachable (`checks` says which)"}},
    )
    async def check_ready(request: Request):
        checks: dict[str, str] = {}
        try:
            async with request.app.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            checks["database"] = f"unreachable: {type(exc).__name__}"
        bootstrap = request.app.state.platform.kafka_bootstrap
        checks["broker"] = "ok" if await broker_reachable(bootstrap) else "unreachable"
        consumer = getattr(request.app.state, "consumer", None)
        if consumer is not None:  # a consumer is ready once the group gave it partitions
            checks["consumer"] = "ok" if consumer.assigned else "waiting for partitions"
        if all(v == "ok" for v in checks.values()):
            return JSONResponse({"status": "ready", "process": name, "checks": checks})
        return problem_response(503, "Not ready", "not-ready", "a dependency is unreachable", checks=checks)

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def get_metrics(request: Request):
        return request.app.state.metrics.render()

    return router
