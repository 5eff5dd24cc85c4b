"""Helpers for the test suites: tokens, apps over httpx, databases, waiting with a deadline."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib.util
import io
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from zhichan.auth import issue_token
from zhichan.fields import NAME_SEGMENT_PATTERN
from zhichan.settings import DEV_JWT_ISSUER, DEV_JWT_SECRET, PlatformSettings, process_settings

POSTGRES_ENV = "ZHICHAN_TEST_POSTGRES"


def token(
    role: str = "officer",
    regions: list[str] | None = None,
    department: str | None = None,
    sub: str | None = None,
    *,
    issuer: str = DEV_JWT_ISSUER,
    secret: str = DEV_JWT_SECRET,
) -> str:
    return issue_token(
        secret,
        sub=sub or f"test-{role}",
        roles=[role],
        regions=regions or [],
        department=department,
        issuer=issuer,
    )


def auth(role: str = "officer", regions: list[str] | None = None, **kwargs) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, regions, **kwargs)}"}


class IdentityProvider:
    """An identity provider for tests, as Keycloak is one: RSA keys published as a JWKS on a
    local port (``with provider.serving(): …``, then :attr:`jwks_url`), tokens signed with the
    current key. :meth:`rotate` makes a new key current and publishes both; :meth:`retire`
    stops publishing one."""

    def __init__(self, issuer: str = "https://sso.example/realms/zhichan", audience: str = "zhichan") -> None:
        self.issuer = issuer
        self.audience = audience
        self.keys: dict[str, Any] = {}
        self.published: list[str] = []
        self.requests = 0
        self.hold: threading.Event | None = None  # when set, the JWKS is answered only once it is set
        self.jwks_url = ""
        self.rotate()

    @property
    def kid(self) -> str:
        return self.published[-1]

    def rotate(self) -> str:
        from cryptography.hazmat.primitives.asymmetric import rsa

        kid = f"key-{len(self.keys) + 1}"
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.published.append(kid)
        return kid

    def retire(self, kid: str) -> None:
        self.published.remove(kid)

    def jwks(self) -> dict[str, list[dict]]:
        from jwt.algorithms import RSAAlgorithm

        def public(kid: str) -> dict:
            jwk = json.loads(RSAAlgorithm.to_jwk(self.keys[kid].public_key()))
            return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}

        return {"keys": [public(kid) for kid in self.published]}

    def public_pem(self, kid: str | None = None) -> str:
        from cryptography.hazmat.primitives import serialization

        key = self.keys[kid or self.kid].public_key()
        return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def token(self, kid: str | None = None, *, omit: tuple[str, ...] = (), hours: float = 1, **claims: Any) -> str:
        """A token as the provider issues it (``sub``, ``iss``, ``aud``, ``iat``, ``exp`` and
        ``claims``), signed with ``kid`` (the current key); ``omit`` leaves claims out."""
        import jwt

        now = int(time.time())
        body = {"sub": "user-1", "iss": self.issuer, "aud": self.audience, "iat": now, "exp": now + int(hours * 3600)}
        body.update(claims)
        for name in omit:
            body.pop(name, None)
        kid = kid or self.kid
        return jwt.encode(body, self.keys[kid], algorithm="RS256", headers={"kid": kid})

    def settings(self, tmp_path: Path, **overrides: Any) -> PlatformSettings:
        """Platform settings that verify this provider's tokens by its JWKS URL."""
        values = {"jwt_jwks_url": self.jwks_url, "jwt_issuer": self.issuer, "jwt_audience": self.audience}
        return PlatformSettings(var_dir=tmp_path, **(values | overrides))

    @contextlib.contextmanager
    def serving(self) -> Iterator[str]:
        """Serves the JWKS on a free local port for the block; yields its URL."""
        import http.server

        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.requests += 1
                if provider.hold is not None:
                    provider.hold.wait(10)
                body = json.dumps(provider.jwks()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        self.jwks_url = f"http://127.0.0.1:{server.server_address[1]}/realms/zhichan/protocol/openid-connect/certs"
        try:
            yield self.jwks_url
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


def platform_for_tests(tmp_path: Path, bootstrap: str = "127.0.0.1:1") -> PlatformSettings:
    # No targets service to ask for unknown regions (a stack running on the default ports is not the test's).
    return PlatformSettings(
        dev_mode=True,
        kafka_bootstrap=bootstrap,
        var_dir=tmp_path,
        relay_poll_seconds=0.2,
        targets_url="http://127.0.0.1:1",
    )


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


# Path segments no key is: a NUL, another control character, a byte that is not UTF-8, a
# character that is not ASCII, and one character too many.
BAD_KEYS = ("%00", "a%00b", "%1F", "%FF", "%C3%28", "%E4%B8%AD", "k" * 101)
# A name written as people write it (zhichan.fields.NameSegment) may be Chinese; the rest is refused.
BAD_NAMES = tuple(bad for bad in BAD_KEYS if bad != "%E4%B8%AD")


async def refuses_bad_keys(app: Any, client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    """Sends every bad key as each path parameter of each operation of the app's OpenAPI document;
    returns what did not answer 422 naming that parameter (none: every path parameter is a ``Key``)."""
    wrong = []
    for template, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            parameters = [p for p in operation.get("parameters", []) if p["in"] == "path"]
            names = [p["name"] for p in parameters]
            bad_values = {
                p["name"]: BAD_NAMES if p["schema"].get("pattern") == NAME_SEGMENT_PATTERN else BAD_KEYS
                for p in parameters
            }
            for name, bad in ((n, bad) for n in names for bad in bad_values[n]):
                path = template
                for other in names:
                    path = path.replace("{" + other + "}", bad if other == name else "k")
                answer = await client.request(method.upper(), path, headers=headers)
                errors = answer.json().get("errors") or [] if answer.status_code == 422 else []
                if [name] not in [e.get("loc") for e in errors]:
                    wrong.append(f"{method.upper()} {path}: {answer.status_code}")
    return wrong


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


# ---------------------------------------------------------------- import files


def csv_file(rows: list[dict[str, Any]], *, encoding: str = "utf-8") -> bytes:
    """Rows as the CSV file of an import (:func:`zhichan.tabular.records_csv`; ``utf-8-sig``: as
    Excel saves it)."""
    from zhichan.tabular import records_csv

    return records_csv(rows, encoding=encoding)


def xlsx_file(rows: list[dict[str, Any]], headers: dict[str, str] | None = None) -> bytes:
    """Rows as the workbook of an import, a column headed by ``headers`` (its Chinese header, by
    code) or its code."""
    from openpyxl import Workbook

    columns = list(dict.fromkeys(c for row in rows for c in row))
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([(headers or {}).get(c, c) for c in columns])
    for row in rows:
        sheet.append([row.get(c) for c in columns])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


async def finished_job(client: httpx.AsyncClient, location: str, headers: dict[str, str]) -> dict[str, Any]:
    """The job of a large import at ``location``, once it has succeeded or failed (4 s at most)."""
    for _ in range(200):
        job = (await client.get(location, headers=headers)).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        await asyncio.sleep(0.02)
    raise AssertionError(f"the job at {location} did not end (last: {job!r})")
