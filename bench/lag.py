"""Event lag: a write's commit → the gateway's read model holding it, under a steady write rate
across the services, against one bare aiokafka produce → consume on the same broker.

Method: every write's event carries its ``time``, stamped inside the service's transaction just
before the commit, and stored as the outbox row's ``created_at``. The gateway stamps the inbox
row's ``received_at`` while applying the event, in the same transaction that moves the read
model's series (the metric), committed right after. Lag = received_at − created_at, per event,
joined on the event id; both stamps come from the same machine clock."""

from __future__ import annotations

import asyncio
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.bodies import PATHS
from bench.common import percentile, run_load
from zhichan.events.consumer import FETCH_MAX_WAIT_MS
from zhichan.stack import Stack

SERVICES_LOADED = {"agencies": "agency", "enforcement": "case", "financing": "pledge"}


def measure_platform(stack: Stack, rate: float, seconds: float) -> dict:
    targets = [{"url": f"{stack.url(svc)}{PATHS[kind]}", "kind": kind} for svc, kind in SERVICES_LOADED.items()]
    # The same stack serves several rates one after the other: only this rate's events count.
    earlier = {event_id for svc in SERVICES_LOADED for (event_id,) in stack.fetch(svc, "SELECT event_id FROM outbox")}
    result = run_load(
        # Serial numbers past the earlier rates' writes: unique names and credit codes.
        {"mode": "paced", "targets": targets, "rate": rate, "seconds": seconds, "serial_start": len(earlier) + 1},
        timeout=seconds * 4 + 300,  # an overloaded platform answers late; the run still ends
    )
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
    }


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
