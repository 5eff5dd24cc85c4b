"""``zhichan gateway rebuild``: drop the read model and replay every topic from the beginning.

Run it with the gateway stopped. Since every event carries its aggregate's full state, the
replay applies only the newest event of each aggregate within a chunk of the log (the older
ones would be replaced anyway); every event still lands in the inbox and the recent events, so
the views end up exactly as the live consumer left them, and a gateway started afterwards
ignores whatever it is sent again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError
from sqlalchemy.dialects import postgresql, sqlite

from gateway.models import RecentEvent
from gateway.projections import apply_event, is_kept, recent_event
from gateway.settings import GatewaySettings
from zhichan import migrate
from zhichan.clock import utcnow
from zhichan.db import make_engine, make_session_factory
from zhichan.events.broker import ALL_TOPICS, ensure_topics
from zhichan.events.consumer import FETCH_MAX_WAIT_MS, ConsumerPosition, InboxEvent
from zhichan.events.envelope import Envelope
from zhichan.settings import PlatformSettings

log = logging.getLogger("zhichan.gateway.rebuild")
GATEWAY_DIR = Path(__file__).parent
CHUNK = 20_000
QUIET_POLLS = 5  # polls of 200 ms with nothing new: the log is read to its end


@dataclass
class RebuildReport:
    events: int
    applied: int
    unparseable: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def rebuild(platform: PlatformSettings, settings: GatewaySettings) -> RebuildReport:
    started = time.perf_counter()
    url = settings.resolved_database_url(platform)
    await asyncio.to_thread(migrate.downgrade, GATEWAY_DIR, url, "base")
    await asyncio.to_thread(migrate.upgrade, GATEWAY_DIR, url)
    engine = make_engine(url)
    session_factory = make_session_factory(engine)
    await ensure_topics(platform)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=platform.kafka_bootstrap,
        enable_auto_commit=False,
        group_id=None,
        # aiokafka's default resets an out-of-range position to the log's END, which would end
        # the replay early without a word; a replay always starts over from the beginning.
        auto_offset_reset="earliest",
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS,  # Tansu holds a fetch for its whole wait
        max_poll_records=5000,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    await consumer.start()
    totals = RebuildReport(0, 0, 0, 0.0)
    try:
        # A consumer that subscribes to nothing knows no topic's partitions until it asks:
        # without this, topics missing from its first metadata were silently left out.
        await consumer.topics()
        partitions = [
            TopicPartition(topic, p) for topic in ALL_TOPICS for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        chunk: list[tuple[TopicPartition, object]] = []
        # The log ends where the reported end offsets say AND nothing more arrives for a while:
        # the embedded Tansu reports end offsets lower than what it serves when producers batch.
        quiet_polls = 0
        while quiet_polls < QUIET_POLLS or [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(timeout_ms=200, max_records=5000)
            for tp, messages in batches.items():
                chunk += [(tp, m) for m in messages]
            quiet_polls = 0 if batches else quiet_polls + 1
            if len(chunk) >= CHUNK:
                await _apply_chunk(session_factory, chunk, totals)
                chunk = []
        if chunk:
            await _apply_chunk(session_factory, chunk, totals)
    finally:
        await consumer.stop()
        await engine.dispose()
    totals.seconds = time.perf_counter() - started
    return totals


async def _apply_chunk(session_factory, chunk, totals: RebuildReport) -> None:
    newest: dict[str, Envelope] = {}
    ordered: list[Envelope] = []  # events that must all be applied, in log order (regions, reports)
    seen: list[tuple[TopicPartition, object, Envelope]] = []
    for tp, message in chunk:
        try:
            envelope = Envelope.from_json(message.value)
        except (ValidationError, ValueError):
            totals.unparseable += 1
            continue
        seen.append((tp, message, envelope))
        if not is_kept(envelope):
            continue
        if envelope.service == "targets" and envelope.aggregate != "plan":
            ordered.append(envelope)  # regions and progress reports: each event is a record
        else:
            key = f"{envelope.service}/{envelope.aggregate}/{envelope.aggregate_id}"
            if key not in newest or envelope.aggregateversion > newest[key].aggregateversion:
                newest[key] = envelope
    async with session_factory() as session:
        unique = {e.id: (tp, e) for tp, _m, e in seen}
        for envelope in [*ordered, *newest.values()]:
            await apply_event(session, envelope, remember=False)
        # An event published twice (the relay is at-least-once) is in the log twice: keep it once.
        await _insert_ignoring_duplicates(
            session,
            InboxEvent,
            [
                {"event_id": event_id, "topic": tp.topic, "received_at": utcnow()}
                for event_id, (tp, _e) in unique.items()
            ],
        )
        await _insert_ignoring_duplicates(
            session, RecentEvent, [recent_event(e).model_dump() for _tp, e in unique.values() if is_kept(e)]
        )
        await _record_positions(session, seen)
        await session.commit()
    totals.events += len(chunk)
    totals.applied += len(ordered) + len(newest)


async def _insert_ignoring_duplicates(session, table, rows: list[dict]) -> None:
    if not rows:
        return
    dialect_insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    await session.execute(dialect_insert(table).on_conflict_do_nothing(), rows)


async def _record_positions(session, seen) -> None:
    last: dict[tuple[str, int], tuple[object, Envelope]] = {}
    for tp, message, envelope in seen:
        last[(tp.topic, tp.partition)] = (message, envelope)
    for (topic, partition), (message, envelope) in last.items():
        position = await session.get(ConsumerPosition, (topic, partition))
        if position is None:
            position = ConsumerPosition(
                topic=topic,
                partition=partition,
                offset=0,
                event_id="",
                event_type="",
                event_time=envelope.time,
                applied_at=utcnow(),
            )
            session.add(position)
        position.offset, position.event_id, position.event_type = message.offset, envelope.id, envelope.type
        position.event_time, position.applied_at = envelope.time, utcnow()
