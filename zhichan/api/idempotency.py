"""Idempotency-Key on POST: the same key and body give the first answer again; the same key with
another body is refused (422). Keys are scoped to the caller and kept in the service's database.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zhichan.api.problems import problem_response
from zhichan.clock import utcnow
from zhichan.db import UTCDateTime

PENDING_SECONDS = 60  # a request that died mid-way frees its key after this long
KEPT_HEADERS = (b"content-type", b"etag", b"location")


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_key"

    principal: str = Field(primary_key=True, max_length=100)
    key: str = Field(primary_key=True, max_length=200)
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    body_hash: str = Field(max_length=64)
    status_code: int | None = None
    response_headers: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    response_body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    started_at: float
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw_key = headers.get(b"idempotency-key")
        if not raw_key:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode()[:200]
        state = scope["app"].state
        session_factory = state.session_factory
        principal = self._principal(state, headers)

        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        body_hash = hashlib.sha256(scope["path"].encode() + b"\0" + body).hexdigest()

        async with session_factory() as session:
            record = await session.get(IdempotencyRecord, (principal, key))
            if record is not None and record.status_code is None and time.time() - record.started_at > PENDING_SECONDS:
                await session.delete(record)
                await session.commit()
                record = None
            if record is None:
                session.add(
                    IdempotencyRecord(
                        principal=principal,
                        key=key,
                        method="POST",
                        path=scope["path"],
                        body_hash=body_hash,
                        started_at=time.time(),
                        created_at=utcnow(),
                    )
                )
                try:
                    await session.commit()
                except IntegrityError:
                    await session.rollback()
                    record = await session.get(IdempotencyRecord, (principal, key))
        if record is not None:
            await self._replay(record, body_hash, scope, receive, send)
            return

        captured: dict = {"status": None, "headers": [], "body": b""}

        async def replay_body() -> Message:
            nonlocal body
            chunk, body = body, b""
            return {"type": "http.request", "body": chunk, "more_body": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = [(k, v) for k, v in message.get("headers", []) if k.lower() in KEPT_HEADERS]
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            async with session_factory() as session:
                if captured["status"] is not None and captured["status"] < 300:
                    record = await session.get(IdempotencyRecord, (principal, key))
                    if record is not None:
                        record.status_code = captured["status"]
                        record.response_headers = json.dumps([[k.decode(), v.decode()] for k, v in captured["headers"]])
                        record.response_body = captured["body"]
                else:  # a refused or failed attempt changed nothing: the key stays free for a corrected retry
                    await session.execute(
                        delete(IdempotencyRecord).where(
                            IdempotencyRecord.principal == principal, IdempotencyRecord.key == key
                        )
                    )
                await session.commit()

    @staticmethod
    def _principal(state, headers: dict[bytes, bytes]) -> str:
        auth = headers.get(b"authorization", b"").decode()
        if auth.lower().startswith("bearer "):
            try:
                return state.token_verifier.verify(auth[7:]).sub[:100]
            except Exception:
                return "invalid-token"
        return "anonymous"

    @staticmethod
    async def _replay(record: IdempotencyRecord, body_hash: str, scope: Scope, receive: Receive, send: Send) -> None:
        if record.body_hash != body_hash:
            response = problem_response(
                422,
                "Idempotency key reused",
                "idempotency-key-reused",
                "this Idempotency-Key was used with another request body",
                errors=[{"loc": ["header", "Idempotency-Key"], "msg": "reused with another body"}],
            )
        elif record.status_code is None:
            response = problem_response(
                409,
                "Request in progress",
                "idempotency-in-progress",
                "a request with this Idempotency-Key is still being processed",
                headers={"Retry-After": "1"},
            )
        else:
            headers = [(k.encode(), v.encode()) for k, v in json.loads(record.response_headers or "[]")]
            headers.append((b"idempotent-replayed", b"true"))
            await send({"type": "http.response.start", "status": record.status_code, "headers": headers})
            await send({"type": "http.response.body", "body": record.response_body or b""})
            return
        await response(scope, receive, send)
