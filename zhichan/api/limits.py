"""The request body limit of every process: a body larger than ``<PROCESS>_MAX_BODY_BYTES`` is
refused with 413 before anything keeps it.

Pure ASGI, outside every middleware that reads the body (the idempotency middleware hashes it
whole): a ``Content-Length`` over the limit is answered before the body is read at all; a body
without one (``Transfer-Encoding: chunked``) is counted as it streams in, and the first chunk
beyond the limit ends the request with 413, whatever the reader was doing with it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zhichan.api.problems import problem_response
from zhichan.settings import DEFAULT_MAX_BODY_BYTES


class BodyTooLarge(Exception):
    """Raised from ``receive`` when the body goes beyond the limit; the middleware answers 413."""


class BodyLimitMiddleware:
    """413 for a body larger than the process's ``max_body_bytes`` (its settings, read from
    ``app.state.settings`` once the lifespan made them; :data:`DEFAULT_MAX_BODY_BYTES` before)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = max_body_bytes(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(scope, receive, send, limit)
            return

        received = 0
        exceeded = False
        started = False

        async def counted() -> Message:
            nonlocal received, exceeded
            if exceeded:  # the reader went on after the refusal: nothing more comes
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # whatever the app answers to a body cut short, the answer is 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not exceeded:  # an error of the app's own; after the refusal, any error is the cut body's
                raise
        if exceeded and not started:
            await _too_large(scope, receive, send, limit)


def max_body_bytes(scope: Scope) -> int:
    app = scope.get("app")
    settings = getattr(getattr(app, "state", None), "settings", None)
    return getattr(settings, "max_body_bytes", None) or DEFAULT_MAX_BODY_BYTES


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = problem_response(
        413,
        "Payload too large",
        "payload-too-large",
        f"a request body is at most {limit} bytes",
        instance=scope.get("path"),
        max_bytes=limit,
    )
    await response(scope, receive, send)
