"""JSON logs with a request id, W3C traceparent passed through, Prometheus metrics."""

from __future__ import annotations

import json
import logging
import os
import secrets
import sys
import time
from contextvars import ContextVar

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
traceparent_var: ContextVar[str | None] = ContextVar("traceparent", default=None)


def current_traceparent() -> str | None:
    return traceparent_var.get()


def new_traceparent() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "process": os.environ.get("ZHICHAN_PROCESS_NAME"),
        }
        if rid := request_id_var.get():
            entry["request_id"] = rid
        if tp := traceparent_var.get():
            entry["traceparent"] = tp
        for key in ("method", "path", "status", "duration_ms", "topic", "event_id"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class Metrics:
    """Per-app Prometheus registry (several apps can live in one test process)."""

    def __init__(self, process: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds", "HTTP latency", ["method", "route"], registry=self.registry
        )
        self.events_published = Counter(
            "outbox_events_published_total", "Events the relay published", registry=self.registry
        )
        self.events_consumed = Counter(
            "events_consumed_total", "Events applied by consumers", ["topic"], registry=self.registry
        )
        self.process = process

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class RequestContextMiddleware:
    """Request id and traceparent for every request; access log line; request metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.log = logging.getLogger("zhichan.http")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        rid = request.headers.get("x-request-id") or secrets.token_hex(8)
        tp = request.headers.get("traceparent") or new_traceparent()
        rid_token = request_id_var.set(rid)
        tp_token = traceparent_var.set(tp)
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_with_ids(message):
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_ids)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            route_path = getattr(route, "path", "unmatched")
            self.metrics.requests.labels(scope["method"], route_path, str(status_holder["status"])).inc()
            self.metrics.latency.labels(scope["method"], route_path).observe(elapsed)
            self.log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status_holder["status"],
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(rid_token)
            traceparent_var.reset(tp_token)
