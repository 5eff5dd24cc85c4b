"""Helpers for the test suites: tokens, apps over httpx, databases, waiting with a deadline."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib.util
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from zhichan.auth import issue_token
from zhichan.settings import DEV_JWT_SECRET, PlatformSettings, process_settings

POSTGRES_ENV = "ZHICHAN_TEST_POSTGRES"


def token(
    role: str = "officer", regions: list[str] | None = None, department: str | None = None, sub: str | None = None
) -> str:
    return issue_token(
        DEV_JWT_SECRET, sub=sub or f"test-{role}", roles=[role], regions=regions or [], department=department
    )


def auth(role: str = "officer", regions: list[str] | None = None, **kwargs) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, regions, **kwargs)}"}


def platform_for_tests(tmp_path: Path, bootstrap: str = "127.0.0.1:1") -> PlatformSettings:
    return PlatformSettings(dev_mode=True, kafka_bootstrap=bootstrap, var_dir=tmp_path, relay_poll_seconds=0.2)


@contextlib.asynccontextmanager
async def database_url(tmp_path: Path, name: str, *, migrated: bool = False) -> AsyncIterator[str]:
    """A fresh database: SQLite in tmp_path, or a new PostgreSQL database when
    ZHICHAN_TEST_POSTGRES holds a server URL (postgresql+asyncpg://user@host:port).

    ``migrated`` gives a copy of a database migrated once per test run for the process ``name``
    (a file copy, or CREATE DATABASE … TEMPLATE): far quicker than running every migration per test."""
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        path = tmp_path / f"{name}.db"
        if migrated:
            shutil.copyfile(await _migrated_sqlite(name), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    dbname = f"zt_{name}_{uuid.uuid4().hex[:10]}"
    template = await _migrated_template(server, name) if migrated else None
    await _on_postgres(server, f'CREATE DATABASE "{dbname}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield f"{server.rstrip('/')}/{dbname}"
    finally:
        await _on_postgres(server, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


_templates: dict[str, str] = {}


def _package_dir(name: str) -> Path:
    module = "gateway" if name == "gateway" else f"services.{name}"
    return Path(importlib.util.find_spec(module).origin).parent


async def _migrated_sqlite(name: str) -> Path:
    if name not in _templates:
        from zhichan import migrate

        path = Path(tempfile.mkdtemp(prefix=f"zt-{name}-")) / f"{name}.db"
        await asyncio.to_thread(migrate.upgrade, _package_dir(name), f"sqlite+aiosqlite:///{path}")
        _templates[name] = str(path)
        atexit.register(shutil.rmtree, path.parent, True)
    return Path(_templates[name])


async def _migrated_template(server: str, name: str) -> str:
    if name not in _templates:
        from zhichan import migrate

        template = f"zt_template_{name}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        await _on_postgres(server, f'CREATE DATABASE "{template}"')
        await asyncio.to_thread(migrate.upgrade, _package_dir(name), f"{server.rstrip('/')}/{template}")
        _templates[name] = template
        atexit.register(_drop_template, server, template)
    return _templates[name]


def _drop_template(server: str, template: str) -> None:
    asyncio.run(_on_postgres(server, f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))


async def _on_postgres(server: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server.replace("postgresql+asyncpg://", "postgresql://").rstrip("/") + "/postgres")
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def running_app(
    create_app: Callable[..., Any], name: str, tmp_path: Path, *, bootstrap: str = "127.0.0.1:1", relay: bool = False
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """The app with its lifespan run, on a fresh database, driven through httpx's ASGI transport."""
    async with database_url(tmp_path, name, migrated=True) as url:
        app = create_app(
            settings=process_settings(name, database_url=url, relay_enabled=relay, migrate_on_start=False),
            platform=platform_for_tests(tmp_path, bootstrap),
        )
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield app, client


def record_driver_calls(monkeypatch) -> list[tuple]:
    """From now on, the arguments of every call into aiosqlite's thread, in order: each call
    wakes that thread and the event loop, which is what zhichan.db saves calls for."""
    import aiosqlite

    calls: list[tuple] = []
    execute = aiosqlite.Connection._execute

    async def recorded(self, fn, *args, **kwargs):
        calls.append(args)
        return await execute(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", recorded)
    return calls


async def wait_for(
    check: Callable[[], Awaitable[Any]], *, timeout: float = 10.0, interval: float = 0.05, what: str = "condition"
) -> Any:
    """Polls ``check`` until it returns something truthy; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, OSError):
            last = await check()
            if last:
                return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
