"""Retention of the inbox: event ids are kept for as long as a duplicate of them can cheaply be
told apart, then pruned, by a task of the consuming process, in small batches.

Why pruning the inbox is safe. The inbox is what makes an event delivered again a no-op, and a
duplicate can arrive

- within seconds: the consumer restarts or a rebalance moves a partition, and what was applied
  but not committed (at most :data:`~zhichan.events.consumer.OFFSET_COMMIT_SECONDS` and a fetch)
  is read again;
- whenever a service comes back: its relay crashed between sending a row and marking it sent,
  and sends it again when the service restarts — hours or weeks later;
- from the beginning of the log: ``zhichan republish``, or a relay that found the broker empty,
  sends a service's whole history again; a consumer whose partition's log was lost reads it again.

The first kind is the inbox's job, and a retention of days covers it many times over. The others
may come after an event's id was pruned, and then the event is applied again. That must change
nothing, so every effect an event has is idempotent without the inbox too:

- every state the consumers keep is the aggregate's full state at a version, applied only when
  newer than the version held (``gateway.readmodel.claim_version``/``apply_states``, a region's
  ``custom_region.version``): the same version again, or an older one, is skipped;
- records kept once per event or per id are inserted only when absent (progress reports and
  statistic releases by their id, the gateway's ``recent_event`` by event id, webhook deliveries by
  (subscription, event), made only for subscriptions created by the event's time — one switched
  off when the event first came and on again when its late duplicate comes gets that delivery
  late: an event it would have had, never a second copy);
- the gateway's alerts follow the record's version (a plan not newer than the alerts' record
  version changes nothing);
- the gateway's ``recent_event`` rows of an event older than a region's newest kept are pruned
  again (see :mod:`gateway.retention`).

So the inbox is an index of what was applied lately: it saves the work of applying a recent
duplicate again, and pruning it costs only that work for the rare late one. A retention of 0 keeps
every id, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from zhichan.clock import utcnow
from zhichan.db import SessionFactory
from zhichan.events.consumer import InboxEvent

log = logging.getLogger("zhichan.retention")

# Rows deleted per transaction: on SQLite a transaction holds the database's write lock, and the
# consumer's next fetch waits behind it. A thousand inbox rows (and their index entries) take a
# few milliseconds; the transactions queued meanwhile go between two batches.
PRUNE_BATCH = 1000
# After starting, the first prune waits this long (or the interval, if shorter): a process's start
# has other work to do first.
FIRST_PRUNE_DELAY_SECONDS = 60.0

_INBOX = InboxEvent.__table__
_RECEIVED = _INBOX.c.received_at


@dataclass(frozen=True)
class PruneJob:
    """What a :class:`Pruner` runs: ``run`` prunes one table and answers the rows it deleted."""

    name: str
    run: Callable[[], Awaitable[int]]


async def delete_in_batches(
    session_factory: SessionFactory, one_batch: Callable[[int], object], batch: int = PRUNE_BATCH
) -> int:
    """Runs ``one_batch(batch)`` (a DELETE of at most ``batch`` rows) in a transaction of its own
    until one deletes fewer than ``batch``; answers the rows deleted in all. Between two batches,
    the other transactions waiting for the database go first."""
    total = 0
    while True:
        async with session_factory() as session:
            deleted = (await session.execute(one_batch(batch))).rowcount
            await session.commit()
        total += deleted
        if deleted < batch:
            return total
        await asyncio.sleep(0)  # the queue of transactions (zhichan.db.TransactionQueue) goes first


async def prune_inbox(
    session_factory: SessionFactory,
    retention: timedelta,
    *,
    now: datetime | None = None,
    batch: int = PRUNE_BATCH,
) -> int:
    """Deletes the inbox rows of events applied before ``now - retention``; answers how many."""
    cutoff = (now or utcnow()) - retention

    def one_batch(size: int):
        oldest = select(_INBOX.c.event_id).where(_RECEIVED < cutoff).order_by(_RECEIVED).limit(size)
        return delete(_INBOX).where(_INBOX.c.event_id.in_(oldest))

    return await delete_in_batches(session_factory, one_batch, batch)


def inbox_job(session_factory: SessionFactory, retention_days: float) -> PruneJob | None:
    """The inbox's prune job for a process's ``<PROCESS>_INBOX_RETENTION_DAYS`` (none: kept forever)."""
    if retention_days <= 0:
        return None
    retention = timedelta(days=retention_days)
    return PruneJob("inbox", lambda: prune_inbox(session_factory, retention))


class Pruner:
    """Runs prune jobs every ``interval_seconds`` in a task of its own, never inside a request;
    a job that fails is logged and tried again at the next round."""

    def __init__(self, jobs: Sequence[PruneJob | None], interval_seconds: float) -> None:
        self.jobs = [job for job in jobs if job is not None]
        self.interval_seconds = interval_seconds
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self.jobs and self._task is None:
            self._task = asyncio.create_task(self._run(), name="pruner")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_once(self) -> dict[str, int]:
        """Every job once; answers the rows each deleted (a failed job is left out)."""
        deleted = {}
        for job in self.jobs:
            try:
                deleted[job.name] = await job.run()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("pruning %s failed; trying again in %.0f s", job.name, self.interval_seconds)
        pruned = {name: count for name, count in deleted.items() if count}
        if pruned:
            log.info("pruned %s", ", ".join(f"{count} rows of {name}" for name, count in pruned.items()))
        return deleted

    async def _run(self) -> None:
        await asyncio.sleep(min(FIRST_PRUNE_DELAY_SECONDS, self.interval_seconds))
        while True:
            await self.run_once()
            await asyncio.sleep(self.interval_seconds)
