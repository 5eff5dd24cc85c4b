"""The outbox relay: publishes a service's unsent outbox rows in order, marks them sent.

Woken by every commit that wrote to the outbox (no sleeping between polls), with a slow poll
as a safety net for rows written by another process. Rows sent are marked in the database at
most every :data:`MARK_SENT_SECONDS` (or every batch), not after each send: when events come one
at a time, that transaction cost as much CPU as the read and the send together (bench/), and the
relay remembers in the meantime what it sent. At-least-once: a crash before the mark re-sends,
and consumers dedupe. A broker outage only delays: the relay retries with backoff and the rows
wait. One relay per service at a time, through a lease row.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError

from zhichan.clock import utcnow
from zhichan.db import SINGLE_READS, SessionFactory
from zhichan.events.broker import ensure_topics, make_producer
from zhichan.events.envelope import kafka_headers, topic_of
from zhichan.events.outbox import OutboxEvent, RelayLease
from zhichan.settings import PlatformSettings

log = logging.getLogger("zhichan.relay")

LEASE_SECONDS = 15.0
MARK_SENT_SECONDS = 0.5  # longest a sent row stays unmarked while the relay runs
# While commits keep coming during rounds, a round starts at most this often. A round (a read, a
# send, the broker's answer) costs about the same CPU for one row as for dozens: under the write
# benchmark's 16 writers, back-to-back rounds of a row or two cost 0.8 ms of CPU per request, a
# quarter of it. An event that comes while the relay is idle goes at once.
BUSY_ROUND_SECONDS = 0.01

_COLUMNS = (
    OutboxEvent.id,
    OutboxEvent.event_id,
    OutboxEvent.type,
    OutboxEvent.topic,
    OutboxEvent.key,
    OutboxEvent.envelope,
)
# Built once: constructing a statement costs more CPU than SQLite takes to run this one.
_UNSENT = select(*_COLUMNS).where(OutboxEvent.sent_at.is_(None)).order_by(OutboxEvent.id).limit(bindparam("limit"))
# Past the rows sent but not marked yet. On SQLite ids are given in commit order, so nothing
# commits below them later; on PostgreSQL a transaction holding a lower id can commit after a
# higher one was sent: the plain read after each mark (:data:`_UNSENT`) picks such a row up.
_UNSENT_AFTER = (
    select(*_COLUMNS)
    .where(OutboxEvent.sent_at.is_(None), OutboxEvent.id > bindparam("after"))
    .order_by(OutboxEvent.id)
    .limit(bindparam("limit"))
)
_MARK_SENT = update(OutboxEvent).where(OutboxEvent.id.in_(bindparam("ids", expanding=True)))


class OutboxRelay:
    def __init__(
        self,
        service: str,
        session_factory: SessionFactory,
        platform: PlatformSettings,
        *,
        batch_size: int = 500,
        on_published=None,
    ) -> None:
        self.service = service
        self.session_factory = session_factory
        self.platform = platform
        self.batch_size = batch_size
        self.on_published = on_published
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._producer = None
        self._lease_until = 0.0
        self._last_offsets: dict[tuple[str, int], int] = {}
        self._unmarked: list[int] = []  # sent, in id order, not yet marked sent in the database
        self._unmarked_since = 0.0
        self._marking: asyncio.Task | None = None
        self._reader = None  # the relay's own connection for its reads
        self.published = 0
        self.healthy = False

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"relay-{self.service}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._marked()
        with contextlib.suppress(Exception):  # else they are sent again on the next start
            await self.mark_sent()
        await self._close_reader()
        await self._close_producer()
        await self._release_lease()

    async def _run(self) -> None:
        backoff = 0.2
        while True:
            try:
                if not await self._hold_lease():
                    await self._sleep_until_woken(LEASE_SECONDS / 3)
                    continue
                if self._producer is None:
                    producer = make_producer(self.platform)
                    await producer.start()
                    self._producer = producer
                    # A broker that lost its memory (the embedded one) has lost the topics too.
                    await ensure_topics(self.platform, (topic_of(self.service),))
                round_started = time.monotonic()
                sent = await self.publish_pending()
                self.healthy = True
                backoff = 0.2
                if sent < self.batch_size:
                    if self._wake.is_set():  # commits came during the round: let more gather
                        await asyncio.sleep(max(0.0, round_started + BUSY_ROUND_SECONDS - time.monotonic()))
                    timeout = self.platform.relay_poll_seconds
                    if self._unmarked:  # come back to mark them in time
                        timeout = min(timeout, max(0.0, self._mark_due() - time.monotonic()))
                    await self._sleep_until_woken(timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker down, database busy: wait and try again, never drop
                self.healthy = False
                log.warning("relay of %s failed, retrying in %.1fs: %s", self.service, backoff, exc)
                await self._close_producer()
                await self._close_reader()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    async def _sleep_until_woken(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()

    async def publish_pending(self) -> int:
        """Sends one batch of unsent rows in id order; returns how many were sent."""
        if self._unmarked and (len(self._unmarked) >= self.batch_size or time.monotonic() >= self._mark_due()):
            self._mark_meanwhile()
        if self._unmarked:
            rows = await self._read(_UNSENT_AFTER, {"after": self._unmarked[-1], "limit": self.batch_size})
        else:
            rows = await self._read(_UNSENT, {"limit": self.batch_size})
        if not rows:
            return 0
        # Queue the whole batch, then wait: the accumulator keeps each partition's order.
        futures = []
        for row in rows:
            futures.append(
                await self._producer.send(
                    row.topic,
                    row.envelope.encode(),
                    key=row.key.encode(),
                    headers=kafka_headers(json.loads(row.envelope).get("traceparent")),
                )
            )
        results = await asyncio.gather(*futures, return_exceptions=True)
        sent_ids: list[int] = []
        first_error: BaseException | None = None
        log_was_reset = False
        for row, result in zip(rows, results, strict=True):
            if isinstance(result, BaseException):
                first_error = first_error or result
                break  # keep order: what follows a failure is sent again after it
            sent_ids.append(row.id)
            where = (result.topic, result.partition)
            if result.offset <= self._last_offsets.get(where, -1):
                log_was_reset = True  # offsets only grow: the broker lost its log (a memory-only restart)
            self._last_offsets[where] = result.offset
        if sent_ids:
            if not self._unmarked:
                self._unmarked_since = time.monotonic()
            self._unmarked.extend(sent_ids)
            self.published += len(sent_ids)
            if self.on_published:
                self.on_published(len(sent_ids))
        if log_was_reset:
            await self._recover_from_lost_log()
            return len(sent_ids)
        if first_error is not None:
            async with self.session_factory() as session:
                failed_id = rows[len(sent_ids)].id
                await session.execute(
                    update(OutboxEvent)
                    .where(OutboxEvent.id == failed_id)
                    .values(attempts=OutboxEvent.attempts + 1, last_error=str(first_error)[:500])
                )
                await session.commit()
            raise first_error
        return len(sent_ids)

    async def _read(self, statement, params: dict) -> list:
        """The relay's reads, on a connection of its own held for its lifetime. Under load the
        requests in line for the database's write turn hold every connection of the pool, and
        the relay's read waited behind them for one: 0.3 s a round at 133 writes/s a service,
        most of the event lag at 400 writes/s (bench/lag.py, its stages)."""
        if self._reader is None:
            reader = await self.session_factory.kw["bind"].connect()
            await reader.execution_options(**{SINGLE_READS: True})
            self._reader = reader
        try:
            rows = (await self._reader.execute(statement, params)).all()
            await self._reader.rollback()  # PostgreSQL: no transaction left open; SQLite (single reads): no call
        except Exception:
            await self._close_reader()
            raise
        return rows

    async def _close_reader(self) -> None:
        if self._reader is not None:
            reader, self._reader = self._reader, None
            with contextlib.suppress(Exception):
                await reader.close()

    def _mark_meanwhile(self) -> None:
        """Marks the rows sent so far in a task of its own while the relay goes on sending: the
        mark is a write, and waits its turn behind the requests' transactions (up to 0.6 s a
        round under load, during which nothing was sent)."""
        if self._marking is None or self._marking.done():
            self._marking = asyncio.create_task(self._mark_or_later(), name=f"relay-mark-{self.service}")

    async def _mark_or_later(self) -> None:
        try:
            await self.mark_sent()
        except Exception as exc:  # marked on a later round; until then the relay reads past them
            log.warning("relay of %s could not mark rows sent yet: %s", self.service, exc)

    async def _marked(self) -> None:
        """Waits for a mark under way (two marks at once would both drop the same rows)."""
        if self._marking is not None:
            with contextlib.suppress(Exception):
                await self._marking
            self._marking = None

    def _mark_due(self) -> float:
        return self._unmarked_since + MARK_SENT_SECONDS

    async def mark_sent(self) -> None:
        """Marks what was sent so far sent in the database."""
        if not self._unmarked:
            return
        ids = list(self._unmarked)
        async with self.session_factory() as session:
            await session.execute(_MARK_SENT.values(sent_at=utcnow()), {"ids": ids})
            await session.commit()
        del self._unmarked[: len(ids)]

    async def _recover_from_lost_log(self) -> None:
        """The broker came back empty (the embedded Tansu keeps messages in memory only): make sure
        the topic exists as configured and send the service's whole history again, in order.
        Consumers dedupe, so what they already applied changes nothing."""
        log.warning("the broker lost the log of %s; publishing the outbox history again", self.service)
        await self._marked()
        await ensure_topics(self.platform, (topic_of(self.service),))
        self._last_offsets.clear()
        self._unmarked.clear()
        await mark_all_unsent(self.session_factory)

    async def _hold_lease(self) -> bool:
        now = time.time()
        if self._lease_until - now > LEASE_SECONDS / 2:
            return True
        name = f"relay:{self.service}"
        try:
            async with self.session_factory() as session:
                # One conditional UPDATE: two relays racing for a lapsed lease cannot both win.
                taken = await session.execute(
                    update(RelayLease)
                    .where(RelayLease.name == name)
                    .where(or_(RelayLease.holder == self.holder, RelayLease.expires_at < now))
                    .values(holder=self.holder, expires_at=now + LEASE_SECONDS)
                )
                if taken.rowcount == 0:
                    if await session.get(RelayLease, name) is not None:
                        return False
                    session.add(RelayLease(name=name, holder=self.holder, expires_at=now + LEASE_SECONDS))
                await session.commit()
        except IntegrityError:
            return False
        self._lease_until = now + LEASE_SECONDS
        return True

    async def _release_lease(self) -> None:
        with contextlib.suppress(Exception):
            async with self.session_factory() as session:
                lease = await session.get(RelayLease, f"relay:{self.service}")
                if lease is not None and lease.holder == self.holder:
                    await session.delete(lease)
                    await session.commit()

    async def _close_producer(self) -> None:
        if self._producer is not None:
            with contextlib.suppress(Exception):
                await self._producer.stop()
            self._producer = None


async def mark_all_unsent(session_factory: SessionFactory) -> int:
    """For ``zhichan republish``: the relay sends the service's whole history again, in order."""
    async with session_factory() as session:
        result = await session.execute(update(OutboxEvent).values(sent_at=None))
        await session.commit()
        return result.rowcount or 0
