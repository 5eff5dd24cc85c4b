"""Alerts through the gateway's app: scheduled from the events applied, raised on their day with
their event in the outbox, cancelled when the record is dealt with first, listed for the caller's
regions and department, acknowledged once — and delivered to a webhook as any other event."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from standardwebhooks import Webhook

from gateway.alerts.contracts import ALERT_ACKNOWLEDGED, ALERT_RAISED
from gateway.alerts.models import Alert
from gateway.alerts.service import check_indicators, raise_due
from gateway.tests.events import T0, case_event, case_state, event, indicator_state, plan_event, plan_state
from gateway.tests.webhook_receiver import running_receiver
from services.targets import contracts as targets
from zhichan.clock import today
from zhichan.events import OutboxEvent
from zhichan.events.envelope import Envelope
from zhichan.testing import auth, wait_for

ZHENJIANG, JINGKOU, XILING = "321100", "321102", "420502"
OFFICER = auth("officer", [ZHENJIANG], sub="zj-officer")
FILING_TO_DUE = timedelta(days=90)  # the events' case deadline (gateway.tests.events.case_state)


async def apply(app, *envelopes) -> None:
    async with app.state.session_factory() as session:
        await app.state.apply(session, list(envelopes))
        await session.commit()


async def alerts(app) -> dict[str, Alert]:
    async with app.state.session_factory() as session:
        return {a.kind: a for a in (await session.execute(select(Alert))).scalars()}


async def published(app) -> list[Envelope]:
    async with app.state.session_factory() as session:
        rows = (await session.execute(select(OutboxEvent).order_by(OutboxEvent.id))).scalars().all()
    return [Envelope.from_json(row.envelope) for row in rows]


def open_case(case_id: str, due_in_days: int, region: str = JINGKOU, **fields):
    filed = today() + timedelta(days=due_in_days) - FILING_TO_DUE
    return case_state(case_id, filed, region=region, **fields)


async def test_an_overdue_case_is_raised_once_with_its_event(gateway):
    app, client = gateway
    await apply(app, case_event(open_case("c1", due_in_days=-3)))
    assert {k: a.status for k, a in (await alerts(app)).items()} == {
        "case_due_soon": "scheduled",
        "case_overdue": "scheduled",
    }

    assert await app.state.alerts.scan() == 1
    found = await alerts(app)
    assert found["case_overdue"].status == "raised" and found["case_overdue"].raised_on == today()
    assert found["case_due_soon"].status == "cancelled"  # its deadline passed: "overdue" says more
    [event] = await published(app)
    assert event.type == ALERT_RAISED and event.region == JINGKOU
    assert event.data["kind"] == "case_overdue" and event.data["link"] == "/api/cases/c1"
    assert await app.state.alerts.scan() == 0  # once per cause

    listed = (await client.get("/api/alerts", headers=OFFICER)).json()["items"]
    assert [(a["kind"], a["responsible"]) for a in listed] == [("case_overdue", ["区市场监管局"])]
    elsewhere = auth("officer", [XILING], sub="yc-officer")
    assert (await client.get("/api/alerts", headers=elsewhere)).json()["items"] == []


async def test_a_case_closed_before_its_day_never_alerts_and_a_moved_deadline_alerts_anew(gateway):
    app, client = gateway
    case = open_case("c1", due_in_days=20)
    await apply(app, case_event(case))
    assert await app.state.alerts.scan() == 0  # the week before the deadline has not come
    extended = case.model_copy(update={"due_date": today() + timedelta(days=3), "version": 2})
    await apply(app, case_event(extended))
    assert await app.state.alerts.scan() == 1  # due within the week now
    found = await alerts(app)
    assert found["case_due_soon"].due_date == extended.due_date

    older = case.model_copy(update={"due_date": today() - timedelta(days=1)})  # version 1, late
    await apply(app, case_event(older))
    assert await app.state.alerts.scan() == 0
    closed = extended.model_copy(update={"status": "closed", "closed_date": today(), "version": 3})
    await apply(app, case_event(closed))
    async with app.state.session_factory() as session:
        rows = (await session.execute(select(Alert))).scalars().all()
    assert {(a.kind, a.due_date, a.status) for a in rows} == {
        ("case_due_soon", case.due_date, "cancelled"),  # the deadline moved
        ("case_due_soon", extended.due_date, "raised"),
        ("case_overdue", case.due_date, "cancelled"),
        ("case_overdue", extended.due_date, "cancelled"),  # closed before its day
    }


async def test_acknowledging_an_alert(gateway):
    app, client = gateway
    await apply(app, case_event(open_case("c1", due_in_days=-1)))
    await app.state.alerts.scan()
    [alert] = (await client.get("/api/alerts", params={"acknowledged": "false"}, headers=OFFICER)).json()["items"]
    answer = await client.post(f"/api/alerts/{alert['id']}/acknowledge", headers=OFFICER)
    assert answer.status_code == 200 and answer.json()["acknowledged_by"] == "zj-officer"
    again = await client.post(f"/api/alerts/{alert['id']}/acknowledge", headers=OFFICER)
    assert again.json()["acknowledged_at"] == answer.json()["acknowledged_at"]
    assert [e.type for e in await published(app)] == [ALERT_RAISED, ALERT_ACKNOWLEDGED]
    assert (await client.get("/api/alerts", params={"acknowledged": "false"}, headers=OFFICER)).json()["items"] == []
    elsewhere = auth("officer", [XILING], sub="yc-officer")
    assert (await client.post(f"/api/alerts/{alert['id']}/acknowledge", headers=elsewhere)).status_code == 404


async def test_a_department_sees_the_alerts_it_is_responsible_for(gateway):
    app, client = gateway
    await apply(app, case_event(open_case("c1", due_in_days=-1)))
    await app.state.alerts.scan()
    ours = auth("department", [ZHENJIANG], sub="d1", department="区市场监管局")
    theirs = auth("department", [ZHENJIANG], sub="d2", department="市知识产权局")
    assert len((await client.get("/api/alerts", headers=ours)).json()["items"]) == 1
    assert (await client.get("/api/alerts", headers=theirs)).json()["items"] == []


async def test_a_raised_alert_reaches_a_webhook(gateway):
    """The alert's event, consumed from its topic as any other (here applied as the consumer
    would), is delivered to a subscriber of ``zhichan.alerts.*``."""
    app, client = gateway
    async with running_receiver() as receiver:
        hook = await client.post(
            "/api/webhooks", json={"url": receiver.url, "event_types": ["zhichan.alerts.*"]}, headers=OFFICER
        )
        secret = hook.json()["secret"]
        app.state.webhooks.start()
        await apply(app, case_event(open_case("c1", due_in_days=-2)))
        await app.state.alerts.scan()
        await apply(app, *await published(app))  # what the consumer reads back from zhichan.alerts
        app.state.webhooks.wake()

        async def delivered() -> bool:
            return len(receiver.received) == 1

        await wait_for(delivered, timeout=10, what="the alert delivered")
        headers, body = receiver.received[0]
        event = Webhook(secret).verify(body, headers)
        assert event["type"] == ALERT_RAISED and event["data"]["kind"] == "case_overdue"


async def test_an_indicator_whose_status_worsened_alerts_once(gateway):
    """Five cases filed in January 2025 against a goal of ten by the end of 2026: on track in
    mid-2025, behind by late 2026 with nothing more filed — the day the alerts look, it is raised."""
    app, client = gateway
    goal = indicator_state("cases", "件", "cumulative", "10", {"metric": "enforcement.cases_filed"})
    plan = plan_state("zj-ip-2025", [goal], region=JINGKOU, start="2025-01-01", end="2026-12-31")
    cases = [case_event(case_state(f"c{i}", f"2025-01-0{i}", region=JINGKOU)) for i in range(1, 6)]
    await apply(app, plan_event(plan), *cases)

    async with app.state.session_factory() as session:
        assert await check_indicators(session, date(2025, 6, 30)) == 0  # the first look: noted only
        assert await check_indicators(session, date(2025, 7, 31)) == 0  # still on track
        assert await check_indicators(session, date(2026, 11, 30)) == 1
        assert await check_indicators(session, date(2026, 12, 1)) == 0  # once, until it worsens again
        await session.commit()
    [alert] = [a for a in await all_alerts(app) if a.kind == "indicator_worsened"]
    assert alert.status == "raised" and alert.link == "/api/progress/plans/zj-ip-2025"
    assert alert.title.startswith("指标「cases」由进展顺利变为") and alert.responsible == ["区市场监管局"]
    assert [e.data["kind"] for e in await published(app)] == ["indicator_worsened"]


async def all_alerts(app) -> list[Alert]:
    async with app.state.session_factory() as session:
        return list((await session.execute(select(Alert))).scalars())


async def test_a_round_alerts_the_departments_that_have_not_reported(gateway):
    """Each department owes each round; the one whose submission arrived is not alerted, now or
    after the plan changes again; the other's round is missed the day after its due day."""
    app, client = gateway
    amr, finance = "区市场监管局", "区财政局"
    reported = indicator_state("patents", "件", "stock", "850", "reported", responsible=[amr])
    task = targets.TaskState(
        key="t1", title="建设保护中心", responsible=[finance], indicators=[], status="in_progress",
        status_history=[], version=1, updated_at="2025-01-01T00:00:00Z",
    )  # fmt: skip
    plan = plan_state("zj-rounds", [reported], region=JINGKOU, start="2025-01-01", end="2025-12-31").model_copy(
        update={"reporting": targets.ReportingSettings(period="quarterly", due_days=10), "tasks": [task]}
    )
    await apply(app, plan_event(plan, time=T0))  # published as the plan period began
    async with app.state.session_factory() as session:
        rounds = (await session.execute(select(Alert).where(Alert.kind.like("round_%")))).scalars().all()
    assert len(rounds) == 4 * 2 * 2  # quarters × departments × (due soon, missed)

    submitted = targets.RoundSubmissionState(
        id="s1", plan="zj-rounds", region=JINGKOU, round="2025Q1", start=date(2025, 1, 1), end=date(2025, 3, 31),
        due=date(2025, 4, 10), department=amr, status="submitted", first_submitted_on=date(2025, 4, 2),
        timeliness="on_time", values=[], tasks=[], history=[], version=1, created_at=T0, updated_at=T0,
    )  # fmt: skip
    await apply(app, event(submitted, targets.ROUND_SUBMITTED))
    changed = plan.model_copy(update={"version": 2})
    await apply(app, plan_event(changed, time=T0))  # the plan changed: still nothing owed by the one that reported

    async with app.state.session_factory() as session:
        assert await raise_due(session, date(2025, 4, 11)) == 1
        await session.commit()
    [missed] = [e.data for e in await published(app)]
    assert (missed["kind"], missed["responsible"]) == ("round_missed", [finance])
    assert "2025Q1" in missed["title"] and missed["link"] == "/api/plans/zj-rounds/rounds"
