"""RFC 9457 problem details for every error; never a stack trace to the client."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import RouteContext, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DataError, DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://zhichan.example/problems/"

log = logging.getLogger("zhichan.errors")


class FieldError(BaseModel):
    """A field at fault."""

    loc: list[str | int] = Field(description="Where: the field's path in the request, e.g. `[respondent, uscc]`")
    msg: str = Field(description="What is wrong with it")


class Problem(BaseModel):
    """An RFC 9457 problem, the body of every error answer (`application/problem+json`). Some add
    fields of their own: `current_status` and `action` when a step is not allowed from a record's
    status, the current `etag` on a 412, `max_bytes` on a 413."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A URI naming the kind of problem; its last segment is a stable slug")
    title: str = Field(description="A short summary of the kind of problem")
    status: int = Field(description="The HTTP status code")
    detail: str | None = Field(default=None, description="What went wrong this time")
    instance: str | None = Field(default=None, description="The path of the request")
    errors: list[FieldError] | None = Field(default=None, description="Validation: each field at fault")


class ProblemError(Exception):
    """Raise anywhere below a route to answer with a problem."""

    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors
        self.headers = headers
        self.extra = extra


class NotFound(ProblemError):
    status, title, slug = 404, "Not found", "not-found"


class Forbidden(ProblemError):
    status, title, slug = 403, "Forbidden", "forbidden"


class Unauthorized(ProblemError):
    status, title, slug = 401, "Not authenticated", "unauthorized"


class Conflict(ProblemError):
    status, title, slug = 409, "Conflict", "conflict"


class PreconditionFailed(ProblemError):
    status, title, slug = 412, "Precondition failed", "precondition-failed"


class PreconditionRequired(ProblemError):
    status, title, slug = 428, "Precondition required", "precondition-required"


class Invalid(ProblemError):
    status, title, slug = 422, "Validation failed", "validation"

    @classmethod
    def field(cls, loc: list[str | int], msg: str) -> Invalid:
        return cls(msg, errors=[{"loc": loc, "msg": msg}])


class PayloadTooLarge(ProblemError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


def problem_response(
    status: int,
    title: str,
    slug: str,
    detail: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _clean_loc(loc: tuple) -> list[str | int]:
    return [part for part in loc if part not in ("body", "query", "path", "header")] or list(loc)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError):
        return problem_response(
            exc.status,
            exc.title,
            exc.slug,
            exc.detail,
            exc.errors,
            instance=request.url.path,
            headers=exc.headers,
            **exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = [{"loc": _clean_loc(tuple(e.get("loc", ()))), "msg": e.get("msg", "invalid")} for e in exc.errors()]
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors)
        return problem_response(
            422, "Validation failed", "validation", f"invalid input: {fields}", errors, instance=request.url.path
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:  # Starlette names the methods of one route; the path may have more
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request.app.routes, request.scope))}
        return problem_response(
            exc.status_code,
            _title(exc.status_code),
            f"http-{exc.status_code}",
            str(exc.detail) if exc.detail else None,
            instance=request.url.path,
            headers=headers,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s", request.url.path)
        return problem_response(500, "Internal error", "internal", "the error was logged", instance=request.url.path)

    async def _out_of_range(request: Request, exc: Exception):
        if busy(exc):
            # SQLite has one writer: a write that waited its busy timeout behind a long one (a
            # large import's transaction) is worth trying again, not a server error.
            log.warning("the database was busy on %s", request.url.path)
            return problem_response(
                503,
                "Database busy",
                "database-busy",
                "another write held the database for longer than this one could wait; try again shortly",
                instance=request.url.path,
                headers={"Retry-After": str(BUSY_RETRY_SECONDS)},
            )
        if not out_of_range(exc):
            return await _unexpected(request, exc)
        # The error's text holds the value (asyncpg: "invalid input for query argument $1: …"): not logged.
        log.warning("a value out of range on %s: %s", request.url.path, _kind(exc))
        return problem_response(
            422,
            "Value out of range",
            "out-of-range",
            "a value in the request is beyond what the service can store or compute with",
            instance=request.url.path,
        )

    app.add_exception_handler(DBAPIError, _out_of_range)
    app.add_exception_handler(OverflowError, _out_of_range)


BUSY_RETRY_SECONDS = 5


def busy(exc: BaseException) -> bool:
    """Whether a database error says another writer held the database too long: SQLite's
    "database is locked" once its busy timeout ran out, PostgreSQL's lock_not_available (55P03)."""
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return sqlstate == "55P03" or "database is locked" in str(exc.orig)


def out_of_range(exc: BaseException) -> bool:
    """Whether an error says a value from the request is beyond what the database or Python holds:
    PostgreSQL's data exceptions (class 22: a NUL in text, a number past its column), asyncpg's
    refusal of a number past 64 bits before sending it (also 22000), SQLite's of an int it cannot
    bind, a date moved past year 9999 (both OverflowError). Other database errors are the server's."""
    if isinstance(exc, DBAPIError):
        if isinstance(exc, DataError) or isinstance(exc.orig, OverflowError):
            return True
        sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return isinstance(sqlstate, str) and sqlstate.startswith("22")
    return isinstance(exc, OverflowError)


def _kind(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    if orig is None:
        return type(exc).__name__
    return f"{type(orig).__name__} (SQLSTATE {getattr(orig, 'sqlstate', None)})"


METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


def allowed_methods(routes: Sequence[BaseRoute | RouteContext], scope: Scope) -> list[str]:
    """The methods some route answers at the request's path (``Allow`` of a 405), in a fixed order;
    the routes of included routers count, as they were included."""
    methods: set[str] = set()
    for route in iter_route_contexts(routes):
        route_methods = route.methods
        if route_methods and route.matches(scope)[0] != Match.NONE:
            methods |= set(route_methods)
    return sorted(methods, key=lambda m: (METHOD_ORDER.index(m) if m in METHOD_ORDER else len(METHOD_ORDER), m))


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
