"""The outbox relay and the consumer against the real embedded broker."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import func, select

from zhichan import migrate
from zhichan.db import make_engine, make_session_factory
from zhichan.events import consumer as consumer_module
from zhichan.events import record_event
from zhichan.events import relay as relay_module
from zhichan.events.broker import ensure_topics, make_producer
from zhichan.events.consumer import ConsumerPosition, EventConsumer, InboxEvent, each
from zhichan.events.envelope import CONTENT_TYPE, kafka_headers
from zhichan.events.outbox import OutboxEvent
from zhichan.events.relay import OutboxRelay
from zhichan.testing import database_url, platform_for_tests, wait_for

pytestmark = pytest.mark.e2e
AGENCIES = Path(__file__).resolve().parents[3] / "services" / "agencies"
GATEWAY = Path(__file__).resolve().parents[3] / "gateway"


@pytest.fixture
async def platform(broker, tmp_path):
    platform = platform_for_tests(tmp_path, broker.bootstrap)
    await ensure_topics(platform)
    return platform


@pytest.fixture
async def outbox_db(tmp_path):
    """A service database (the agencies schema carries the kernel's outbox tables)."""
    async with database_url(tmp_path, "svc") as url:
        await asyncio.to_thread(migrate.upgrade, AGENCIES, url)
        engine = make_engine(url)
        yield engine
        await engine.dispose()


@pytest.fixture
async def inbox_db(tmp_path):
    async with database_url(tmp_path, "reader") as url:
        await asyncio.to_thread(migrate.upgrade, GATEWAY, url)
        engine = make_engine(url)
        yield make_session_factory(engine)
        await engine.dispose()


async def write_events(factory, count: int, key: str = "agg-1", start: int = 1) -> None:
    async with factory() as session:
        for n in range(start, start + count):
            record_event(
                session,
                service="agencies",
                aggregate="probe",
                verb="changed",
                aggregate_id=key,
                region="320311",
                version=n,
                data={"n": n},
                actor="test",
            )
        await session.commit()


async def read_topic(bootstrap: str, topic: str, count: int, key: str | None = None) -> list[dict]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    found: list[dict] = []
    try:

        async def enough():
            batches = await consumer.getmany(timeout_ms=200)
            for messages in batches.values():
                for m in messages:
                    if key is None or m.key == key.encode():
                        found.append({"value": m.value, "headers": dict(m.headers)})
            return len(found) >= count

        await wait_for(enough, timeout=20, what=f"{count} messages on {topic}")
    finally:
        await consumer.stop()
    return found


async def test_relay_publishes_in_order_and_marks_sent(platform, outbox_db, broker):
    woken = []
    relay_holder = {}
    factory = make_session_factory(outbox_db, on_commit=lambda: (woken.append(1), relay_holder["r"].wake()))
    relay = OutboxRelay("agencies", factory, platform)
    relay_holder["r"] = relay
    await relay.start()
    try:
        await write_events(factory, 20, key="ordered-1")
        messages = await read_topic(broker.bootstrap, "zhichan.agencies", 20, key="ordered-1")
        assert [json.loads(m["value"])["data"]["n"] for m in messages] == list(range(1, 21))
        assert woken, "the commit woke the relay"
        # Structured mode, said by the header the Kafka binding requires, and no ce_ header
        # (a receiver takes any ce_ header for binary mode); the body alone carries the type.
        assert all(m["headers"] == {"content-type": CONTENT_TYPE.encode()} for m in messages)

        async def all_sent():
            async with factory() as session:
                unsent = await session.execute(select(func.count()).where(OutboxEvent.sent_at.is_(None)))
                return unsent.scalar_one() == 0

        await wait_for(all_sent, what="rows marked sent")
    finally:
        await relay.stop()


async def test_sent_rows_are_marked_in_batches_and_resent_after_a_crash(platform, outbox_db, broker, monkeypatch):
    """Rows are marked sent once per interval, not after every send; until then the relay reads
    past what it sent. Stopping marks them; a relay that died before its mark sends them again
    (at-least-once: consumers dedupe)."""
    monkeypatch.setattr(relay_module, "MARK_SENT_SECONDS", 3600)
    factory = make_session_factory(outbox_db)

    async def unsent() -> int:
        async with factory() as session:
            return (await session.execute(select(func.count()).where(OutboxEvent.sent_at.is_(None)))).scalar_one()

    crashed = OutboxRelay("agencies", factory, platform)
    await crashed._hold_lease()
    crashed._producer = make_producer(platform)
    await crashed._producer.start()
    try:
        for n in (1, 2, 3):
            await write_events(factory, 1, key="batched", start=n)
            assert await crashed.publish_pending() == 1, "only the new row: the ones sent are not read again"
        assert await unsent() == 3, "not marked yet"
        assert await crashed.publish_pending() == 0
    finally:
        await crashed._producer.stop()  # dies without stop(): no mark
        await crashed._close_reader()  # as its process's end would
    await crashed._release_lease()

    relay = OutboxRelay("agencies", factory, platform)
    await relay.start()
    try:
        await write_events(factory, 1, key="batched", start=4)
        messages = await read_topic(broker.bootstrap, "zhichan.agencies", 7, key="batched")
        assert [json.loads(m["value"])["data"]["n"] for m in messages] == [1, 2, 3, 1, 2, 3, 4]

        async def all_four_sent() -> bool:
            return relay.published == 4

        await wait_for(all_four_sent, what="the restarted relay sent all four")
        assert await unsent() == 4
    finally:
        await relay.stop()
    assert await unsent() == 0, "stopping marks what was sent"


async def test_only_one_relay_of_a_service_publishes_at_a_time(platform, outbox_db):
    factory = make_session_factory(outbox_db)
    first, second = OutboxRelay("agencies", factory, platform), OutboxRelay("agencies", factory, platform)
    assert await first._hold_lease()
    assert not await second._hold_lease()
    await first.stop()  # releases the lease
    assert await second._hold_lease()
    await second.stop()


async def test_consumer_applies_once_and_dead_letters_garbage(platform, outbox_db, inbox_db, broker):
    applied: list[int] = []

    async def apply(session, envelope):
        applied.append(envelope.data["n"])

    factory = make_session_factory(outbox_db)
    await write_events(factory, 3, key="dedupe-1", start=100)
    async with factory() as session:
        rows = (await session.execute(select(OutboxEvent).order_by(OutboxEvent.id))).scalars().all()
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    await producer.start()
    topic = "zhichan.financing"  # a topic of its own for this test
    try:
        for n, row in enumerate([*rows, rows[0], rows[1]]):  # two delivered twice
            # records as published before the content-type header, and as published since: both read
            headers = kafka_headers() if n % 2 else None
            await producer.send_and_wait(topic, row.envelope.encode(), key=b"dedupe-1", headers=headers)
        await producer.send_and_wait(topic, b"{not json", key=b"dedupe-1")
        await producer.send_and_wait(topic, rows[2].envelope.encode(), key=b"dedupe-1")
    finally:
        await producer.stop()
    consumer = EventConsumer(platform, (topic,), "test-dedupe", inbox_db, each(apply))
    await consumer.start()
    try:

        async def consumed_everything():
            async with inbox_db() as session:
                return (await session.execute(select(func.count()).select_from(InboxEvent))).scalar_one() == 3 and len(
                    applied
                ) == 3

        await wait_for(consumed_everything, timeout=20, what="three distinct events applied")
        assert sorted(applied) == [100, 101, 102]
        dead = await read_topic(broker.bootstrap, f"{topic}.dlq", 1)
        assert dead[0]["value"] == b"{not json"
        assert dead[0]["headers"]["dlq-reason"].startswith(b"unparseable")
    finally:
        await consumer.stop()


async def test_consumer_dead_letters_only_the_event_its_projection_rejects_and_moves_every_partition(
    platform, outbox_db, inbox_db, broker
):
    calls: list[list[int]] = []

    async def apply(session, envelopes):
        numbers = [e.data["n"] for e in envelopes]
        if 203 in numbers:
            raise ValueError("203 is poison")
        calls.append(numbers)

    factory = make_session_factory(outbox_db)
    for n in range(200, 208):  # a key each: spread over the topic's partitions
        await write_events(factory, 1, key=f"spread-{n}", start=n)
    async with factory() as session:
        rows = (await session.execute(select(OutboxEvent).order_by(OutboxEvent.id))).scalars().all()
    topic = "zhichan.enforcement"  # a topic of its own for this test
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    await producer.start()
    try:
        sent = {
            row.key: await producer.send_and_wait(
                topic, row.envelope.encode(), key=row.key.encode(), headers=kafka_headers()
            )
            for row in rows
        }
    finally:
        await producer.stop()
    assert len({meta.partition for meta in sent.values()}) > 1, "the keys spread over several partitions"
    applicable = [meta for key, meta in sent.items() if key != "spread-203"]
    consumer = EventConsumer(platform, (topic,), "test-batches", inbox_db, apply)
    await consumer.start()
    try:

        async def applied_all_but_the_poison():
            return sorted(n for numbers in calls for n in numbers) == [200, 201, 202, 204, 205, 206, 207]

        await wait_for(applied_all_but_the_poison, timeout=20, what="every event but the poison applied")
        dead = await read_topic(broker.bootstrap, f"{topic}.dlq", 1)
        assert json.loads(dead[0]["value"])["data"]["n"] == 203
        assert dead[0]["headers"]["dlq-reason"].startswith(b"not applicable")
        assert dead[0]["headers"]["content-type"] == CONTENT_TYPE.encode(), "the record's own headers stay"
        async with inbox_db() as session:
            inbox = (await session.execute(select(func.count()).select_from(InboxEvent))).scalar_one()
            positions = dict((await session.execute(select(ConsumerPosition.partition, ConsumerPosition.offset))).all())
        assert inbox == 7  # the poison is not recorded as applied
        # Each partition's position is its last event applied, whichever fetch brought it.
        assert positions == {
            m.partition: max(a.offset for a in applicable if a.partition == m.partition) for m in applicable
        }
    finally:
        await consumer.stop()


async def test_offsets_are_committed_once_idle_and_events_after_a_crash_are_delivered_again_not_reapplied(
    platform, outbox_db, inbox_db, broker, monkeypatch
):
    monkeypatch.setattr(consumer_module, "OFFSET_COMMIT_SECONDS", 3600)  # only going idle commits
    topic, group = "zhichan.targets", "test-offsets"  # a topic of its own for this test
    applied: list[int] = []

    async def apply(session, envelope):
        applied.append(envelope.data["n"])

    async def publish(start: int, count: int) -> None:
        factory = make_session_factory(outbox_db)
        await write_events(factory, count, key="offsets", start=start)
        async with factory() as session:
            rows = (await session.execute(select(OutboxEvent).where(OutboxEvent.key == "offsets"))).scalars().all()
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
        await producer.start()
        try:
            for row in sorted(rows, key=lambda r: r.id)[-count:]:
                await producer.send_and_wait(topic, row.envelope.encode(), key=b"offsets")
        finally:
            await producer.stop()

    async def committed() -> int:
        reader = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=group, enable_auto_commit=False)
        await reader.start()
        try:
            partitions = [TopicPartition(topic, p) for p in reader.partitions_for_topic(topic) or ()]
            return sum([await reader.committed(tp) or 0 for tp in partitions])
        finally:
            await reader.stop()

    await publish(300, 3)
    first = EventConsumer(platform, (topic,), group, inbox_db, each(apply))
    await first.start()

    async def first_three_committed():
        return await committed() == 3

    await wait_for(first_three_committed, timeout=20, what="the offsets committed once the consumer is idle")
    assert applied == [300, 301, 302]

    async def no_commit() -> None:  # the process dies before its next offset commit
        pass

    monkeypatch.setattr(first, "_commit_offsets", no_commit)
    await publish(303, 2)

    async def five_applied():
        return len(applied) == 5

    await wait_for(five_applied, timeout=20, what="the next two applied")
    first._task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first._task
    await first._consumer.stop()  # leaves the group without committing
    assert await committed() == 3

    second = EventConsumer(platform, (topic,), group, inbox_db, each(apply))
    await second.start()
    try:

        async def all_five_committed():
            return await committed() == 5

        await wait_for(all_five_committed, timeout=30, what="the second consumer read the two again")
        assert applied == [300, 301, 302, 303, 304], "delivered again, applied once"
    finally:
        await second.stop()
