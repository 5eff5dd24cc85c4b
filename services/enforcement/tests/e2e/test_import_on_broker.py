"""On the real broker: a file imported in one transaction of several chunks reaches the topic
whole once it is committed, and a refused one sends nothing."""

import json

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import func, select

from services.enforcement.app import create_app
from services.enforcement.tests.integration.test_case_import_api import CLOSED, case_row
from zhichan import record_import
from zhichan.events.broker import ensure_topics
from zhichan.events.envelope import topic_of
from zhichan.events.outbox import OutboxEvent
from zhichan.testing import auth, csv_file, platform_for_tests, running_app, wait_for

pytestmark = pytest.mark.e2e


async def unsent(app) -> int:
    async with app.state.session_factory() as session:
        query = select(func.count()).select_from(OutboxEvent).where(OutboxEvent.sent_at.is_(None))
        return (await session.execute(query)).scalar_one()


async def test_a_file_of_several_chunks_is_published_whole_after_its_commit(tmp_path, broker, monkeypatch):
    monkeypatch.setattr(record_import, "ROWS_PER_CHUNK", 2)
    await ensure_topics(platform_for_tests(tmp_path, broker.bootstrap))
    headers = {**auth("officer", ["420500"]), "Content-Type": "text/csv"}
    rows = [case_row(n, **CLOSED) for n in range(1, 6)]
    async with running_app(create_app, "enforcement", tmp_path, bootstrap=broker.bootstrap, relay=True) as (
        app,
        client,
    ):
        refused = [*rows[:4], case_row(5, **CLOSED, campaign_id="01NOSUCHCAMPAIGN")]
        assert (await client.post("/cases/import", content=csv_file(refused), headers=headers)).status_code == 422
        assert (await client.post("/cases/import", content=csv_file(rows), headers=headers)).status_code == 200

        async def all_sent() -> bool:
            return await unsent(app) == 0

        await wait_for(all_sent, timeout=20, what="the import's events marked sent")
        async with app.state.session_factory() as session:
            written = (await session.execute(select(func.count()).select_from(OutboxEvent))).scalar_one()

    consumer = AIOKafkaConsumer(
        topic_of("enforcement"), bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        seen: list[dict] = []

        async def every_event() -> bool:
            for messages in (await consumer.getmany(timeout_ms=200)).values():
                seen.extend(json.loads(m.value) for m in messages)
            return len(seen) >= written

        await wait_for(every_event, timeout=20, what=f"{written} events on the topic")
    finally:
        await consumer.stop()
    cases = [e for e in seen if e["subject"].startswith("case/")]
    # Filed, investigation started, decided, closed: each case's events, none of the refused file's.
    assert len(cases) == 5 * 4 and len(seen) == written
