"""Retention in the gateway's database: the inbox lets go of ids applied longer ago than the
retention, the recent events keep the newest of each region, and every event delivered again once
its id is gone — the newest version, an older one, a report before its review, a release — leaves
the read model, the alerts and the webhook deliveries exactly as they were."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from aiokafka import TopicPartition
from sqlalchemy import select, text

from gateway.retention import gateway_pruner, prune_recent_events
from gateway.tests.events import case_event, case_state, pledge_event, pledge_state, release_event, release_state
from gateway.tests.integration.test_alerts import open_case
from gateway.tests.integration.test_reviewed_reports import round_events  # noqa: F401 - a fixture
from gateway.tests.integration.test_webhooks import receiver, subscribe  # noqa: F401 - a fixture
from zhichan.events.broker import ALL_TOPICS
from zhichan.events.consumer import EventConsumer, InboxEvent
from zhichan.events.envelope import Envelope, topic_of
from zhichan.events.retention import prune_inbox

RETENTION = timedelta(days=30)
JINGKOU, QUANSHAN = "321102", "320311"
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


async def consume(app, envelopes: list[Envelope]) -> None:
    """One fetch through the live consumer's transaction: the inbox skips what it holds, the
    gateway's applier (read model, alerts, webhook deliveries) takes the rest."""
    consumer = EventConsumer(app.state.platform, ALL_TOPICS, "test", app.state.session_factory, app.state.apply)
    items = [
        (TopicPartition(topic_of(e.service), 0), SimpleNamespace(offset=offset), e)
        for offset, e in enumerate(envelopes)
    ]
    async with app.state.session_factory() as session:
        await consumer._apply_all(session, items)
        await session.commit()


async def inbox(app) -> set[str]:
    async with app.state.session_factory() as session:
        return set((await session.execute(select(InboxEvent.event_id))).scalars())


async def received_days_ago(app, days: int, *event_ids: str) -> None:
    async with app.state.session_factory() as session:
        for event_id in event_ids:
            row = await session.get(InboxEvent, event_id)
            row.received_at = datetime.now(UTC) - timedelta(days=days)
        await session.commit()


def case_at(n: int, region: str = JINGKOU, version: int = 1) -> Envelope:
    state = case_state(f"c{n}", "2025-02-01", region=region, version=version)
    return case_event(state, event_id=f"ev-{n}-{version}", time=T0 + timedelta(minutes=n))


async def test_the_inbox_lets_go_of_ids_older_than_the_retention_only(gateway):
    app, _client = gateway
    events = [case_at(n) for n in range(1, 6)]
    await consume(app, events)
    await received_days_ago(app, 31, "ev-1-1", "ev-2-1", "ev-3-1")
    await received_days_ago(app, 29, "ev-4-1")

    # Small batches, each its own transaction, until one finds fewer than a batch.
    assert await prune_inbox(app.state.session_factory, RETENTION, batch=2) == 3
    assert await inbox(app) == {"ev-4-1", "ev-5-1"}
    assert await prune_inbox(app.state.session_factory, RETENTION, batch=2) == 0


async def test_the_recent_events_keep_the_newest_of_each_region(gateway):
    app, _client = gateway
    await consume(app, [case_at(n) for n in range(1, 6)] + [case_at(n, QUANSHAN) for n in (6, 7)])

    assert await prune_recent_events(app.state.session_factory, 3, batch=1) == 2
    async with app.state.session_factory() as session:
        kept = (await session.execute(text("SELECT event_id FROM recent_event ORDER BY event_id"))).scalars().all()
    assert kept == ["ev-3-1", "ev-4-1", "ev-5-1", "ev-6-1", "ev-7-1"]
    assert await prune_recent_events(app.state.session_factory, 3, batch=1) == 0


async def test_the_gateways_pruner_runs_both(gateway):
    app, _client = gateway
    await consume(app, [case_at(n) for n in range(1, 4)])
    await received_days_ago(app, 31, "ev-1-1")
    settings = app.state.settings.model_copy(update={"inbox_retention_days": 30, "recent_events_per_region": 20})
    assert await gateway_pruner(app.state.session_factory, settings).run_once() == {"inbox": 1, "recent_event": 0}
    # Retention 0 keeps every id: no inbox job at all.
    keep_all = settings.model_copy(update={"inbox_retention_days": 0})
    assert [job.name for job in gateway_pruner(app.state.session_factory, keep_all).jobs] == ["recent_event"]


# What the events made, compared before and after they are delivered again: everything but the
# inbox itself, the positions and the view cache's stamp.
MADE = {
    "aggregate_facts": "SELECT key, version, facts FROM aggregate_facts",
    "series_daily": "SELECT * FROM series_daily",
    "series_monthly": "SELECT * FROM series_monthly",
    "plan_view": "SELECT key, version, status FROM plan_view",
    "report_view": "SELECT id, value, supersedes, review FROM report_view",
    "statistic_release_view": "SELECT id, value, revises FROM statistic_release_view",
    "recent_event": "SELECT event_id, region FROM recent_event",
    "alert": "SELECT record, cause, status, record_version, raise_on FROM alert",
    "webhook_delivery": "SELECT id, subscription_id, event_id, status FROM webhook_delivery",
}


async def made(app) -> dict[str, list[tuple]]:
    async with app.state.session_factory() as session:
        return {
            table: sorted(tuple(str(v) for v in row) for row in (await session.execute(text(query))).all())
            for table, query in MADE.items()
        }


async def test_events_delivered_again_after_their_ids_were_pruned_change_nothing(
    gateway,
    receiver,  # noqa: F811 - the fixture
    round_events,  # noqa: F811 - the fixture
):
    app, client = gateway
    await subscribe(client, receiver)  # deliveries of the events applied from now on
    before_review, review = round_events  # a plan, reports submitted, then approved or returned
    due_soon = [case_event(open_case("due", 3, version=v), event_id=f"due-{v}") for v in (1, 2)]
    closed = case_event(case_state("shut", "2025-02-01", region=JINGKOU, closed="2025-02-20", on_time=True, version=2))
    opened = case_event(case_state("shut", "2025-02-01", region=JINGKOU, version=1))
    pledge = pledge_event(pledge_state("p1", "2025-02-03", "1000000.00", region=QUANSHAN))
    first = release_event(release_state("r1", "patent_grants", "2025-01", "10", "件", published_on="2025-02-10"))
    revised = release_event(
        release_state("r2", "patent_grants", "2025-01", "12", "件", published_on="2025-02-20", revises="r1")
    )
    log = [*before_review, *review, *due_soon, opened, closed, pledge, first, revised]
    await consume(app, log)
    await prune_recent_events(app.state.session_factory, 2)
    was = await made(app)
    assert was["alert"] and was["webhook_delivery"] and was["report_view"]  # the test sees what it claims

    # Every id gone (as if 31 days had passed), then the whole log delivered again, a republish
    # after the broker lost it, and in the worst order: the newest states first.
    assert await prune_inbox(app.state.session_factory, RETENTION, now=datetime.now(UTC) + timedelta(days=31))
    assert await inbox(app) == set()
    await consume(app, list(reversed(log)))
    await consume(app, log)
    await prune_recent_events(app.state.session_factory, 2)

    assert await made(app) == was
    assert await inbox(app) == {e.id for e in log}  # applied again: remembered again
