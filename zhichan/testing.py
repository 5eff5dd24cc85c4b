"""Helpers for the test suites: tokens, apps over httpx, databases, waiting with a deadline."""

from __future__ import annotations

import asyncio
import contextlib
import os
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
async def database_url(tmp_path: Path, name: str) -> AsyncIterator[str]:
    """A fresh, empty database: SQLite in tmp_path, or a new PostgreSQL database when
    ZHICHAN_TEST_POSTGRES holds a server URL (postgresql+asyncpg://user@host:port)."""
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        yield f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"
        return
    import asyncpg

    dbname = f"zt_{name}_{uuid.uuid4().hex[:10]}"
    plain = server.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(plain.rstrip("/") + "/postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{dbname}"')
    finally:
        await conn.close()
    try:
        yield f"{server.rstrip('/')}/{dbname}"
    finally:
        conn = await asyncpg.connect(plain.rstrip("/") + "/postgres")
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        finally:
            await conn.close()


@contextlib.asynccontextmanager
async def running_app(
    create_app: Callable[..., Any], name: str, tmp_path: Path, *, bootstrap: str = "127.0.0.1:1", relay: bool = False
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """The app with its lifespan run, on a fresh database, driven through httpx's ASGI transport."""
    async with database_url(tmp_path, name) as url:
        app = create_app(
            settings=process_settings(name, database_url=url, relay_enabled=relay),
            platform=platform_for_tests(tmp_path, bootstrap),
        )
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield app, client


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
