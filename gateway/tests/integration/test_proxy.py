"""The gateway forwards a resource's path to its owner, and nothing else: not a path that climbs
out of the resource, and not what a client claims about forwarding."""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture
async def upstream(app_client):
    """The services, replaced by one that records what reaches it."""
    app, client = app_client
    received: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200, json={"ok": True})

    real = app.state.http
    app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    yield client, received
    await app.state.http.aclose()
    app.state.http = real


@pytest.mark.parametrize(
    "path",
    [
        "/api/cases/%2e%2e/metrics",
        "/api/cases/%2E%2E/metrics",
        "/api/cases/.%2e/readyz",
        "/api/cases/%2e%2e%2fmetrics",
        "/api/cases/..%2fmetrics",
        "/api/pledges/%2e%2e/%2e%2e/metrics",
        "/api/disclosure/cases/%2e%2e/%2e%2e/metrics",
        "/api/meta/enforcement/..%2f..%2fmetrics",
        "/api/cases/01ABC%2fclose",
        "/api/cases//metrics",
        "/api/cases/%2e/stats",
    ],
)
async def test_a_path_climbing_out_of_its_resource_is_refused_and_never_forwarded(upstream, path):
    client, received = upstream
    resp = await client.get(path)
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["type"].endswith("/not-found")
    assert received == []


async def test_a_resource_path_reaches_its_owner_as_sent(upstream):
    client, received = upstream
    assert (await client.get("/api/cases/a%3Fb/timeline", params={"limit": "5"})).status_code == 200
    assert (await client.get("/api/plans/%E4%B8%93%E5%88%A9")).status_code == 200
    assert [(r.url.host, r.url.raw_path) for r in received] == [
        ("127.0.0.1", b"/cases/a%3Fb/timeline?limit=5"),
        ("127.0.0.1", b"/plans/%E4%B8%93%E5%88%A9"),
    ]


async def test_forwarding_headers_are_the_gateway_s_not_the_client_s(upstream):
    client, received = upstream
    resp = await client.get(
        "/api/cases",
        headers={
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-Prefix": "/admin",
            "Forwarded": "for=203.0.113.9;proto=https",
            "X-Real-IP": "203.0.113.9",
            "Authorization": "Bearer abc",
        },
    )
    assert resp.status_code == 200
    (sent,) = received
    # the peer of the connection (httpx's ASGI transport says 127.0.0.1), the scheme and host it used
    assert sent.headers.get_list("x-forwarded-for") == ["127.0.0.1"]
    assert sent.headers.get_list("x-forwarded-proto") == ["http"]
    assert sent.headers.get_list("x-forwarded-host") == ["test"]
    assert "x-forwarded-prefix" not in sent.headers
    assert "forwarded" not in sent.headers
    assert "x-real-ip" not in sent.headers
    assert sent.headers["authorization"] == "Bearer abc"


@pytest.mark.parametrize("resource", ["annual-reports", "evaluations", "statistics"])
async def test_every_resource_the_merged_document_lists_is_forwarded(upstream, resource):
    client, received = upstream
    assert (await client.get(f"/api/{resource}")).status_code == 200
    assert [r.url.path for r in received] == [f"/{resource}"]


async def test_a_method_the_gateway_s_own_path_does_not_take_is_405_with_allow(upstream):
    client, received = upstream
    for method in ("DELETE", "POST", "OPTIONS", "TRACE"):
        resp = await client.request(method, "/api/progress/plans")
        assert resp.status_code == 405, method
        assert resp.headers["allow"] == "GET"
        assert resp.headers["content-type"].startswith("application/problem+json")
    assert received == []
    assert (await client.delete("/api/nothing-here")).status_code == 404


async def test_every_method_reaches_the_service_and_its_405_comes_back_with_allow(app_client):
    app, client = app_client
    received: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        received.append(request.method)
        return httpx.Response(
            405,
            headers={"Allow": "GET, POST", "Content-Type": "application/problem+json"},
            json={"type": "https://zhichan.example/problems/http-405", "title": "Method Not Allowed", "status": 405},
        )

    real = app.state.http
    app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    try:
        for method in ("DELETE", "OPTIONS", "TRACE", "PATCH"):
            resp = await client.request(method, "/api/cases")
            assert resp.status_code == 405 and resp.headers["allow"] == "GET, POST", method
            assert resp.headers["content-type"].startswith("application/problem+json")
    finally:
        await app.state.http.aclose()
        app.state.http = real
    assert received == ["DELETE", "OPTIONS", "TRACE", "PATCH"]
