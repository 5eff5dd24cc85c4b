"""What every targets test suite stands on: one migrated database per session, copied per app,
and the app run with its lifespan over httpx."""

import asyncio
import contextlib
import functools
import os
import shutil
import uuid
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from services.targets.app import create_app
from zhichan import migrate, regions
from zhichan.settings import process_settings
from zhichan.testing import POSTGRES_ENV, platform_for_tests

SERVICE_DIR = Path(__file__).parents[1]


def pytest_collection_modifyitems(items):
    """The targets tests share one app (building an app's routes costs more than most tests), so
    they run in the session's event loop."""
    for item in items:
        if pytest_asyncio.is_async_test(item) and SERVICE_DIR in item.path.parents:
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
            platform=platform_for_tests(tmp_path, bootstrap),
        )
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield app, client


@pytest.fixture(scope="session", autouse=True)
def _standard_regions_read_once():
    """The root conftest gives each test a fresh region registry; the GB/T 2260 table it is built
    from never changes, so it is read once here instead of for every test."""
    original = regions._standard_regions
    regions._standard_regions = functools.cache(original)
    yield
    regions._standard_regions = original
