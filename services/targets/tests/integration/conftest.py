import asyncio
import contextlib
import json
import os
import shutil
import uuid
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import yaml
from sqlalchemy import func, select, text

from services.targets.app import create_app
from services.targets.models import Indicator, Plan, ProgressReport, Task
from services.targets.tests.unit.test_domain import plan_file
from zhichan import migrate
from zhichan.events.outbox import OutboxEvent
from zhichan.region_sync import CustomRegion
from zhichan.settings import process_settings
from zhichan.testing import POSTGRES_ENV, auth, test_platform

DEMO_PLANS = Path(__file__).parents[4] / "demo" / "plans"
YAML = {"Content-Type": "application/yaml"}
PLAN = "zj-2024"  # the key of plan_file()


SERVICE_DIR = Path(__file__).parents[2]
# Emptied before each test, children before parents.
TABLES = ("progress_report", "indicator", "task", "plan", "custom_region", "outbox", "idempotency_key")


def pytest_collection_modifyitems(items):
    """The targets tests share one app (building an app's routes costs more than most tests), so
    they run in the session's event loop."""
    for item in items:
        if pytest_asyncio.is_async_test(item) and SERVICE_DIR in Path(item.fspath).parents:
            item.add_marker(pytest.mark.asyncio(loop_scope="session"), append=False)


async def _postgres(sql: str) -> None:
    import asyncpg

    plain = os.environ[POSTGRES_ENV].replace("postgresql+asyncpg://", "postgresql://").rstrip("/")
    conn = await asyncpg.connect(plain + "/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """One database migrated to head for the whole session; each app gets a copy of it."""
    server = os.environ.get(POSTGRES_ENV)
    if server:
        name = f"zt_targets_template_{uuid.uuid4().hex[:8]}"
        asyncio.run(_postgres(f'CREATE DATABASE "{name}"'))
        migrate.upgrade(SERVICE_DIR, f"{server.rstrip('/')}/{name}")
        yield name
        asyncio.run(_postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        return
    path = tmp_path_factory.mktemp("template") / "targets.db"
    migrate.upgrade(SERVICE_DIR, f"sqlite+aiosqlite:///{path}")
    yield path


@contextlib.asynccontextmanager
async def database_copy(template, tmp_path: Path):
    server = os.environ.get(POSTGRES_ENV)
    if server:
        name = f"zt_targets_{uuid.uuid4().hex[:10]}"
        await _postgres(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        try:
            yield f"{server.rstrip('/')}/{name}"
        finally:
            await _postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    path = tmp_path / "targets.db"
    shutil.copy(template, path)
    yield f"sqlite+aiosqlite:///{path}"


@contextlib.asynccontextmanager
async def service(template, tmp_path: Path, *, bootstrap: str = "127.0.0.1:1", relay: bool = False):
    """The targets app with its lifespan run on a copy of the migrated database, over httpx."""
    async with database_copy(template, tmp_path) as url:
        app = create_app(
            settings=process_settings("targets", database_url=url, relay_enabled=relay, migrate_on_start=False),
            platform=test_platform(tmp_path, bootstrap),
        )
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield app, client


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def shared_app(migrated_template, tmp_path_factory):
    async with service(migrated_template, tmp_path_factory.mktemp("targets")) as pair:
        yield pair


@pytest_asyncio.fixture(loop_scope="session")
async def app_client(shared_app):
    """The shared app, its database emptied: each test starts from nothing."""
    app, _client = shared_app
    async with app.state.session_factory() as session:
        for table in TABLES:
            await session.execute(text(f"DELETE FROM {table}"))
        await session.commit()
    return shared_app


@pytest.fixture
def client(app_client):
    return app_client[1]


@pytest.fixture
def officer():
    """An officer of 镇江市: the zone of plan_file() lies in it."""
    return auth("officer", ["321100"])


class _PlainDumper(yaml.SafeDumper):
    """Writes a shared object twice rather than as an alias: plan files take no aliases."""

    def ignore_aliases(self, data) -> bool:
        return True


def as_yaml(document: dict) -> bytes:
    return yaml.dump(document, Dumper=_PlainDumper, allow_unicode=True, sort_keys=False).encode()


async def import_plan(client, headers, document: dict | None = None, **changes):
    body = as_yaml(document or plan_file(**changes))
    return await client.post("/plans/import", content=body, headers={**headers, **YAML})


async def imported(client, headers, document: dict | None = None, **changes) -> dict:
    resp = await import_plan(client, headers, document, **changes)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


async def outbox(app) -> list[dict]:
    """The events written so far: their envelopes, in order."""
    async with app.state.session_factory() as session:
        rows = (await session.execute(select(OutboxEvent).order_by(OutboxEvent.id))).scalars()
        return [json.loads(r.envelope) for r in rows]


async def event_types(app) -> list[str]:
    return [e["type"] for e in await outbox(app)]


async def row_counts(app) -> dict[str, int]:
    async with app.state.session_factory() as session:
        counts = {}
        for model in (Plan, Indicator, Task, ProgressReport, CustomRegion, OutboxEvent):
            counts[model.__tablename__] = (await session.execute(select(func.count()).select_from(model))).scalar_one()
        return counts
