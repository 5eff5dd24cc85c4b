"""Idempotency-Key on POST: the same key and body give the first answer again; the same key with
another body is refused (422). Keys are kept in the service's database:

- scoped to the caller, who is the token's issuer and subject together (two identity providers
  may both have a user ``42``);
- replayed only to a caller who could still make the request: the answer is kept with what it
  relied on (the role sets the route asked for and the regions it needed the caller to see, as
  :func:`zhichan.auth.recording_reliance` wrote them down), and a replay checks the caller's
  current token against that, answering 403 as the route would;
- forgotten after ``ZHICHAN_IDEMPOTENCY_TTL_HOURS`` (24 h): an older key is used anew, and every
  process purges them after a write at most once an hour; by hand,
  ``python -m zhichan.api.idempotency [service…]`` (:func:`purge_expired`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import datetime, timedelta

from sqlalchemy import Column, LargeBinary, Text, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zhichan.api.problems import ProblemError, problem_response
from zhichan.auth import Reliance, User, recording_reliance
from zhichan.clock import utcnow
from zhichan.db import SessionFactory, UTCDateTime

log = logging.getLogger("zhichan.idempotency")

PENDING_SECONDS = 60  # a request that died mid-way frees its key after this long
PURGE_EVERY_SECONDS = 3600  # how often a process purges the keys past their time, after a write
DEFAULT_TTL = timedelta(hours=24)
KEPT_HEADERS = (b"content-type", b"etag", b"location")
ANONYMOUS = "anonymous"


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_key"

    # the caller: a digest of the token's issuer and subject (or "anonymous")
    principal: str = Field(primary_key=True, max_length=100)
    key: str = Field(primary_key=True, max_length=200)
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    body_hash: str = Field(max_length=64)
    status_code: int | None = None
    # JSON: {"headers": [[name, value], …], "relied_on": {"roles": [[…], …], "regions": […]}}
    response_headers: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    response_body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    started_at: float
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


def principal_of(user: User | None) -> str:
    """Who owns a key: the token's issuer and subject together, as one digest (it fits the
    column whatever their length, and no two pairs run together)."""
    if user is None:
        return ANONYMOUS
    pair = json.dumps([user.iss or "", user.sub], ensure_ascii=False)
    return "sha256:" + hashlib.sha256(pair.encode()).hexdigest()


async def purge_expired(session_factory: SessionFactory, ttl: timedelta = DEFAULT_TTL) -> int:
    """Deletes the keys created more than ``ttl`` ago; returns how many."""
    async with session_factory() as session:
        result = await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - ttl))
        await session.commit()
    return result.rowcount or 0


async def purge_service(service: str) -> int:
    """:func:`purge_expired` on a service's database, with the settings the service reads
    (``<SERVICE>_DATABASE_URL``, ``ZHICHAN_IDEMPOTENCY_TTL_HOURS``): what ops run by hand."""
    from zhichan.db import make_engine, make_session_factory
    from zhichan.settings import platform_settings, process_settings

    platform = platform_settings()
    engine = make_engine(process_settings(service).resolved_database_url(platform))
    try:
        return await purge_expired(make_session_factory(engine), timedelta(hours=platform.idempotency_ttl_hours))
    finally:
        await engine.dispose()


def _ttl(state) -> timedelta:
    platform = getattr(state, "platform", None)
    return timedelta(hours=platform.idempotency_ttl_hours) if platform is not None else DEFAULT_TTL


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._next_purge = 0.0  # monotonic time of this process's next purge

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw_key = headers.get(b"idempotency-key")
        if not raw_key:
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        user = await self._caller(state, headers)
        key = raw_key.decode()[:200]
        principal = principal_of(user)
        session_factory = state.session_factory
        ttl = _ttl(state)

        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        body_hash = hashlib.sha256(scope["path"].encode() + b"\0" + body).hexdigest()

        async with session_factory() as session:
            record = await session.get(IdempotencyRecord, (principal, key))
            if record is not None and (
                (record.status_code is None and time.time() - record.started_at > PENDING_SECONDS)
                or record.created_at < utcnow() - ttl
            ):
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
            await self._replay(record, body_hash, user, scope, receive, send)
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
            with recording_reliance() as relied_on:
                await self.app(scope, replay_body, capture)
        finally:
            async with session_factory() as session:
                if captured["status"] is not None and captured["status"] < 300:
                    record = await session.get(IdempotencyRecord, (principal, key))
                    if record is not None:
                        record.status_code = captured["status"]
                        record.response_headers = json.dumps(
                            {
                                "headers": [[k.decode(), v.decode()] for k, v in captured["headers"]],
                                "relied_on": relied_on.as_json(),
                            }
                        )
                        record.response_body = captured["body"]
                else:  # a refused or failed attempt changed nothing: the key stays free for a corrected retry
                    await session.execute(
                        delete(IdempotencyRecord).where(
                            IdempotencyRecord.principal == principal, IdempotencyRecord.key == key
                        )
                    )
                await session.commit()
        # The answer has been sent: the purge delays no one.
        if time.monotonic() >= self._next_purge:
            self._next_purge = time.monotonic() + PURGE_EVERY_SECONDS
            try:
                purged = await purge_expired(session_factory, ttl)
            except Exception:  # noqa: BLE001 - the next write tries again
                log.exception("purging idempotency keys older than %s failed", ttl)
                self._next_purge = 0.0
            else:
                if purged:
                    log.info("purged %d idempotency keys older than %s", purged, ttl)

    @staticmethod
    async def _caller(state, headers: dict[bytes, bytes]) -> User | None:
        """The caller the token names; None without a token, or with one that does not verify
        (a route that needs one refuses it, and a refused answer is not kept)."""
        auth = headers.get(b"authorization", b"").decode()
        if auth[:7].lower() != "bearer ":
            return None
        try:
            return await state.token_verifier.authenticate(auth[7:].strip())
        except ProblemError:
            return None

    @staticmethod
    async def _replay(
        record: IdempotencyRecord, body_hash: str, user: User | None, scope: Scope, receive: Receive, send: Send
    ) -> None:
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
            kept = json.loads(record.response_headers or "{}")
            if isinstance(kept, list):  # kept before answers recorded what they relied on
                kept = {"headers": kept, "relied_on": {}}
            refusal = Reliance.from_json(kept.get("relied_on", {})).refusal(user)
            if refusal is None:
                headers = [(k.encode(), v.encode()) for k, v in kept.get("headers", [])]
                headers.append((b"idempotent-replayed", b"true"))
                await send({"type": "http.response.start", "status": record.status_code, "headers": headers})
                await send({"type": "http.response.body", "body": record.response_body or b""})
                return
            response = problem_response(
                403, "Forbidden", "forbidden", f"the first answer to this Idempotency-Key is not replayed: {refusal}"
            )
        await response(scope, receive, send)


def main(argv: list[str] | None = None) -> None:
    import argparse
    import asyncio

    from zhichan import SERVICES

    parser = argparse.ArgumentParser(
        prog="python -m zhichan.api.idempotency", description="purge Idempotency-Keys past their time"
    )
    parser.add_argument("services", nargs="*", choices=SERVICES, metavar="service", help="default: all four")
    for service in parser.parse_args(argv).services or SERVICES:
        print(f"{service}: {asyncio.run(purge_service(service))} idempotency keys purged")


if __name__ == "__main__":
    main()
