"""Consuming events at-least-once, applying each exactly once.

Offsets are committed after the projection's transaction, at most every
:data:`OFFSET_COMMIT_SECONDS` (and when the consumer stops or goes idle); the inbox (event id)
makes an event delivered again after a crash or a rebalance a no-op. A message that cannot be
parsed goes to ``<topic>.dlq`` with the reason, and consumption goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError
from sqlalchemy import Column, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from zhichan.clock import utcnow
from zhichan.db import SessionFactory, UTCDateTime, insert_at_commit
from zhichan.events.broker import ensure_topics, make_producer
from zhichan.events.envelope import Envelope
from zhichan.observability import traceparent_var
from zhichan.settings import PlatformSettings

log = logging.getLogger("zhichan.consumer")

# A projection: the events of one fetch that were not applied before, in log order per
# partition, applied in the caller's transaction. A batch lets a projection write each table
# once for many events (the gateway's read model); ``each`` adapts one that takes them singly.
Apply = Callable[[AsyncSession, list[Envelope]], Awaitable[None]]


def each(apply_one: Callable[[AsyncSession, Envelope], Awaitable[None]]) -> Apply:
    async def apply(session: AsyncSession, envelopes: list[Envelope]) -> None:
        for envelope in envelopes:
            traceparent_var.set(envelope.traceparent)  # logs of the projection carry the writer's trace
            await apply_one(session, envelope)

    return apply


# How long a fetch may wait at the broker for new records. Tansu answers a waiting fetch only when
# this runs out, not when a record arrives, so aiokafka's default (500 ms) was the event lag's floor
# (measured by bench/: p50 ≈ 130 ms even for a bare produce → consume; ≈ 5 ms with 10 ms here).
FETCH_MAX_WAIT_MS = 10
# An offset commit is a broker round trip; when events trickle in, a fetch holds one or two and a
# commit per fetch was a tenth of the gateway's CPU (bench/lag.py). What a crash leaves
# uncommitted is delivered again and the inbox skips it.
OFFSET_COMMIT_SECONDS = 1.0
# A fetch holds at most this many records: at the log's head a few, when behind a partition's
# fetch (1 MB) each. When the consumer is behind (a backlog after a stop, a burst), fetches are
# gathered into one batch of up to BATCH_MAX_RECORDS, applied in one transaction: a transaction's
# fixed costs (the inbox check, a commit that writes every page it dirtied, the positions) and a
# projection's (an aggregate's states folded into its newest) are then shared by ten times as
# many events. With the alerts' rows written as rows, a backlog of 100,000 events went from 14 %
# to 53 % of the rebuild's events/s once the consumer runs (bench/catchup.py, each in one run).
FETCH_MAX_RECORDS = 1000
BATCH_MAX_RECORDS = 10_000
BATCH_GATHER_SECONDS = 0.5  # the longest a batch waits for more fetches before it is applied
# Behind by fewer records than this, a fetch is applied as it comes: events arriving steadily
# keep the consumer a few records behind its partitions' ends, and waiting for more of them
# would be the lag itself (gathering at any distance put 200 writes/s at p50 ≈ 700 ms).
GATHER_WHEN_BEHIND = FETCH_MAX_RECORDS


class InboxEvent(SQLModel, table=True):
    """Event ids already applied: a redelivery changes nothing. Kept ``<PROCESS>_INBOX_RETENTION_DAYS``
    after ``received_at``, then pruned by the oldest first (:mod:`zhichan.events.retention` says
    why an event applied again after that changes nothing either)."""

    __tablename__ = "inbox"

    event_id: str = Field(primary_key=True, max_length=36)
    topic: str = Field(max_length=100)
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class ConsumerPosition(SQLModel, table=True):
    """The last event applied per topic partition: what freshness is computed from."""

    __tablename__ = "consumer_position"

    topic: str = Field(primary_key=True, max_length=100)
    partition: int = Field(primary_key=True)
    offset: int
    event_id: str = Field(max_length=36)
    event_type: str = Field(max_length=200)
    event_time: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    applied_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


# Built once, on the table rather than the class: statements built per fetch and the ORM's
# handling of them were a measurable part of the consumer's CPU.
_INBOX_ID = InboxEvent.__table__.c.event_id
_SEEN = select(_INBOX_ID).where(_INBOX_ID.in_(bindparam("ids", expanding=True)))
POSITION_COLUMNS = ("topic", "partition", "offset", "event_id", "event_type", "event_time", "applied_at")
POSITION_UPSERT = 'ON CONFLICT ("topic", "partition") DO UPDATE SET ' + ", ".join(
    f'"{column}" = excluded."{column}"' for column in POSITION_COLUMNS[2:]
)


class EventConsumer:
    def __init__(
        self,
        platform: PlatformSettings,
        topics: tuple[str, ...],
        group_id: str,
        session_factory: SessionFactory,
        apply: Apply,
        *,
        on_applied: Callable[[int], None] | None = None,
        fetch_max_wait_ms: int = FETCH_MAX_WAIT_MS,
    ) -> None:
        self.platform = platform
        self.topics = topics
        self.group_id = group_id
        self.session_factory = session_factory
        self.apply = apply
        self.on_applied = on_applied
        self.fetch_max_wait_ms = fetch_max_wait_ms
        self._consumer: AIOKafkaConsumer | None = None
        self._dlq_producer = None
        self._task: asyncio.Task | None = None
        self._uncommitted: dict[TopicPartition, int] = {}  # next offset per partition, applied not committed
        self._committed_at = 0.0
        self.assigned = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.group_id}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await self._commit_offsets()
            with contextlib.suppress(Exception):
                await self._consumer.stop()
        if self._dlq_producer is not None:
            with contextlib.suppress(Exception):
                await self._dlq_producer.stop()

    def highwaters(self) -> dict[tuple[str, int], int]:
        if self._consumer is None:
            return {}
        marks = {}
        for tp in self._consumer.assignment():
            mark = self._consumer.highwater(tp)
            if mark is not None:
                marks[(tp.topic, tp.partition)] = mark
        return marks

    async def _run(self) -> None:
        backoff = 0.2
        while True:
            try:
                if self._consumer is None:
                    await ensure_topics(self.platform, self.topics)
                    consumer = AIOKafkaConsumer(
                        *self.topics,
                        bootstrap_servers=self.platform.kafka_bootstrap,
                        group_id=self.group_id,
                        enable_auto_commit=False,  # commit only after the projection commits
                        auto_offset_reset="earliest",
                        max_poll_records=FETCH_MAX_RECORDS,
                        fetch_max_wait_ms=self.fetch_max_wait_ms,
                        session_timeout_ms=10_000,
                        heartbeat_interval_ms=1_000,
                        metadata_max_age_ms=5_000,  # notice re-created topics soon after a broker restart
                    )
                    await consumer.start()
                    self._consumer = consumer
                batches = await self._consumer.getmany(timeout_ms=200, max_records=FETCH_MAX_RECORDS)
                self.assigned = bool(self._consumer.assignment())
                await self._rewind_partitions_whose_log_was_lost()
                if batches and await self._behind() >= GATHER_WHEN_BEHIND:
                    batches = await self._gather(batches)
                if batches:
                    # Everything fetched, all partitions together, in one transaction and one
                    # offset commit: under load the fetch holds a few events of each of a dozen
                    # partitions, and a transaction and a broker round trip per partition was
                    # most of the gateway's time (measured by bench/lag.py).
                    await self._apply_fetched(batches)
                    self._uncommitted.update({tp: messages[-1].offset + 1 for tp, messages in batches.items()})
                idle = not batches
                if self._uncommitted and (idle or time.monotonic() - self._committed_at >= OFFSET_COMMIT_SECONDS):
                    await self._commit_offsets()
                backoff = 0.2
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer %s failed, retrying in %.1fs: %s", self.group_id, backoff, exc)
                if self._consumer is not None:
                    with contextlib.suppress(Exception):
                        await self._consumer.stop()
                    self._consumer = None
                self._uncommitted.clear()  # a new consumer starts from the committed offsets
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    async def _behind(self) -> int:
        """How many records the partitions assigned hold at the broker past those fetched."""
        behind = 0
        for tp in self._consumer.assignment():
            end = self._consumer.highwater(tp)
            if end is not None:
                behind += max(0, end - await self._consumer.position(tp))
        return behind

    async def _gather(self, batches: dict[TopicPartition, list]) -> dict[TopicPartition, list]:
        """More fetches added to ``batches`` (each partition's records in log order), while the
        consumer is behind, up to BATCH_MAX_RECORDS or BATCH_GATHER_SECONDS."""
        batches = {tp: list(messages) for tp, messages in batches.items()}
        count = sum(len(messages) for messages in batches.values())
        deadline = time.monotonic() + BATCH_GATHER_SECONDS
        while (
            count < BATCH_MAX_RECORDS
            and (left := deadline - time.monotonic()) > 0
            and await self._behind() >= GATHER_WHEN_BEHIND
        ):
            more = await self._consumer.getmany(
                timeout_ms=int(left * 1000), max_records=min(FETCH_MAX_RECORDS, BATCH_MAX_RECORDS - count)
            )
            for tp, messages in more.items():
                batches.setdefault(tp, []).extend(messages)
                count += len(messages)
        return batches

    async def _commit_offsets(self) -> None:
        """Commits the applied offsets of the partitions still assigned (a rebalance may have
        moved the others: their new holder reads them again from the last commit)."""
        assigned = self._consumer.assignment()
        offsets = {tp: offset for tp, offset in self._uncommitted.items() if tp in assigned}
        self._uncommitted.clear()
        self._committed_at = time.monotonic()
        if offsets:
            await self._consumer.commit(offsets)

    async def _rewind_partitions_whose_log_was_lost(self) -> None:
        """A position beyond the end of the log means the broker lost it (a memory-only restart):
        read that partition again from its beginning; the inbox makes the replay harmless."""
        for tp in self._consumer.assignment():
            end = self._consumer.highwater(tp)
            if end is not None and await self._consumer.position(tp) > end:
                log.warning(
                    "log of %s[%d] is shorter than our position; reading it from the start", tp.topic, tp.partition
                )
                await self._consumer.seek_to_beginning(tp)
                self._uncommitted.pop(tp, None)

    async def _apply_fetched(self, batches: dict[TopicPartition, list]) -> None:
        parsed: list[tuple[TopicPartition, object, Envelope]] = []
        for tp, messages in batches.items():
            for message in messages:
                try:
                    parsed.append((tp, message, Envelope.from_json(message.value)))
                except (ValidationError, ValueError, UnicodeDecodeError) as exc:
                    await self._dead_letter(tp.topic, message, f"unparseable: {exc}")
        if not parsed:
            return
        applied = await self._apply_or_split(parsed)
        if self.on_applied:
            self.on_applied(applied)

    async def _apply_or_split(self, items: list[tuple[TopicPartition, object, Envelope]]) -> int:
        """Applies ``items`` in one transaction; when one of them cannot be applied, each half in
        turn (log order kept), down to the culprit alone, which is dead-lettered. A batch of
        thousands finds it in a few dozen transactions, not one per event. Answers how many were
        applied."""
        try:
            async with self.session_factory() as session:
                await self._apply_all(session, items)
                await session.commit()
            return len(items)
        except Exception as exc:
            if len(items) > 1:
                half = len(items) // 2
                return await self._apply_or_split(items[:half]) + await self._apply_or_split(items[half:])
            tp, message, envelope = items[0]
            log.exception("event %s could not be applied", envelope.id)
            await self._dead_letter(tp.topic, message, f"not applicable: {exc}")
            return 0

    async def _apply_all(self, session: AsyncSession, items: list[tuple[TopicPartition, object, Envelope]]) -> None:
        """Applies the events not in the inbox yet, in order, and records them and each
        partition's new position: a fixed number of statements besides the projections'."""
        ids = [envelope.id for _, _, envelope in items]
        seen = set((await session.execute(_SEEN, {"ids": ids})).scalars())
        new: list[tuple[TopicPartition, Envelope]] = []
        last: dict[TopicPartition, tuple[object, Envelope]] = {}
        for tp, message, envelope in items:
            last[tp] = (message, envelope)
            if envelope.id not in seen:  # else applied before, or earlier in this batch (a redelivery)
                seen.add(envelope.id)
                new.append((tp, envelope))
        if new:
            await self.apply(session, [envelope for _, envelope in new])
        # Stamped after the projection ran, right before the commit: the moment the read model
        # holds the events (bench/lag.py measures the lag up to this stamp).
        now = utcnow()
        inbox_rows = [(envelope.id, tp.topic, now) for tp, envelope in new]
        insert_at_commit(session, InboxEvent.__table__, ("event_id", "topic", "received_at"), inbox_rows)
        # Every partition's new position (an upsert: a partition's first event creates its row).
        insert_at_commit(
            session,
            ConsumerPosition.__table__,
            POSITION_COLUMNS,
            [
                (tp.topic, tp.partition, message.offset, envelope.id, envelope.type, envelope.time, now)
                for tp, (message, envelope) in last.items()
            ],
            POSITION_UPSERT,
        )

    async def _dead_letter(self, topic: str, message, reason: str) -> None:
        log.warning("dead-lettering a message of %s: %s", topic, reason)
        if self._dlq_producer is None:
            self._dlq_producer = make_producer(self.platform)
            await self._dlq_producer.start()
        await self._dlq_producer.send_and_wait(
            f"{topic}.dlq",
            message.value,
            key=message.key,
            # The record's own headers stay (its content-type says how to read it), the reason added.
            headers=[
                *(header for header in message.headers or () if not header[0].startswith("dlq-")),
                ("dlq-reason", reason[:1000].encode()),
                ("dlq-offset", str(message.offset).encode()),
            ],
        )
