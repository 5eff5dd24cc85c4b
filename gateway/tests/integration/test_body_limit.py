"""The gateway's own body limit (``GATEWAY_MAX_BODY_BYTES``): a body it would forward is refused
with 413 before any of it is read, and never reaches a service."""

from __future__ import annotations

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import GatewaySettings
from zhichan.settings import DEFAULT_MAX_BODY_BYTES, process_settings
from zhichan.testing import auth, database_url, platform_for_tests

MB = 1024 * 1024
YAML = {"Content-Type": "application/yaml"}


async def chunks(total: int, chunk: int = 256 * 1024):
    for start in range(0, total, chunk):
        yield b"#" * min(chunk, total - start)


@pytest.fixture
async def gateway(tmp_path):
    """start(**settings) → (client, requests the services received)."""
    received: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(201, json={"received": len(request.content)})

    async with database_url(tmp_path, "gateway", migrated=True) as url:
        running = []

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
            running.append(lifespan)
            await app.state.http.aclose()
            app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
            return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test"), received

        try:
            yield start
        finally:
            for lifespan in running:
                await lifespan.__aexit__(None, None, None)


def refused(resp: httpx.Response, limit: int) -> bool:
    return (
        resp.status_code == 413
        and resp.headers["content-type"] == "application/problem+json"
        and resp.json()["max_bytes"] == limit
    )


async def test_a_body_over_the_gateways_limit_is_never_forwarded(gateway):
    client, received = await gateway()
    officer = {**auth("officer", ["320311"]), **YAML}
    assert refused(
        await client.post("/api/plans/import", content=b"#" * (6 * MB), headers=officer), DEFAULT_MAX_BODY_BYTES
    )
    assert refused(
        await client.post("/api/plans/import", content=chunks(6 * MB), headers=officer), DEFAULT_MAX_BODY_BYTES
    )
    assert received == []
    passed = await client.post("/api/plans/import", content=chunks(5 * MB), headers=officer)
    assert passed.status_code == 201 and passed.json() == {"received": 5 * MB}


async def test_the_gateways_setting_sets_its_limit(gateway):
    client, received = await gateway(max_body_bytes=4096)
    assert refused(await client.post("/api/cases", content=b"{" + b" " * 4095 + b"}", headers=auth()), 4096)
    assert refused(await client.post("/api/cases", content=chunks(4097, chunk=1000), headers=auth()), 4096)
    assert received == []
    assert (await client.post("/api/cases", content=b"#" * 4096, headers=auth())).status_code == 201
