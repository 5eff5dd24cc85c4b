"""The request body limit every process has (zhichan.api.limits): a body over
``<PROCESS>_MAX_BODY_BYTES`` answers 413 before the route runs, and before the idempotency
middleware reads it, whether its size is declared (Content-Length) or only counted (chunked)."""

import json
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, Request
from sqlmodel import SQLModel

from zhichan.api.idempotency import IdempotencyRecord
from zhichan.app import create_service_app
from zhichan.settings import DEFAULT_MAX_BODY_BYTES, process_settings
from zhichan.testing import auth, database_url, platform_for_tests

MB = 1024 * 1024
JSON = {"Content-Type": "application/json"}


def json_body(size: int) -> bytes:
    """A JSON document of exactly ``size`` bytes."""
    return b'{"pad":"' + b"x" * (size - 10) + b'"}'


async def chunks(total: int, chunk: int = 256 * 1024):
    """``total`` bytes of a JSON document, sent without Content-Length (chunked)."""
    body = json_body(total)
    for start in range(0, total, chunk):
        yield body[start : start + chunk]


@pytest.fixture
def calls() -> list[int]:
    return []


def echo_router(calls: list[int]) -> APIRouter:
    router = APIRouter()

    @router.post("/echo", status_code=201)
    async def echo(request: Request) -> dict[str, int]:
        body = await request.body()
        calls.append(len(body))
        return {"received": len(body)}

    @router.post("/parsed", status_code=201)
    async def parsed(document: dict) -> dict[str, int]:  # FastAPI reads and parses the body itself
        calls.append(len(document["pad"]))
        return {"pad": len(document["pad"])}

    return router


async def create_idempotency_table(app) -> None:
    async with app.state.engine.begin() as conn:
        await conn.run_sync(lambda sync: SQLModel.metadata.create_all(sync, tables=[IdempotencyRecord.__table__]))


def service_app(tmp_path: Path, url: str, calls: list[int], **settings):
    return create_service_app(
        "limits",
        package_dir=tmp_path,
        title="limits",
        description="a service with one route",
        routers=[echo_router(calls)],
        settings=process_settings("limits", database_url=url, relay_enabled=False, migrate_on_start=False, **settings),
        platform=platform_for_tests(tmp_path),
        on_startup=[create_idempotency_table],
        replicate_regions=False,
    )


@pytest.fixture
async def running(tmp_path, calls):
    async with database_url(tmp_path, "limits") as url:

        async def start(**settings):
            app = service_app(tmp_path, url, calls, **settings)
            lifespan = app.router.lifespan_context(app)
            await lifespan.__aenter__()
            started.append(lifespan)
            return app, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")

        started = []
        try:
            yield start
        finally:
            for lifespan in started:
                await lifespan.__aexit__(None, None, None)


def is_413(resp: httpx.Response, limit: int = DEFAULT_MAX_BODY_BYTES) -> bool:
    return (
        resp.status_code == 413
        and resp.headers["content-type"] == "application/problem+json"
        and resp.json()["type"].endswith("/payload-too-large")
        and resp.json()["max_bytes"] == limit
        and "x-request-id" in resp.headers
    )


@pytest.mark.parametrize("idempotent", [False, True])
async def test_a_6_mb_json_body_is_refused_before_the_route_runs(running, calls, idempotent):
    app, client = await running()
    headers = {**JSON, **auth("officer"), **({"Idempotency-Key": "k-6mb"} if idempotent else {})}
    for path in ("/echo", "/parsed"):
        assert is_413(await client.post(path, content=json_body(6 * MB), headers=headers))
    assert calls == []


async def test_a_declared_length_over_the_limit_is_answered_without_reading_the_body(running, calls):
    """Called as ASGI with a body that is never sent: a receive would be the idempotency
    middleware (or anyone) starting to read it."""
    app, _ = await running()
    received: list[dict] = []
    sent: list[dict] = []

    async def receive():
        received.append({})
        raise AssertionError("the body was read")

    async def send(message):
        sent.append(message)

    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(6 * MB).encode()),
        (b"idempotency-key", b"never-read"),
        (b"authorization", auth("officer")["Authorization"].encode()),
    ]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/echo",
        "raw_path": b"/echo",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("test", 80),
        "app": app,
    }
    await app(scope, receive, send)
    assert received == [] and calls == []
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["detail"] == f"a request body is at most {DEFAULT_MAX_BODY_BYTES} bytes"


@pytest.mark.parametrize("idempotent", [False, True])
async def test_a_chunked_body_over_the_limit_is_refused_as_it_streams_in(running, calls, idempotent):
    app, client = await running()
    headers = {**JSON, **auth("officer"), **({"Idempotency-Key": "k-chunked"} if idempotent else {})}
    for path in ("/echo", "/parsed"):
        resp = await client.post(path, content=chunks(6 * MB), headers=headers)
        assert "content-length" not in resp.request.headers
        assert is_413(resp)
    assert calls == []


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_body_under_the_limit_passes(running, calls, streamed):
    """A plan file of 5 MiB fits (the targets service's own limit for a plan)."""
    app, client = await running()
    size = 5 * MB
    content = chunks(size) if streamed else json_body(size)
    first = await client.post("/echo", content=content, headers={**JSON, **auth("officer"), "Idempotency-Key": "k"})
    assert first.status_code == 201 and first.json() == {"received": size}
    again = await client.post(
        "/echo", content=json_body(size), headers={**JSON, **auth("officer"), "Idempotency-Key": "k"}
    )
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert calls == [size]


async def test_the_setting_sets_the_limit(running, calls):
    app, client = await running(max_body_bytes=1000)
    assert is_413(await client.post("/echo", content=json_body(1001), headers=JSON), limit=1000)
    assert is_413(await client.post("/echo", content=chunks(1001, chunk=100), headers=JSON), limit=1000)
    assert (await client.post("/echo", content=json_body(1000), headers=JSON)).status_code == 201
    assert (await client.post("/echo", content=chunks(1000, chunk=100), headers=JSON)).status_code == 201
    assert calls == [1000, 1000]


def test_the_setting_is_read_per_process(monkeypatch):
    monkeypatch.setenv("TARGETS_MAX_BODY_BYTES", "2048")
    assert process_settings("targets").max_body_bytes == 2048
    assert process_settings("gateway").max_body_bytes == DEFAULT_MAX_BODY_BYTES
