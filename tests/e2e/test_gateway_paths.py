"""No process's own endpoints (``/metrics``, ``/healthz``, ``/readyz``) are reachable through the
gateway's ``/api/…``, however the path is spelled; sent as raw request targets to the real
processes, so no client library tidies the path first."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest

from gateway.proxy import DISCLOSURE_OWNERS, RESOURCE_OWNERS

pytestmark = pytest.mark.e2e

PROMETHEUS = b"# TYPE http_requests_total counter"
PREFIXES = [*RESOURCE_OWNERS, *(f"disclosure/{name}" for name in DISCLOSURE_OWNERS), "meta/agencies"]
CLIMBS = ["../", "%2e%2e/", "%2E%2E/", ".%2e/", "%2e%2e%2f", "..%2f", "..%5c", "./../", "/"]


def get(url: str, target: str) -> tuple[int, bytes]:
    """GET with ``target`` as the request line's path, byte for byte."""
    where = urlsplit(url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    try:
        conn.putrequest("GET", target, skip_accept_encoding=True)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_each_service_serves_its_metrics_on_its_own_port(stack):
    for service in ("targets", "enforcement", "financing", "agencies"):
        status, body = get(stack.url(service), "/metrics")
        assert status == 200 and PROMETHEUS in body, service


@pytest.mark.parametrize("endpoint", ["metrics", "healthz", "readyz"])
def test_no_service_endpoint_is_reachable_through_the_gateway(stack, endpoint):
    targets = [
        f"/api/{prefix}/{climb * depth}{endpoint}" for prefix in PREFIXES for climb in CLIMBS for depth in (1, 2)
    ]
    targets += [f"/api/{climb}{endpoint}" for climb in CLIMBS] + [f"/api/{endpoint}"]
    reached = []
    for target in targets:
        status, body = get(stack.gateway_url, target)
        # 404 from the gateway or from a service reading the name as a record's id; never the endpoint
        if status != 404 or PROMETHEUS in body or b'"process"' in body:
            reached.append((target, status, body[:80]))
    assert reached == []
