"""A plan that requires review counts in its progress view only the reports an officer approved,
and shows how many await review: the targets service's real events of a reporting round, fed to
the read model before and after the review."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

import pytest
from sqlalchemy import select

from gateway.tests.integration.test_plan_progress import PLAN, feed
from services.targets.app import create_app as create_targets
from zhichan.events.envelope import Envelope
from zhichan.events.outbox import OutboxEvent
from zhichan.testing import auth, running_app

KEY = "quanshan-2025-2026"
AMR = "区市场监管局"


async def _events(app) -> list[Envelope]:
    async with app.state.session_factory() as session:
        rows = (await session.execute(select(OutboxEvent).order_by(OutboxEvent.id))).scalars().all()
    return [Envelope.from_json(row.envelope) for row in rows]


@pytest.fixture
async def round_events(tmp_path, monkeypatch):
    """The plan's events up to two submitted rounds (2025Q1: 60, 2025Q2: 70), and those of their
    review after (Q1 approved, Q2 returned)."""
    monkeypatch.setattr("services.targets.service.rounds.today", lambda: date(2025, 7, 15))
    async with running_app(create_targets, "targets", tmp_path) as (app, client):
        officer = auth("officer", ["320311"])
        department = auth("department", ["320311"], department=AMR)
        imported = await client.post(
            "/plans/import", content=PLAN.encode(), headers={**officer, "Content-Type": "application/yaml"}
        )
        assert imported.status_code == 201, imported.text
        activated = await client.post(f"/plans/{KEY}/activate", headers=officer)
        settings = {"period": "quarterly", "due_days": 10, "review": "required"}
        put = await client.put(
            f"/plans/{KEY}/reporting", json=settings, headers={**officer, "If-Match": activated.headers["ETag"]}
        )
        assert put.status_code == 200, put.text
        for label, value in (("2025Q1", 60), ("2025Q2", 70)):
            body = {"values": [{"indicator": "patents", "value": value}]}
            submitted = await client.post(f"/plans/{KEY}/rounds/{label}/submissions", json=body, headers=department)
            assert submitted.status_code == 201, submitted.text
        before_review = await _events(app)
        url = f"/plans/{KEY}/rounds/{{}}/submissions/{quote(AMR)}"
        assert (await client.post(url.format("2025Q1") + "/approve", headers=officer)).status_code == 200
        returned = await client.post(url.format("2025Q2") + "/return", json={"reason": "与台账不符"}, headers=officer)
        assert returned.status_code == 200, returned.text
        return before_review, (await _events(app))[len(before_review) :]


def patents(view: dict) -> dict:
    return next(item for item in view["indicators"] if item["key"] == "patents")


async def test_only_approved_reports_count_where_the_plan_requires_review(app_client, round_events):
    app, client = app_client
    before_review, review = round_events
    await feed(app, before_review)
    view = (await client.get(f"/api/progress/plans/{KEY}", params={"as_of": "2025-07-15"})).json()
    pending = patents(view)
    assert (pending["actual"], pending["pending_reports"]) == (None, 2)
    assert pending["status"] == "no_data"
    # an indicator computed from a metric has no reports to wait for
    assert next(i for i in view["indicators"] if i["key"] == "pledges")["pending_reports"] is None

    await feed(app, review)
    counted = patents((await client.get(f"/api/progress/plans/{KEY}", params={"as_of": "2025-07-15"})).json())
    # Q1's approved 60 counts; Q2's returned 70 does not, and nothing waits any more
    assert (counted["actual"], counted["actual_on"], counted["pending_reports"]) == ("60", "2025-03-31", 0)
