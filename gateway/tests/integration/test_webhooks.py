"""Webhooks through the gateway's app: subscriptions and who may see them, deliveries of the events
applied to a receiver started here (127.0.0.1), each verified with the Standard Webhooks
reference library, retries and the dead letter, redelivery, 410 Gone, secret rotation, and
deliveries that wait in the database for a dispatcher that was not running."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from gateway.tests.events import case_event, case_state, pledge_event, pledge_state
from gateway.tests.webhook_receiver import running_receiver
from gateway.webhooks import service as webhook_service
from zhichan.testing import auth

XUZHOU, QUANSHAN, XILING = "320300", "320311", "420502"
OFFICER = auth("officer", [XUZHOU], sub="xz-integration")
DEADLINE = 10.0


@pytest.fixture
async def receiver():
    async with running_receiver() as found:
        yield found


async def until(condition: Callable[[], bool], deadline: float = DEADLINE) -> None:
    ends = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > ends:
            raise AssertionError("the condition did not come true in time")
        await asyncio.sleep(0.02)


async def apply(app, *envelopes) -> None:
    async with app.state.session_factory() as session:
        await app.state.apply(session, list(envelopes))
        await session.commit()
    app.state.webhooks.wake()


async def subscribe(client, receiver, **body) -> dict:
    answer = await client.post("/api/webhooks", json={"url": receiver.url, **body}, headers=OFFICER)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def deliveries(client, webhook_id: str, **params) -> list[dict]:
    answer = await client.get(f"/api/webhooks/{webhook_id}/deliveries", params=params, headers=OFFICER)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def verified(secret: str, headers: dict[str, str], body: bytes) -> dict:
    return Webhook(secret).verify(body, headers)


async def test_subscriptions_are_their_owners(gateway, receiver):
    app, client = gateway
    created = await subscribe(client, receiver, event_types=["zhichan.enforcement.*"], description="市执法平台")
    assert created["secret"].startswith("whsec_")
    assert created["regions"] == [XUZHOU]  # none asked: the caller's own
    listed = await client.get("/api/webhooks", headers=OFFICER)
    assert [w["id"] for w in listed.json()["items"]] == [created["id"]]
    assert "secret" not in listed.json()["items"][0]

    other = auth("officer", [XILING], sub="yc-officer")
    assert (await client.get(f"/api/webhooks/{created['id']}", headers=other)).status_code == 404
    assert (await client.get("/api/webhooks", headers=other)).json()["items"] == []
    admin = auth("admin", [], sub="root")
    assert (await client.get(f"/api/webhooks/{created['id']}", headers=admin)).status_code == 200

    changed = await client.patch(
        f"/api/webhooks/{created['id']}", json={"event_types": ["zhichan.financing.pledge.*"]}, headers=OFFICER
    )
    assert changed.status_code == 200 and changed.json()["event_types"] == ["zhichan.financing.pledge.*"]
    assert changed.json()["version"] == 2
    assert (await client.delete(f"/api/webhooks/{created['id']}", headers=OFFICER)).status_code == 204
    assert (await client.get(f"/api/webhooks/{created['id']}", headers=OFFICER)).status_code == 404


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"url": "ftp://example.org/x"}, ["url"]),
        ({"url": "https://user:pw@example.org/x"}, ["url"]),
        ({"url": "https://example.org/x", "event_types": ["case.closed"]}, ["event_types"]),
        ({"url": "https://example.org/x", "regions": ["32031"]}, ["regions", 0]),
        ({"url": "https://example.org/x", "secret": "mine"}, ["secret"]),
    ],
)
async def test_bad_subscriptions_are_refused(gateway, body, loc):
    app, client = gateway
    answer = await client.post("/api/webhooks", json=body, headers=OFFICER)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert loc in [e["loc"] for e in answer.json()["errors"]]
    assert (await client.get("/api/webhooks", headers=OFFICER)).json()["items"] == []


async def test_a_region_outside_the_callers_is_forbidden(gateway):
    app, client = gateway
    answer = await client.post(
        "/api/webhooks", json={"url": "https://example.org/x", "regions": [XILING]}, headers=OFFICER
    )
    assert answer.status_code == 403
    assert (await client.post("/api/webhooks", json={"url": "https://example.org/x"})).status_code == 401
    nowhere = auth("officer", [], sub="no-region")  # none kept means every region: not for an officer
    assert (
        await client.post("/api/webhooks", json={"url": "https://example.org/x"}, headers=nowhere)
    ).status_code == 403


async def test_matching_events_are_delivered_signed(gateway, receiver):
    app, client = gateway
    hook = await subscribe(client, receiver, event_types=["zhichan.enforcement.case.*"])
    app.state.webhooks.start()
    closed = case_event(case_state("c1", "2025-03-01", region=QUANSHAN, closed="2025-04-01", on_time=True))
    elsewhere = case_event(case_state("c2", "2025-03-01", region=XILING))
    pledge = pledge_event(pledge_state("p1", "2025-03-01", "1000000", region=QUANSHAN))
    await apply(app, closed, elsewhere, pledge)

    await until(lambda: len(receiver.received) == 1)
    headers, body = receiver.received[0]
    event = verified(hook["secret"], headers, body)
    assert event["id"] == closed.id and event["type"] == "zhichan.enforcement.case.closed.v1"
    assert headers["content-type"].startswith("application/cloudevents+json")
    with pytest.raises(WebhookVerificationError):
        verified(hook["secret"], {**headers, "webhook-id": "msg_other"}, body)

    [delivery] = await until_status(client, hook["id"], "succeeded")
    assert delivery["id"] == headers["webhook-id"]
    assert delivery["status"] == "succeeded" and delivery["attempts"] == 1
    assert [a["status"] for a in delivery["log"]] == [204]


async def test_failures_are_retried_then_dead_lettered_and_redelivered(gateway, receiver):
    app, client = gateway
    hook = await subscribe(client, receiver)
    receiver.statuses = [500]
    app.state.webhooks.start()
    await apply(app, case_event(case_state("c1", "2025-03-01", region=QUANSHAN)))

    [delivery] = await until_status(client, hook["id"], "failed")  # the first attempt and the two retries
    assert len(receiver.received) == 3
    assert delivery["attempts"] == 3 and delivery["last_status"] == 500
    assert [a["status"] for a in delivery["log"]] == [500, 500, 500]

    receiver.statuses = [200]
    again = await client.post(f"/api/webhooks/{hook['id']}/deliveries/{delivery['id']}/redeliver", headers=OFFICER)
    assert again.status_code == 202 and again.json()["status"] == "pending"
    await until(lambda: len(receiver.received) == 4)
    assert {h["webhook-id"] for h, _ in receiver.received} == {delivery["id"]}  # a receiver can drop repeats
    await until_status(client, hook["id"], "succeeded")


async def until_status(client, webhook_id: str, status: str, count: int = 1) -> list[dict]:
    """The subscription's deliveries once there are ``count``, all of ``status`` (the receiver has
    a delivery a moment before its outcome is recorded)."""
    ends = time.monotonic() + DEADLINE
    while True:
        found = await deliveries(client, webhook_id)
        if [d["status"] for d in found] == [status] * count:
            return found
        assert time.monotonic() < ends, f"the deliveries did not become {status}: {found}"
        await asyncio.sleep(0.05)


async def test_410_gone_disables_the_subscription(gateway, receiver):
    app, client = gateway
    hook = await subscribe(client, receiver)
    receiver.statuses = [410]
    app.state.webhooks.start()
    await apply(app, case_event(case_state("c1", "2025-03-01", region=QUANSHAN)))
    await until_status(client, hook["id"], "failed")
    found = (await client.get(f"/api/webhooks/{hook['id']}", headers=OFFICER)).json()
    assert found["active"] is False and "410" in found["disabled_reason"]

    await apply(app, case_event(case_state("c2", "2025-03-02", region=QUANSHAN)))
    assert len(await deliveries(client, hook["id"])) == 1  # a disabled subscription gets nothing new
    enabled = await client.patch(f"/api/webhooks/{hook['id']}", json={"active": True}, headers=OFFICER)
    assert enabled.json()["active"] is True and enabled.json()["disabled_reason"] is None


async def test_an_event_makes_one_delivery_and_history_none(gateway, receiver):
    app, client = gateway
    before = case_event(case_state("c0", "2025-03-01", region=QUANSHAN), time=datetime(2025, 3, 1, tzinfo=UTC))
    hook = await subscribe(client, receiver)
    event = case_event(case_state("c1", "2025-03-01", region=QUANSHAN))
    await apply(app, event, before)
    # The inbox applies an event once; its deliveries are unique besides, should it be enqueued again.
    async with app.state.session_factory() as session:
        await webhook_service.enqueue(session, [event])
        await session.commit()
    [delivery] = await deliveries(client, hook["id"])
    assert delivery["event_id"] == event.id


async def test_deliveries_wait_for_a_dispatcher(gateway, receiver):
    """Deliveries are rows committed with the events: made while no dispatcher ran (a gateway that
    stopped), they are sent once one runs."""
    app, client = gateway
    hook = await subscribe(client, receiver)
    await apply(app, *(case_event(case_state(f"c{i}", "2025-03-01", region=QUANSHAN)) for i in range(3)))
    assert [d["status"] for d in await deliveries(client, hook["id"])] == ["pending"] * 3
    app.state.webhooks.start()
    await until_status(client, hook["id"], "succeeded", count=3)
    assert len(receiver.received) == 3


async def test_a_rotated_secret_signs_beside_the_new_one_for_the_grace(gateway, receiver):
    app, client = gateway
    hook = await subscribe(client, receiver)
    rotated = await client.post(f"/api/webhooks/{hook['id']}/rotate-secret", headers=OFFICER)
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != hook["secret"] and rotated.json()["previous_valid_until"] is not None
    app.state.webhooks.start()
    await apply(app, case_event(case_state("c1", "2025-03-01", region=QUANSHAN)))
    await until(lambda: len(receiver.received) == 1)
    headers, body = receiver.received[0]
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (hook["secret"], new_secret):  # a receiver on either secret accepts it
        assert json.loads(body) == verified(secret, headers, body)
