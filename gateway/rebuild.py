"""``zhichan gateway rebuild``: drop the read model and replay every topic from the beginning.

Run it with the gateway stopped. Since every event carries its aggregate's full state, the
replay applies only the newest event of each aggregate within a chunk of the log (the older
ones would be replaced anyway), and a chunk's states all at once
(:func:`gateway.readmodel.apply_states`). Every event still lands in the inbox, so a gateway
started afterwards ignores whatever it is sent again; the recent events keep what the views can
show. The views end up exactly as the live consumer left them.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import heapq
import logging
import multiprocessing
import os
import time
from collections import defaultdict, deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError
from sqlalchemy import event

from gateway.facts import FACTS_OF
from gateway.models import RecentEvent
from gateway.projections import apply_event, kept_type
from gateway.readmodel import PeriodSums, PreparedStates, apply_prepared, prepare_states
from gateway.retention import prune_recent_events
from gateway.settings import GatewaySettings
from gateway.viewcache import mark_changed
from zhichan import migrate
from zhichan.clock import utcnow
from zhichan.db import insert_many, is_sqlite, make_engine, make_session_factory
from zhichan.events.broker import ALL_TOPICS, ensure_topics
from zhichan.events.consumer import FETCH_MAX_WAIT_MS, ConsumerPosition, InboxEvent
from zhichan.events.envelope import Envelope, read_plain
from zhichan.settings import PlatformSettings

log = logging.getLogger("zhichan.gateway.rebuild")
GATEWAY_DIR = Path(__file__).parent
CHUNK = 20_000
# Chunks written in one transaction. Each chunk's daily sums land all over the series' b-tree, and
# a commit writes every page it dirtied (SQLite: to the WAL, then back into the file): at a city's
# full size a commit per chunk rewrote most of series_daily each time, half the writer's CPU.
CHUNKS_PER_TRANSACTION = 10
MAX_WORKERS = 4
# The pages a transaction of CHUNKS_PER_TRANSACTION dirties must fit, or SQLite spills them early
# and the upserts read pages back: a city's daily sums are ~550 MB.
SQLITE_CACHE_KIB = 1024 * 1024
# The overview shows a region's 20 newest events (its descendants' included): a replay keeps the
# newest GATEWAY_RECENT_EVENTS_PER_REGION (100) of each region, enough for any union of regions,
# instead of every event of a decade; the running gateway prunes to as many (gateway.retention).
KEPT_PER_REGION = GatewaySettings.model_fields["recent_events_per_region"].default
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
    # The read model's branch only: webhook subscriptions and their deliveries are not derived from events.
    await asyncio.to_thread(migrate.downgrade, GATEWAY_DIR, url, "readmodel@base")
    await asyncio.to_thread(migrate.upgrade, GATEWAY_DIR, url)
    engine = make_engine(url)
    if is_sqlite(engine):

        @event.listens_for(engine.sync_engine, "connect")
        def _large_page_cache(dbapi_conn, _record) -> None:
            # SQLite's default 2 MB page cache: a city's daily sums (hundreds of MB) would be read
            # back from the OS for nearly every upsert. The replay is the only one writing here.
            cursor = dbapi_conn.cursor()
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            cursor.close()

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
    workers = _Workers()
    writer = _Writer(session_factory, totals)
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
        chunk: list[tuple[str, int, int, bytes]] = []
        prepare = functools.partial(_prepare, kept_per_region=settings.recent_events_per_region)
        preparing: deque[asyncio.Future[_Prepared]] = deque()

        async def write_oldest() -> None:
            await writer.write(await preparing.popleft())

        # The log ends where the reported end offsets say AND nothing more arrives for a while:
        # the embedded Tansu reports end offsets lower than what it serves when producers batch.
        quiet_polls = 0
        while quiet_polls < QUIET_POLLS or [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(timeout_ms=200, max_records=5000)
            for tp, messages in batches.items():
                chunk += [(tp.topic, tp.partition, m.offset, m.value) for m in messages]
            quiet_polls = 0 if batches else quiet_polls + 1
            while len(chunk) >= CHUNK:  # chunks of CHUNK events, however the fetches came
                # Parsing and turning states into facts is most of a replay's work, and pure:
                # other processes prepare the next chunks while this one writes, in log order.
                full, chunk = chunk[:CHUNK], chunk[CHUNK:]
                preparing.append(asyncio.get_running_loop().run_in_executor(workers.get(), prepare, full))
                if len(preparing) > workers.size:
                    await write_oldest()
        if chunk:
            preparing.append(asyncio.get_running_loop().run_in_executor(workers.get_if_started(), prepare, chunk))
        while preparing:
            await write_oldest()
        await writer.finish()
        await prune_recent_events(session_factory, settings.recent_events_per_region)
    finally:
        await writer.close()
        workers.shutdown()
        await consumer.stop()
        await engine.dispose()
    totals.seconds = time.perf_counter() - started
    return totals


class _Workers:
    """The processes preparing chunks, started with the first full chunk (a log that fits in one
    chunk is prepared in this process: starting interpreters would cost more than it saves)."""

    def __init__(self) -> None:
        self.size = max(1, min(MAX_WORKERS, (os.cpu_count() or 2) - 1))  # one core writes
        self._pool: ProcessPoolExecutor | None = None

    def get(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: this process has an event loop and driver threads running.
            self._pool = ProcessPoolExecutor(self.size, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def get_if_started(self) -> ProcessPoolExecutor | None:
        return self._pool  # None: run_in_executor's default thread pool

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


@dataclass
class _Prepared:
    """A chunk of the log parsed and compacted, its newest states turned into facts: plain data
    a worker process sends back."""

    events: int
    unparseable: int
    one_by_one: list[Envelope]  # regions and reports (each event a record), then plans: in order
    states: PreparedStates  # the newest state of each aggregate kept as facts
    inbox: list[tuple[str, str]]  # (event id, topic) of every event, each once
    recent: list[tuple[str, str, str, str, datetime]]  # the newest few events per region
    positions: dict[tuple[str, int], tuple[int, str, str, datetime]]  # last (offset, id, type, time)


def _prepare(chunk: list[tuple[str, int, int, bytes]], kept_per_region: int = KEPT_PER_REGION) -> _Prepared:
    # A chunk's parsed events are hundreds of thousands of dicts, lists and tuples, none in a
    # cycle, that the cyclic collector traversed again and again as they piled up: ~40 % of the
    # worker's CPU (47 -> 26 us per event). Reference counting frees them all the same.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _prepare_chunk(chunk, kept_per_region)
    finally:
        if collecting:
            gc.enable()


def _prepare_chunk(chunk: list[tuple[str, int, int, bytes]], kept_per_region: int = KEPT_PER_REGION) -> _Prepared:
    newest: dict[str, tuple[int, dict]] = {}  # key → (version, the event's fields)
    ordered: list[bytes | Envelope] = []
    plans: dict[str, tuple[int, bytes | Envelope]] = {}
    inbox: dict[str, str] = {}  # an event published twice (at-least-once relay) is in the log twice
    kept_by_region: dict[str, list[tuple[str, str, str, str, datetime]]] = defaultdict(list)
    positions = {}
    unparseable = 0
    for topic, partition, offset, value in chunk:
        # The plain shape our services write is checked without building the model (half the
        # cost); anything else is the model's to accept or refuse, as the live consumer does.
        fields, model = read_plain(value), None
        if fields is None:
            try:
                model = Envelope.from_json(value)
            except (ValidationError, ValueError):
                unparseable += 1
                continue
            fields = model.model_dump()
        event_id, event_type, event_time = fields["id"], fields["type"], fields["time"]
        positions[(topic, partition)] = (offset, event_id, event_type, event_time)
        if event_id in inbox:
            continue
        inbox[event_id] = topic
        _, service, aggregate, _ = event_type.split(".", 3)
        if not kept_type(event_type, service, aggregate):
            continue
        subject, region = fields["subject"], fields["region"]
        kept_by_region[region].append((event_id, event_type, subject, region, event_time))
        version = fields["aggregateversion"]
        if service == "targets" and aggregate != "plan":
            ordered.append(model or value)
            continue
        key = f"{service}/{aggregate}/{subject.split('/', 1)[1]}"
        if service == "targets":
            if key not in plans or version > plans[key][0]:
                plans[key] = (version, model or value)
        elif key not in newest or version > newest[key][0]:
            newest[key] = (version, fields)
    states = []
    for key, (version, fields) in newest.items():
        _, service, aggregate, _ = fields["type"].split(".", 3)
        states.append((key, version, FACTS_OF[(service, aggregate)](fields["data"])))
    recent = [row for rows in kept_by_region.values() for row in heapq.nlargest(kept_per_region, rows, key=_time_of)]
    return _Prepared(
        events=len(chunk),
        unparseable=unparseable,
        # Regions, reports and plans are few: apply_event takes the model itself.
        one_by_one=[_model(event) for event in [*ordered, *(event for _v, event in plans.values())]],
        states=prepare_states(states),
        inbox=list(inbox.items()),
        recent=recent,
        positions=positions,
    )


def _model(event: bytes | Envelope) -> Envelope:
    return event if isinstance(event, Envelope) else Envelope.from_json(event)


def _time_of(row: tuple[str, str, str, str, datetime]) -> datetime:
    return row[4]


class _Writer:
    """Writes prepared chunks in log order, CHUNKS_PER_TRANSACTION to a transaction; the monthly
    and yearly sums of the whole replay once, in the last one (see :class:`gateway.readmodel.PeriodSums`)."""

    def __init__(self, session_factory, totals: RebuildReport) -> None:
        self._session_factory = session_factory
        self._session = None
        self._chunks = 0
        self._totals = totals
        self._periods = PeriodSums()

    async def _open(self):
        if self._session is None:
            self._session = self._session_factory()
            # A gateway left running would otherwise serve views cached before.
            mark_changed(self._session)
        return self._session

    async def write(self, chunk: _Prepared) -> None:
        await _write(await self._open(), chunk, self._periods)
        self._totals.events += chunk.events
        self._totals.unparseable += chunk.unparseable
        self._totals.applied += len(chunk.one_by_one) + len(chunk.states.rows)
        self._chunks += 1
        if self._chunks % CHUNKS_PER_TRANSACTION == 0:
            await self.commit()

    async def finish(self) -> None:
        # Until this commits the monthly and yearly sums lag the daily ones: a replay runs with the gateway stopped.
        await self._periods.write(await self._open())
        await self.commit()

    async def commit(self) -> None:
        if self._session is not None:
            await self._session.commit()
            await self.close()

    async def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()  # a transaction left open (a failed replay) is rolled back


async def _write(session, chunk: _Prepared, periods: PeriodSums) -> None:
    for envelope in chunk.one_by_one:
        await apply_event(session, envelope)
    # The bulk of the log (cases, pledges, agencies …): every state of the chunk at once.
    await apply_prepared(session, chunk.states, periods)
    received_at = utcnow()
    await insert_many(
        session,
        InboxEvent.__table__,
        ("event_id", "topic", "received_at"),
        [(event_id, topic, received_at) for event_id, topic in chunk.inbox],
        "ON CONFLICT DO NOTHING",
    )
    await insert_many(
        session,
        RecentEvent.__table__,
        ("event_id", "type", "subject", "region", "time"),
        chunk.recent,
        "ON CONFLICT DO NOTHING",
    )
    await _record_positions(session, chunk.positions)


async def _record_positions(session, positions: dict[tuple[str, int], tuple[int, str, str, datetime]]) -> None:
    for (topic, partition), (offset, event_id, event_type, event_time) in positions.items():
        position = await session.get(ConsumerPosition, (topic, partition))
        if position is None:
            position = ConsumerPosition(
                topic=topic,
                partition=partition,
                offset=offset,
                event_id=event_id,
                event_type=event_type,
                event_time=event_time,
                applied_at=utcnow(),
            )
            session.add(position)
        position.offset, position.event_id, position.event_type = offset, event_id, event_type
        position.event_time, position.applied_at = event_time, utcnow()
