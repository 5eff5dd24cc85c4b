"""One entry point: ``/api/<resource>…`` is forwarded to the service that owns the resource.

Only to a resource: a path whose segments, percent-decoded, are empty, ``.`` or ``..``, or hold
a slash, is refused (404) rather than forwarded, since the service (or a URL library on the way)
would read it as another path — ``/api/cases/%2e%2e/metrics`` was the service's ``/metrics``.
What a client says in ``Forwarded``/``X-Forwarded-*`` is dropped; the gateway says who the
client is, and the services trust that from the gateway only (``<PROCESS>_FORWARDED_ALLOW_IPS``).
"""

from __future__ import annotations

import logging
from urllib.parse import quote, unquote

import httpx
from fastapi import APIRouter, Request
from fastapi.routing import iter_route_contexts
from starlette.responses import Response

from zhichan import SERVICES
from zhichan.api.problems import NotFound, ProblemError, allowed_methods
from zhichan.observability import request_id_var, traceparent_var

log = logging.getLogger("zhichan.gateway.proxy")

# First path segment under /api → the service that owns it.
RESOURCE_OWNERS: dict[str, str] = {
    "agencies": "agencies",
    "practitioners": "agencies",
    "complaints": "agencies",
    "inspections": "agencies",
    "annual-reports": "agencies",
    "evaluations": "agencies",
    "plans": "targets",
    "regions": "targets",
    "statistics": "targets",
    "cases": "enforcement",
    "campaigns": "enforcement",
    "watchlist": "enforcement",
    "pledges": "financing",
    "transactions": "financing",
    "insurance-policies": "financing",
    "matchmaking-events": "financing",
    "financing": "financing",
}
# Public disclosures live under /api/disclosure/<resource> with their own owners.
DISCLOSURE_OWNERS: dict[str, str] = {"cases": "enforcement", "inspections": "agencies", "credit": "agencies"}
# Each service's own documents, reachable as /api/meta/<service>/<name>.
SERVICE_DOCUMENTS: dict[str, dict[str, str]] = {
    service: {"enums": "meta/enums", "asyncapi.json": "asyncapi.json"} for service in SERVICES
}

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "host",
    "content-length",
    "content-encoding",
    "proxy-authorization",
    "proxy-authenticate",
}


# Headers a client must not set for the service: who the client is, as proxies tell it. The
# gateway sets its own X-Forwarded-For/-Proto/-Host from the connection.
FORWARDING_HEADERS = {"forwarded", "x-real-ip", "x-client-ip", "true-client-ip"}
# Characters a path segment may hold as they are (RFC 3986 pchar less "%"): the rest is encoded.
SEGMENT_SAFE = "!$&'()*+,;=:@-._~"


# Every method goes to the service, which answers 405 with the path's Allow where it has no route.
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]


class ServiceUnavailable(ProblemError):
    status, title, slug = 503, "Service unavailable", "service-unavailable"


class MethodNotAllowed(ProblemError):
    status, title, slug = 405, "Method Not Allowed", "http-405"


def target_of(path: str) -> tuple[str, str] | None:
    """(service, path on that service) for a path under /api, or None."""
    parts = path.strip("/").split("/")
    if not parts or not parts[0]:
        return None
    if parts[0] == "meta" and len(parts) == 3 and parts[1] in SERVICE_DOCUMENTS:
        # /api/meta/<service>/enums and /api/meta/<service>/asyncapi.json
        document = SERVICE_DOCUMENTS[parts[1]].get(parts[2])
        return (parts[1], document) if document else None
    owner = owner_of(parts)
    return (owner, path) if owner else None


def owner_of(parts: list[str]) -> str | None:
    if parts[0] == "disclosure":
        return DISCLOSURE_OWNERS.get(parts[1]) if len(parts) > 1 else None
    return RESOURCE_OWNERS.get(parts[0])


def resource_path(raw_path: bytes) -> str | None:
    """The path under ``/api/`` of a request whose path as sent is ``raw_path``, each segment
    percent-encoded afresh; None when the path names no resource: a segment that is empty, ``.``
    or ``..`` once decoded (``%2e%2e``), or that decodes to a slash or backslash (``%2f``), which
    the service would route as two segments."""
    try:
        text = raw_path.decode()
    except UnicodeDecodeError:
        return None
    if not text.startswith("/api/"):
        return None
    segments = []
    for raw in text.removeprefix("/api/").split("/"):
        try:
            segment = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            return None
        if segment in ("", ".", "..") or "/" in segment or "\\" in segment:
            return None
        segments.append(quote(segment, safe=SEGMENT_SAFE))
    return "/".join(segments)


def forwarded_headers(request: Request) -> dict[str, str]:
    """The request's headers for the service: hop-by-hop ones and whatever the client said about
    forwarding dropped, and the gateway's own word on who the client is — the peer of this
    connection (or, when the gateway itself is behind a proxy it trusts, the client that proxy
    named), the scheme and the host it asked for."""
    headers = {
        k: v
        for k, v in request.headers.items()
        if k.lower() not in HOP_BY_HOP
        and k.lower() not in FORWARDING_HEADERS
        and not k.lower().startswith("x-forwarded-")
    }
    if request.client is not None:
        headers["x-forwarded-for"] = request.client.host
    headers["x-forwarded-proto"] = request.url.scheme
    if host := request.headers.get("host"):
        headers["x-forwarded-host"] = host
    if rid := request_id_var.get():
        headers["x-request-id"] = rid
    if tp := traceparent_var.get():
        headers["traceparent"] = tp
    return headers


def _rewrite_location(value: str) -> str:
    return "/api" + value if value.startswith("/") and not value.startswith("/api/") else value


async def forward(request: Request, path: str) -> Response:
    # The path as the client sent it, not as decoded for routing: "%2f" and "/" differ here.
    raw_path = request.scope.get("raw_path") or quote(request.scope["path"]).encode()
    encoded = resource_path(raw_path)
    target = target_of(encoded) if encoded is not None else None
    if target is None:
        # A path the gateway answers itself (/api/progress/…) with another method: 405, as a service's is.
        proxy = request.scope.get("endpoint")
        own = [route for route in iter_route_contexts(request.app.routes) if route.endpoint is not proxy]
        if allowed := allowed_methods(own, request.scope):
            raise MethodNotAllowed(headers={"Allow": ", ".join(allowed)})
        raise NotFound(f"no resource /api/{path}")
    service, path = target
    settings = request.app.state.settings
    client: httpx.AsyncClient = request.app.state.http
    headers = forwarded_headers(request)
    url = f"{settings.service_url(service)}/{path}"
    try:
        upstream = await client.request(
            request.method,
            url,
            params=request.query_params.multi_items(),
            content=await request.body(),
            headers=headers,
        )
    except httpx.HTTPError as exc:
        log.warning("forwarding to %s failed: %s", service, exc)
        raise ServiceUnavailable(f"the {service} service did not answer", service=service) from None
    out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
    if "location" in out_headers:
        out_headers["location"] = _rewrite_location(out_headers["location"])
    return Response(upstream.content, status_code=upstream.status_code, headers=out_headers)


def proxy_router() -> APIRouter:
    router = APIRouter()

    @router.api_route("/api/{path:path}", methods=METHODS, include_in_schema=False)
    async def to_service(path: str, request: Request) -> Response:
        return await forward(request, path)

    return router
