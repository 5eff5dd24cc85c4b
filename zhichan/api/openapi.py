"""The OpenAPI document of every process says what the server does, so that a generated client
works without hand edits:

- each operation's ``operationId`` is its route function's name (``list_plans``, ``close_case``),
  unique across the gateway's merged document;
- every error answer is a :class:`~zhichan.api.problems.Problem` under
  ``application/problem+json``, and an operation lists the statuses it can answer, found from
  what the route depends on rather than written out per route (:func:`error_statuses`);
- the bearer scheme is the document's default security; an operation that reads no token says
  ``security: []``, one that takes a token but needs none ``security: [{}, {HTTPBearer: []}]``;
- a service's POSTs take an ``Idempotency-Key`` (:mod:`zhichan.api.idempotency`), and an
  ``If-Match`` the server insists on is a required header (:data:`zhichan.api.etag.IfMatchRequired`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.security.base import SecurityBase
from starlette.routing import BaseRoute

from zhichan.api.problems import PROBLEM_JSON, Problem

BEARER = "HTTPBearer"
BEARER_SCHEME = {"type": "http", "scheme": "bearer", "description": "JWT from `zhichan token` in development"}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
WRITES = {"post", "put", "patch", "delete"}
# A parameter's schema names how the server treats If-Match (zhichan.api.etag); the mark goes.
IF_MATCH_MARK = "x-if-match"
# FastAPI's own validation answer, replaced by the problem every 422 is.
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")

STATUS_DESCRIPTIONS = {
    400: "Bad request: a body that cannot be parsed",
    401: "Not authenticated: no token, or an invalid or expired one (`WWW-Authenticate: Bearer`)",
    403: "Forbidden: a role that may not, or a region outside yours",
    404: "Not found, or not in your regions",
    409: "Conflict: a step not allowed from the current status, a number or key taken, "
    "or an Idempotency-Key still in progress",
    412: "Precondition failed: If-Match names an older version",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    428: "Precondition required: send If-Match",
    429: "Too many requests (`Retry-After` says when to try again)",
    503: "Service unavailable",
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes retrying this POST safe: the same key with the same body gives the first answer "
    "again (`Idempotent-Replayed: true`); with another body, 422; while the first is running, 409. "
    "Scoped to the caller, kept 24 hours.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}


def operation_id(route: APIRoute | RouteContext) -> str:
    """The operation id of a route: its function's name (or the ``name`` it was given), as FastAPI's
    ``generate_unique_id_function``. Names are unique per app; the gateway's test keeps them unique
    across the merged document."""
    return route.name


def install(app: FastAPI, *, idempotent_posts: bool = False) -> None:
    """Makes ``app.openapi()`` the conformed document (:func:`conform`), built once."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
                separate_input_output_schemas=app.separate_input_output_schemas,
            )
            app.openapi_schema = conform(document, app.routes, idempotent_posts=idempotent_posts)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def conform(
    document: dict[str, Any], routes: Sequence[BaseRoute | RouteContext], *, idempotent_posts: bool = False
) -> dict:
    """The document FastAPI made from ``routes``, with the statuses, problem bodies, security and
    headers each operation has (see the module's docstring)."""
    paths = document.get("paths", {})
    # an included router's routes, each with the prefix, dependencies and names it was included with
    for route in iter_route_contexts(routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        token = token_use(route)
        for method in route.methods or ():
            operation = paths.get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            if idempotent_posts and method == "POST":
                operation.setdefault("parameters", []).append(dict(IDEMPOTENCY_KEY))
            optional_body(operation)
            statuses = error_statuses(operation, method.lower(), token)
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                responses.setdefault(str(status), {})
            operation["security"] = security_of(token)
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {}).setdefault(BEARER, BEARER_SCHEME)
    document["security"] = [{BEARER: []}]
    add_problem_schemas(document)
    problem_bodies(document)
    return document


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def token_use(route: APIRoute | RouteContext) -> str | None:
    """``"required"`` when a route's dependencies need a token (:func:`zhichan.auth.current_user`,
    :func:`~zhichan.auth.require_roles`), ``"optional"`` when they read one if sent, else None."""
    calls = list(_calls(route.dependant))
    if any(getattr(call, "requires_token", False) for call in calls):
        return "required"
    if any(isinstance(call, SecurityBase) for call in calls):
        return "optional"
    return None


def security_of(token: str | None) -> list[dict[str, list]]:
    if token == "required":
        return [{BEARER: []}]
    if token == "optional":
        return [{}, {BEARER: []}]
    return []


def error_statuses(operation: dict[str, Any], method: str, token: str | None) -> set[int]:
    """The error statuses an operation can answer, from what it takes:

    - a token: 401 when it is bad; 403 as well when one is required (roles, regions);
    - a path parameter: 404; any parameter or a body: 422;
    - a body: 400 when it cannot be parsed (not JSON, a broken multipart form), 413 (the process's
      body limit); a write: 409 (a state conflict, a key taken, an Idempotency-Key in progress);
    - If-Match: 412, and 428 when it is required.

    Statuses a route declares itself (415, 429, 503) are kept as they are."""
    statuses: set[int] = set()
    parameters = operation.get("parameters", [])
    if token is not None:
        statuses.add(401)
    if token == "required":
        statuses.add(403)
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    if parameters or "requestBody" in operation:
        statuses.add(422)
    if "requestBody" in operation:
        statuses |= {400, 413}
    if method in WRITES:
        statuses.add(409)
    for parameter in parameters:
        if parameter.get("in") == "header" and parameter.get("name", "").lower() == "if-match":
            statuses.add(412)
            if parameter.get("schema", {}).pop(IF_MATCH_MARK, None) == "required":
                parameter["required"] = True
                statuses.add(428)
    return statuses


def optional_body(operation: dict[str, Any]) -> None:
    """A body that may be left out (``body: StepIn | None = None``) is not required and has its
    model as schema, not "the model or null": a generated client then sends nothing when given
    nothing (openapi-python-client sent its UNSET marker as JSON)."""
    body = operation.get("requestBody")
    if body is None or body.get("required"):
        return
    for media in body.get("content", {}).values():
        alternatives = media.get("schema", {}).get("anyOf", [])
        if len(alternatives) == 2 and {"type": "null"} in alternatives:
            media["schema"] = next(a for a in alternatives if a != {"type": "null"})


def add_problem_schemas(document: dict[str, Any]) -> None:
    """``Problem`` and what it refers to, in the document's schemas."""
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(schema.pop("$defs", {}))
    schemas["Problem"] = schema


def problem_bodies(document: dict[str, Any]) -> None:
    """Every 4xx and 5xx answer is a ``Problem`` as ``application/problem+json``, and nothing else;
    FastAPI's own validation schemas go when nothing refers to them any more."""
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                if status.isdigit() and int(status) >= 400:
                    response["content"] = {PROBLEM_JSON: {"schema": dict(PROBLEM_REF)}}
                    if not response.get("description") or response["description"] == "Additional Response":
                        response["description"] = STATUS_DESCRIPTIONS.get(int(status), "Error")
    schemas = document.get("components", {}).get("schemas", {})
    for name in FASTAPI_VALIDATION_SCHEMAS:
        if name in schemas:
            rest = {k: v for k, v in schemas.items() if k != name}
            if f'"#/components/schemas/{name}"' not in json.dumps([document.get("paths"), rest]):
                del schemas[name]
