"""On the real broker: the targets events arrive with the aggregate's full state, and another
service's RegionSync makes the custom zone valid there."""

import json
from types import SimpleNamespace

import pytest
from aiokafka import AIOKafkaConsumer
from sqlmodel import SQLModel

from services.targets.tests.conftest import service
from services.targets.tests.integration.conftest import DEMO_PLANS, YAML
from zhichan.db import make_engine, make_session_factory
from zhichan.events.broker import ensure_topics
from zhichan.events.consumer import ConsumerPosition, InboxEvent
from zhichan.region_sync import CustomRegion, RegionSync
from zhichan.regions import registry
from zhichan.testing import auth, platform_for_tests, wait_for

pytestmark = pytest.mark.e2e
PLAN = "zhenjiang-etdz-2024-2026"


async def read_topic(bootstrap: str, wanted: int) -> list[dict]:
    """The envelopes on zhichan.targets, once at least ``wanted`` are there."""
    consumer = AIOKafkaConsumer("zhichan.targets", bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        seen: list[dict] = []

        async def enough():
            for messages in (await consumer.getmany(timeout_ms=200)).values():
                seen.extend(json.loads(m.value) | {"_key": m.key.decode()} for m in messages)
            return len(seen) >= wanted

        await wait_for(enough, timeout=20, what=f"{wanted} events on zhichan.targets")
        return seen
    finally:
        await consumer.stop()


async def test_events_carry_full_state_and_regions_reach_other_services(migrated_template, tmp_path, broker):
    platform = platform_for_tests(tmp_path, broker.bootstrap)
    await ensure_topics(platform)
    officer = auth("officer", ["321100"], sub="zj-officer")
    async with service(migrated_template, tmp_path, bootstrap=broker.bootstrap, relay=True) as (app, client):
        source = (DEMO_PLANS / f"{PLAN}.yaml").read_bytes()
        assert (await client.post("/plans/import", content=source, headers={**officer, **YAML})).status_code == 201
        assert (await client.post(f"/plans/{PLAN}/activate", headers=officer)).status_code == 200
        plan = (await client.get(f"/plans/{PLAN}", headers=officer)).json()
        events = await read_topic(broker.bootstrap, 3)

    by_type = {e["type"]: e for e in events}  # one per type here; order holds per key (partition), not across
    region = by_type["zhichan.targets.region.defined.v1"]
    imported = by_type["zhichan.targets.plan.imported.v1"]
    activated = by_type["zhichan.targets.plan.activated.v1"]
    assert [e["type"] for e in events if e["_key"] == PLAN] == [imported["type"], activated["type"]]
    assert (region["_key"], region["data"]["code"], region["data"]["parent"]) == (
        "321100-ETDZ",
        "321100-ETDZ",
        "321100",
    )
    assert (imported["aggregateversion"], activated["aggregateversion"]) == (1, 2)
    assert activated["actor"] == "zj-officer" and activated["specversion"] == "1.0"
    state = {k: v for k, v in plan.items() if k != "region_name"}
    assert activated["data"] == json.loads(json.dumps(state))  # the whole plan, as the API shows it
    assert len(imported["data"]["indicators"]) == 16 and len(imported["data"]["tasks"]) == 23

    # Another service, starting from nothing: its RegionSync consumes the region event.
    registry.cache_clear()
    assert "321100-ETDZ" not in registry()
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'enforcement.db'}")
    async with engine.begin() as conn:
        tables = [CustomRegion.__table__, InboxEvent.__table__, ConsumerPosition.__table__]
        await conn.run_sync(lambda sync: SQLModel.metadata.create_all(sync, tables=tables))
    other = SimpleNamespace(state=SimpleNamespace(session_factory=make_session_factory(engine), platform=platform))
    sync = RegionSync("enforcement")
    await sync.start(other)
    try:
        await wait_for(lambda: _known("321100-ETDZ"), timeout=20, what="the zone registered by RegionSync")
        assert "321100-ETDZ" in registry().descendants("321100")
    finally:
        await sync.stop(other)
        await engine.dispose()


async def _known(code: str) -> bool:
    return code in registry()
