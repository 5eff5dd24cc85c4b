"""The event stream's caps: a caller holds ``GATEWAY_SSE_STREAMS_PER_HOLDER`` streams at a time
(counted by the token's subject, or by address without a token), the process
``GATEWAY_SSE_STREAMS_TOTAL`` in all; one more answers 429 with Retry-After, and a stream that
ends frees its place.

The streams are driven as ASGI calls (httpx's ASGI transport waits for an answer's end, and a
stream has none): each runs until its client disconnects."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import GatewaySettings
from zhichan.settings import process_settings
from zhichan.testing import database_url, platform_for_tests, token, wait_for

PATH = "/api/progress/stream"


@dataclass
class Stream:
    """One client's stream: its answer's start, what came, and the way to hang up."""

    task: asyncio.Task | None = None
    started: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    body: bytearray = field(default_factory=bytearray)
    hang_up: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def status(self) -> int:
        return self.started.result()["status"]

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.started.result()["headers"]}

    async def close(self) -> None:
        self.hang_up.set()
        await asyncio.wait_for(self.task, 5)


async def open_stream(app, *, sub: str | None = None, address: str = "10.0.0.1") -> Stream:
    stream = Stream()
    headers = [(b"accept", b"text/event-stream")]
    if sub is not None:
        headers.append((b"authorization", f"Bearer {token('public', sub=sub)}".encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},  # as uvicorn says
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": (address, 50000),
        "server": ("test", 80),
    }
    requested = False

    async def receive():
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await stream.hang_up.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            stream.started.set_result(message)
        elif message["type"] == "http.response.body":
            stream.body += message.get("body", b"")
            if not message.get("more_body"):
                stream.hang_up.set()  # a refusal is whole at once

    stream.task = asyncio.create_task(app(scope, receive, send))
    await asyncio.wait_for(asyncio.shield(stream.started), 5)
    if stream.status == 200:  # the stream is open once its hello came
        await wait_for(lambda: _said_hello(stream), timeout=5, what="the stream's hello")
    return stream


async def _said_hello(stream: Stream) -> bool:
    return stream.body.startswith(b"event: hello")


def refused(stream: Stream, why: str) -> bool:
    problem = json.loads(stream.body)
    return (
        stream.status == 429
        and stream.headers["content-type"] == "application/problem+json"
        and stream.headers["retry-after"] == "30"
        and problem["type"].endswith("/too-many-streams")
        and why in problem["detail"]
    )


@pytest.fixture
async def gateway(tmp_path):
    async with database_url(tmp_path, "gateway", migrated=True) as url:
        apps = []

        async def start(**overrides):
            settings = process_settings(
                "gateway",
                base=GatewaySettings,
                database_url=url,
                relay_enabled=False,
                migrate_on_start=False,
                **overrides,
            )
            app = create_app(settings=settings, platform=platform_for_tests(tmp_path))
            lifespan = app.router.lifespan_context(app)
            await lifespan.__aenter__()
            apps.append(lifespan)
            return app

        streams: list[Stream] = []

        async def opened(app, **who) -> Stream:
            streams.append(stream := await open_stream(app, **who))
            return stream

        try:
            yield start, opened
        finally:
            for stream in streams:
                await stream.close()
            for lifespan in apps:
                await lifespan.__aexit__(None, None, None)


async def test_a_caller_holds_five_streams_by_default_and_a_sixth_is_refused(gateway):
    start, opened = gateway
    app = await start()
    mine = [await opened(app, sub="alice") for _ in range(5)]
    assert [s.status for s in mine] == [200] * 5
    assert refused(await opened(app, sub="alice"), "at most 5 event streams")
    assert (await opened(app, sub="bob")).status == 200  # another caller's are counted apart
    await mine[0].close()
    assert (await opened(app, sub="alice")).status == 200  # a stream that ended freed its place


async def test_without_a_token_the_address_is_the_caller(gateway):
    start, opened = gateway
    app = await start(sse_streams_per_holder=2)
    assert [(await opened(app, address="10.0.0.7")).status for _ in range(2)] == [200, 200]
    assert refused(await opened(app, address="10.0.0.7"), "at most 2 event streams")
    assert (await opened(app, address="10.0.0.8")).status == 200
    assert (await opened(app, address="10.0.0.7", sub="carol")).status == 200  # a token counts by its subject


async def test_the_gateway_holds_a_bounded_number_in_all(gateway):
    start, opened = gateway
    app = await start(sse_streams_per_holder=2, sse_streams_total=3)
    first = await opened(app, sub="a")
    assert [(await opened(app, sub=who)).status for who in ("a", "b")] == [200, 200]
    assert refused(await opened(app, sub="c"), "holds 3 event streams")
    await first.close()
    assert (await opened(app, sub="c")).status == 200
    assert app.state.stream_slots.open == 3


async def test_an_invalid_token_is_refused_before_any_stream_is_counted(gateway):
    start, _opened = gateway
    app = await start()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        resp = await asyncio.wait_for(client.get(PATH, headers={"Authorization": "Bearer not-a-token"}), 5)
    assert resp.status_code == 401
    assert getattr(app.state, "stream_slots", None) is None or app.state.stream_slots.open == 0
