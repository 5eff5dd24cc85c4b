"""The live consumer's batches: fetches gathered while it is behind, a failing batch split down
to its culprit (no broker, no database: the consumer's own logic)."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

from aiokafka import TopicPartition

from zhichan.events import consumer as consumer_module
from zhichan.events.consumer import EventConsumer
from zhichan.settings import PlatformSettings

TP = TopicPartition("zhichan.agencies", 0)


class FakeKafka:
    """A partition of ``end`` records, handed out ``per_fetch`` at a time."""

    def __init__(self, end: int, per_fetch: int) -> None:
        self.end, self.per_fetch, self.next = end, per_fetch, 0

    def assignment(self):
        return {TP}

    def highwater(self, tp):
        return self.end

    async def position(self, tp):
        return self.next

    async def getmany(self, timeout_ms: int, max_records: int):
        count = min(self.per_fetch, max_records, self.end - self.next)
        messages = [SimpleNamespace(offset=n) for n in range(self.next, self.next + count)]
        self.next += count
        return {TP: messages} if messages else {}


def consumer_on(kafka: FakeKafka) -> EventConsumer:
    consumer = EventConsumer(PlatformSettings(dev_mode=True), (TP.topic,), "g", None, None)
    consumer._consumer = kafka
    return consumer


async def test_far_behind_fetches_are_gathered_into_one_batch_of_at_most_the_maximum(monkeypatch):
    monkeypatch.setattr(consumer_module, "BATCH_MAX_RECORDS", 2500)
    kafka = FakeKafka(end=10_000, per_fetch=1000)
    consumer = consumer_on(kafka)
    first = await kafka.getmany(0, 1000)
    assert await consumer._behind() == 9000
    batch = await consumer._gather(first)
    assert [m.offset for m in batch[TP]] == list(range(2500)), "in log order, no more than the maximum"


async def test_a_few_records_behind_the_fetch_is_applied_as_it_came():
    kafka = FakeKafka(end=1010, per_fetch=1000)
    consumer = consumer_on(kafka)
    first = await kafka.getmany(0, 1000)
    assert await consumer._behind() == 10 < consumer_module.GATHER_WHEN_BEHIND
    assert await consumer._gather(first) == first  # and _run does not even ask


async def test_a_failing_batch_is_split_down_to_the_culprit_the_others_applied_in_order(monkeypatch):
    consumer = consumer_on(FakeKafka(0, 0))
    applied, transactions, dead = [], [], []

    @contextlib.asynccontextmanager
    async def session_factory():
        pending = []

        async def commit():
            applied.extend(pending)

        transactions.append(1)
        yield SimpleNamespace(pending=pending, commit=commit)

    async def apply_all(session, items):
        if any(envelope.id == "e37" for _tp, _m, envelope in items):
            raise ValueError("cannot be applied")
        session.pending.extend(envelope.id for _tp, _m, envelope in items)

    async def dead_letter(topic, message, reason):
        dead.append((message.offset, reason))

    consumer.session_factory = session_factory
    monkeypatch.setattr(consumer, "_apply_all", apply_all)
    monkeypatch.setattr(consumer, "_dead_letter", dead_letter)
    items = [(TP, SimpleNamespace(offset=n), SimpleNamespace(id=f"e{n}")) for n in range(100)]
    assert await consumer._apply_or_split(items) == 99
    assert applied == [f"e{n}" for n in range(100) if n != 37]
    assert dead == [(37, "not applicable: cannot be applied")]
    assert len(transactions) <= 2 * 7 + 1, "a few per halving, not one per event"
