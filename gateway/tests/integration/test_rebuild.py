"""``zhichan gateway rebuild`` over a log of several chunks and transactions, against the real
embedded broker: the read model ends as the live consumer leaves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from gateway import rebuild
from gateway.projections import apply_events
from gateway.settings import GatewaySettings
from gateway.tests import events as producer
from gateway.tests.events import case_state
from zhichan.db import make_engine, make_session_factory
from zhichan.events.broker import ensure_topics
from zhichan.events.envelope import Envelope
from zhichan.settings import process_settings
from zhichan.testing import database_url, platform_for_tests

pytestmark = pytest.mark.e2e
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def case_event(n: int, version: int) -> Envelope:
    closed = version == 3
    state = case_state(
        f"C{n}",
        f"2025-02-{n:02d}",
        region="321102" if n % 2 else "321111",
        closed="2025-03-01" if closed else None,
        on_time=True if closed else None,
        # version 2 reports a period overdue: a later version must take it back out
        overdue=[("2025-02-20", None)] if version == 2 else [],
        case_type="counterfeit_patent",
        version=version,
    )
    return producer.case_event(state, event_id=f"ev-{n}-{version}", time=T0 + timedelta(minutes=n * 10 + version))


async def test_a_replay_over_many_chunks_and_transactions_ends_as_the_live_consumer(broker, tmp_path, monkeypatch):
    # Versions 1, 2, 3 of six cases, each later version in a later chunk and transaction (chunks
    # of 4 events, 2 chunks per transaction); one event published twice; one unreadable message.
    events = [case_event(n, v) for v in (1, 2, 3) for n in range(1, 7)]
    log = [e.to_json() for e in events]
    log.insert(9, events[4].to_json())
    log.insert(13, b"{not an envelope")
    monkeypatch.setattr(rebuild, "CHUNK", 4)
    monkeypatch.setattr(rebuild, "CHUNKS_PER_TRANSACTION", 2)
    written, commits = [], []
    write, commit = rebuild._write, rebuild._Writer.commit

    async def counted_write(session, chunk, monthly):
        written.append(chunk.events)
        await write(session, chunk, monthly)

    async def counted_commit(self):
        commits.append(len(written))
        await commit(self)

    monkeypatch.setattr(rebuild, "_write", counted_write)
    monkeypatch.setattr(rebuild._Writer, "commit", counted_commit)
    platform = platform_for_tests(tmp_path, broker.bootstrap)
    await ensure_topics(platform)
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    await producer.start()
    try:
        for value in log:
            await producer.send_and_wait("zhichan.enforcement", value, key=b"C", partition=0)
    finally:
        await producer.stop()

    (tmp_path / "live").mkdir()
    async with (
        database_url(tmp_path, "replayed") as replayed,
        database_url(tmp_path / "live", "gateway", migrated=True) as live,
    ):
        settings = process_settings("gateway", base=GatewaySettings, database_url=replayed)
        report = await rebuild.rebuild(platform, settings)
        assert (report.events, report.unparseable) == (len(log), 1)
        assert written == [4, 4, 4, 4, 4] and commits == [2, 4, 5]

        engine = make_engine(live)
        async with make_session_factory(engine)() as session:
            for event in events:  # one fetch each, as a consumer keeping up would
                await apply_events(session, [event])
            await session.commit()
        await engine.dispose()

        replayed_model, live_model = await read_model(replayed), await read_model(live)
    assert replayed_model["facts"] == live_model["facts"]
    assert replayed_model["daily"] == live_model["daily"] and replayed_model["daily"]
    assert replayed_model["monthly"] == live_model["monthly"] and replayed_model["monthly"]
    assert replayed_model["yearly"] == live_model["yearly"] and replayed_model["yearly"]
    assert replayed_model["recent"] == live_model["recent"]
    assert replayed_model["inbox"] == sorted(e.id for e in events)


async def read_model(url: str) -> dict[str, list]:
    engine = make_engine(url)
    queries = {
        "facts": "SELECT key, version, facts FROM aggregate_facts ORDER BY key",
        "daily": "SELECT series, region, day, dim1, dim2, dim3, dim4, amount FROM series_daily"
        " WHERE amount <> 0 ORDER BY series, region, day, dim1, dim2, dim3, dim4",
        "monthly": "SELECT series, region, month, dim1, dim2, dim3, dim4, amount FROM series_monthly"
        " WHERE amount <> 0 ORDER BY series, region, month, dim1, dim2, dim3, dim4",
        "yearly": "SELECT series, region, year, dim1, dim2, dim3, dim4, amount FROM series_yearly"
        " WHERE amount <> 0 ORDER BY series, region, year, dim1, dim2, dim3, dim4",
        "recent": "SELECT event_id, type, subject, region FROM recent_event ORDER BY event_id",
        "inbox": "SELECT event_id FROM inbox ORDER BY event_id",
    }
    try:
        async with engine.connect() as conn:
            return {
                name: [tuple(row) if len(row) > 1 else row[0] for row in await conn.execute(text(sql))]
                for name, sql in queries.items()
            }
    finally:
        await engine.dispose()
