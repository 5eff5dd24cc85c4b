"""Custom regions replicated from region events into a service's database and registry."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from aiokafka import TopicPartition
from sqlmodel import SQLModel

from zhichan.db import make_engine, make_session_factory
from zhichan.events.consumer import ConsumerPosition, EventConsumer, InboxEvent, each
from zhichan.events.envelope import Envelope
from zhichan.events.retention import prune_inbox
from zhichan.region_sync import (
    REGION_DEFINED,
    REGION_FETCH_MAX_WAIT_MS,
    TARGETS_TOPIC,
    CustomRegion,
    RegionState,
    RegionSync,
    apply_region_event,
)
from zhichan.regions import registry
from zhichan.settings import process_settings
from zhichan.testing import platform_for_tests

TABLES = [CustomRegion.__table__, InboxEvent.__table__, ConsumerPosition.__table__]


@pytest.fixture
async def sessions(tmp_path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'replica.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: SQLModel.metadata.create_all(sync, tables=TABLES))
    yield make_session_factory(engine)
    await engine.dispose()


def defined(code: str, name: str, parent: str, version: int = 1, level: str = "zone") -> Envelope:
    state = RegionState(
        code=code, name=name, level=level, parent=parent, version=version, defined_at=datetime(2025, 1, 1, tzinfo=UTC)
    )
    return Envelope(
        source="/zhichan/targets",
        type=REGION_DEFINED,
        subject=f"region/{code}",
        region=code,
        aggregateversion=version,
        data=state.model_dump(mode="json"),
    )


async def apply(sessions, envelope: Envelope) -> None:
    async with sessions() as session:
        await apply_region_event(session, envelope)
        await session.commit()


async def test_a_defined_region_becomes_known_and_is_kept(sessions):
    await apply(sessions, defined("321100-ETDZ", "镇江经济技术开发区", "321100"))
    assert "321100-ETDZ" in registry().descendants("320000")
    async with sessions() as session:
        assert (await session.get(CustomRegion, "321100-ETDZ")).name == "镇江经济技术开发区"


async def test_a_child_that_arrives_before_its_parent_waits_for_it(sessions):
    await apply(sessions, defined("321100-ETDZB", "综合保税区", "321100-ETDZ"))
    assert "321100-ETDZB" not in registry()
    await apply(sessions, defined("321100-ETDZ", "镇江经济技术开发区", "321100"))
    assert registry().get("321100-ETDZB").parent == "321100-ETDZ"


async def test_only_a_newer_version_replaces_a_region(sessions):
    await apply(sessions, defined("321100-ETDZ", "新名称", "321100", version=2))
    await apply(sessions, defined("321100-ETDZ", "旧名称", "321100", version=1))
    assert registry().get("321100-ETDZ").name == "新名称"
    await apply(sessions, defined("321100-ETDZ", "更新的名称", "321100", version=3))
    assert registry().get("321100-ETDZ").name == "更新的名称"


async def test_other_events_of_the_topic_are_ignored(sessions):
    other = defined("321100-ETDZ", "x", "321100").model_copy(update={"type": "zhichan.targets.plan.imported.v1"})
    await apply(sessions, other)
    assert "321100-ETDZ" not in registry()


async def test_persisted_regions_are_known_again_after_a_restart(sessions, tmp_path):
    await apply(sessions, defined("420500-HTZ", "宜昌高新区", "420500"))
    registry.cache_clear()  # a new process: only the standard codes
    assert "420500-HTZ" not in registry()
    sync = RegionSync("enforcement")
    state = SimpleNamespace(
        session_factory=sessions, platform=platform_for_tests(tmp_path), settings=process_settings("enforcement")
    )
    app = SimpleNamespace(state=state)
    await sync.start(app)
    try:
        assert registry().get("420500-HTZ").name == "宜昌高新区"
        assert sync.consumer.fetch_max_wait_ms == REGION_FETCH_MAX_WAIT_MS  # rare events: no busy polling
        assert [job.name for job in sync.pruner.jobs] == ["inbox"]  # its inbox is pruned as the gateway's
    finally:
        await sync.stop(app)


async def test_a_region_event_delivered_again_after_its_id_was_pruned_changes_nothing(sessions, tmp_path):
    consumer = EventConsumer(platform_for_tests(tmp_path), (TARGETS_TOPIC,), "r", sessions, each(apply_region_event))

    async def consume(*envelopes: Envelope) -> None:
        items = [(TopicPartition(TARGETS_TOPIC, 0), SimpleNamespace(offset=0), e) for e in envelopes]
        async with sessions() as session:
            await consumer._apply_all(session, items)
            await session.commit()

    older, newer = defined("321100-ETDZ", "旧名称", "321100", 1), defined("321100-ETDZ", "新名称", "321100", 2)
    await consume(older, newer)
    assert await prune_inbox(sessions, timedelta(days=30), now=datetime.now(UTC) + timedelta(days=31)) == 2
    await consume(older)  # the relay sent it again; its id is no longer in the inbox
    assert registry().get("321100-ETDZ").name == "新名称"
    async with sessions() as session:
        assert (await session.get(CustomRegion, "321100-ETDZ")).version == 2
        assert (await session.get(InboxEvent, older.id)) is not None  # remembered again
