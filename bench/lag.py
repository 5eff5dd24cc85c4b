"""Event lag: a write's commit → the gateway's read model holding it, under a steady write rate
across the services, against one bare aiokafka produce → consume on the same broker.

Method: every write's event carries its ``time``, stamped inside the service's transaction just
before the commit, and stored as the outbox row's ``created_at``. The gateway stamps the inbox
row's ``received_at`` while applying the event, in the same transaction that moves the read
model's series (the metric), committed right after. Lag = received_at − created_at, per event,
joined on the event id; both stamps come from the same machine clock."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.bodies import PATHS
from bench.common import percentile, run_load
from zhichan.events.consumer import FETCH_MAX_WAIT_MS
from zhichan.events.envelope import topic_of
from zhichan.stack import Stack

SERVICES_LOADED = {"agencies": "agency", "enforcement": "case", "financing": "pledge"}


def measure_platform(stack: Stack, rate: float, seconds: float) -> dict:
    targets = [{"url": f"{stack.url(svc)}{PATHS[kind]}", "kind": kind} for svc, kind in SERVICES_LOADED.items()]
    # The same stack serves several rates one after the other: only this rate's events count.
    earlier = {event_id for svc in SERVICES_LOADED for (event_id,) in stack.fetch(svc, "SELECT event_id FROM outbox")}
    observer = _Observer(stack.broker.bootstrap, [topic_of(svc) for svc in SERVICES_LOADED])
    try:
        result = run_load(
            # Serial numbers past the earlier rates' writes: unique names and credit codes.
            {"mode": "paced", "targets": targets, "rate": rate, "seconds": seconds, "serial_start": len(earlier) + 1},
            timeout=seconds * 4 + 300,  # an overloaded platform answers late; the run still ends
        )
    finally:
        seen = observer.stop()
    written = {}
    for svc in SERVICES_LOADED:
        for event_id, created_at in stack.fetch(svc, "SELECT event_id, created_at FROM outbox"):
            if event_id not in earlier:
                written[event_id] = _as_datetime(created_at)
    deadline = time.monotonic() + 60
    received: dict = {}
    while time.monotonic() < deadline:
        received = {
            event_id: _as_datetime(at)
            for event_id, at in stack.fetch("gateway", "SELECT event_id, received_at FROM inbox")
            if event_id in written
        }
        if len(received) >= len(written):
            break
        time.sleep(0.5)
    lags = sorted((received[e] - written[e]).total_seconds() * 1000 for e in received)
    # Where the time goes: commit → the relay's send (the record's timestamp, ms) → the record
    # read by a bare consumer of the topic; and the record's send → the gateway's apply.
    relayed = sorted(seen[e][0] * 1000 - written[e].timestamp() * 1000 for e in written if e in seen)
    on_bus = sorted((seen[e][1] - seen[e][0]) * 1000 for e in written if e in seen)
    applied = sorted((received[e].timestamp() - seen[e][0]) * 1000 for e in received if e in seen)
    # Whether the platform kept up: the lag of the run's first third of writes against its last
    # third (by commit time). Kept up, they are alike; falling behind, the last grows with the run.
    in_order = [(received[e] - written[e]).total_seconds() * 1000 for e in sorted(received, key=written.__getitem__)]
    third = len(in_order) // 3
    first, last = sorted(in_order[:third]), sorted(in_order[-third:]) if third else []
    return {
        "rate": rate,
        "seconds": seconds,
        "writes_ok": sum(t["ok"] for t in result["targets"]),
        "write_errors": sum(v for t in result["targets"] for k, v in t["statuses"].items() if k != "201"),
        "failures": [f for t in result["targets"] for f in t["failures"]][:3],
        "events": len(written),
        "applied": len(received),
        "p50": percentile(lags, 50),
        "p99": percentile(lags, 99),
        "max": lags[-1] if lags else float("nan"),
        "stages": {
            "commit_to_send": {"p50": percentile(relayed, 50), "p99": percentile(relayed, 99)},
            "send_to_bare_consumer": {"p50": percentile(on_bus, 50), "p99": percentile(on_bus, 99)},
            "send_to_gateway_apply": {"p50": percentile(applied, 50), "p99": percentile(applied, 99)},
        },
        "first_third_p50": percentile(first, 50),
        "last_third_p50": percentile(last, 50),
    }


class _Observer:
    """A bare consumer of the services' topics in a thread of its own: when each event's record
    was sent (its timestamp) and when it could be read."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        self.seen: dict[str, tuple[float, float]] = {}  # event id → (record timestamp, read at), epoch s
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._run(bootstrap, topics),), daemon=True)
        self._thread.start()
        self._ready.wait(30)

    async def _run(self, bootstrap: str, topics: list[str]) -> None:
        consumer = AIOKafkaConsumer(
            *topics, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="latest",
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        )  # fmt: skip
        await consumer.start()
        try:
            while not consumer.assignment():
                await consumer.getmany(timeout_ms=50)
            for tp in consumer.assignment():
                await consumer.position(tp)  # positioned at the end before the load starts
            self._ready.set()
            while not self._stopping.is_set():
                batches = await consumer.getmany(timeout_ms=100)
                now = time.time()
                for messages in batches.values():
                    for m in messages:
                        self.seen[orjson.loads(m.value)["id"]] = (m.timestamp / 1000, now)
        finally:
            self._ready.set()
            await consumer.stop()

    def stop(self) -> dict[str, tuple[float, float]]:
        time.sleep(2)  # the last writes' records
        self._stopping.set()
        self._thread.join(30)
        return self.seen


def _as_datetime(value):
    from datetime import UTC, datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _raw_kafka(bootstrap: str, rate: float, seconds: float) -> dict:
    topic = f"bench.lag.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="latest",
        group_id=None,
        fetch_max_wait_ms=FETCH_MAX_WAIT_MS,  # as the platform's consumers fetch
    )
    await producer.start()
    await consumer.start()
    lags: list[float] = []
    total = int(rate * seconds)

    async def consume() -> None:
        while len(lags) < total:
            batches = await consumer.getmany(timeout_ms=200)
            now = time.perf_counter()
            for messages in batches.values():
                lags.extend((now - float(m.value)) * 1000 for m in messages)

    try:
        await asyncio.sleep(0.5)  # the consumer has its partition assigned and positioned at the end
        task = asyncio.create_task(consume())
        started = time.perf_counter()
        for n in range(total):
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await producer.send(topic, str(time.perf_counter()).encode())
        await asyncio.wait_for(task, 30)
    finally:
        await producer.stop()
        await consumer.stop()
    lags.sort()
    return {
        "rate": rate,
        "seconds": seconds,
        "messages": len(lags),
        "p50": percentile(lags, 50),
        "p99": percentile(lags, 99),
        "max": lags[-1] if lags else float("nan"),
    }


def measure_raw_kafka(bootstrap: str, rate: float, seconds: float) -> dict:
    return asyncio.run(_raw_kafka(bootstrap, rate, seconds))
