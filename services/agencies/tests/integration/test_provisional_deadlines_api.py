"""Provisional complaint deadlines counted again through the app, once the calendar knows the year:
at startup (a release with a newer calendar) and on demand (POST /complaints/deadlines/recompute),
each change stored and published once, a second run changing nothing.

The calendars are the unit tests' (services/agencies/tests/unit/test_provisional_deadlines.py): the
package's as of 2026, and the same with a 2027 arrangement of the test's own."""

from __future__ import annotations

import contextlib

import httpx
import pytest

from services.agencies.app import create_app
from services.agencies.settings import AgenciesRules
from services.agencies.tests.integration.conftest import active_agency, assert_problem, outbox_envelopes
from services.agencies.tests.unit.test_provisional_deadlines import BEFORE_2027, WITH_2027
from zhichan.settings import process_settings
from zhichan.testing import auth, database_url, platform_for_tests

CHANGED = "zhichan.agencies.complaint.deadline_changed.v1"
ADMIN = auth("admin", sub="ops-admin")
OFFICER = auth("officer", ["320311"])
# 60 working days from Tuesday 1 December 2026 (a date already past, so the app accepts it): by the
# weekday rule the 60th is Tuesday 23 February 2027; with the 2027 arrangement (1 January and 5–13
# February off, 31 January and 20 February worked) it is Tuesday 2 March.
RULES = AgenciesRules(complaint_handling_working_days=60)
RECEIVED = "2026-12-01"


@pytest.fixture
async def database(tmp_path):
    async with database_url(tmp_path, "agencies", migrated=True) as url:
        yield url


@pytest.fixture
def serve(database, tmp_path):
    """Starts the app on the test's one database with a given calendar; several may run at once,
    like the replicas of two releases during a rolling upgrade."""

    @contextlib.asynccontextmanager
    async def start(calendar):
        app = create_app(
            rules=RULES,
            calendar=calendar,
            settings=process_settings("agencies", database_url=database, relay_enabled=False, migrate_on_start=False),
            platform=platform_for_tests(tmp_path),
        )
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
                yield app, client

    return start


async def receive(client, agency: dict | None = None) -> dict:
    agency = agency or await active_agency(client, OFFICER)
    body = {"agency_id": agency["id"], "channel": "online", "received_on": RECEIVED, "content": "承诺包授权"}
    resp = await client.post("/complaints", json=body, headers=OFFICER)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def test_a_release_whose_calendar_knows_2027_moves_the_provisional_deadline_at_startup(serve):
    async with serve(BEFORE_2027) as (_, client):
        complaint = await receive(client)
        assert (complaint["deadline"], complaint["deadline_provisional"]) == ("2027-02-23", True)

    async with serve(WITH_2027) as (app, client):
        moved = (await client.get(f"/complaints/{complaint['id']}", headers=OFFICER)).json()
        assert (moved["deadline"], moved["deadline_provisional"]) == ("2027-03-02", False)
        assert (complaint["deadline_known_through"], moved["deadline_known_through"]) == (2026, 2027)
        assert moved["version"] == complaint["version"] + 1
        [event] = await outbox_envelopes(app, CHANGED)
        assert event["subject"] == f"complaint/{complaint['id']}" and event["aggregateversion"] == moved["version"]
        assert "actor" not in event, "the service did it by itself"
        assert event["data"] == {key: value for key, value in moved.items() if key in event["data"]}
        assert set(event["data"]) >= {"id", "received_on", "deadline", "deadline_provisional", "status", "version"}

    async with serve(WITH_2027) as (app, client):  # started again: nothing left to move
        assert len(await outbox_envelopes(app, CHANGED)) == 1
        again = (await client.get(f"/complaints/{complaint['id']}", headers=OFFICER)).json()
        assert again == moved


async def test_recompute_on_demand_moves_what_an_old_replica_received_once(serve):
    # During a rolling upgrade the new release has started (and found nothing to move) while a
    # replica of the old one still takes complaints.
    async with serve(WITH_2027) as (new, new_client), serve(BEFORE_2027) as (_, old_client):
        agency = await active_agency(old_client, OFFICER)
        complaint = await receive(old_client, agency)
        resolved = await receive(old_client, agency)
        resp = await old_client.post(
            f"/complaints/{resolved['id']}/resolve", json={"outcome": "rejected", "findings": "不属实"}, headers=OFFICER
        )
        assert resp.status_code == 200, resp.text
        assert (complaint["deadline"], complaint["deadline_provisional"]) == ("2027-02-23", True)

        assert_problem(await new_client.post("/complaints/deadlines/recompute", headers=OFFICER), 403)
        resp = await new_client.post("/complaints/deadlines/recompute", headers=ADMIN)
        assert resp.status_code == 200, resp.text
        assert resp.json() == {
            "known_through": 2027,
            "examined": 1,
            "changed": [
                {
                    "complaint_id": complaint["id"],
                    "region": "320311",
                    "received_on": RECEIVED,
                    "handling_working_days": 60,
                    "previous_deadline": "2027-02-23",
                    "previous_provisional": True,
                    "deadline": "2027-03-02",
                    "deadline_provisional": False,
                    "version": complaint["version"] + 1,
                }
            ],
        }
        moved = (await new_client.get(f"/complaints/{complaint['id']}", headers=OFFICER)).json()
        assert (moved["deadline"], moved["deadline_provisional"]) == ("2027-03-02", False)
        [event] = await outbox_envelopes(new, CHANGED)
        assert event["data"]["id"] == complaint["id"] and event["actor"] == "ops-admin"
        # the resolved complaint keeps the deadline it was resolved against
        kept = (await new_client.get(f"/complaints/{resolved['id']}", headers=OFFICER)).json()
        assert (kept["deadline"], kept["deadline_provisional"], kept["status"]) == ("2027-02-23", True, "resolved")

        again = await new_client.post("/complaints/deadlines/recompute", headers=ADMIN)
        assert again.json() == {"known_through": 2027, "examined": 0, "changed": []}
        assert len(await outbox_envelopes(new, CHANGED)) == 1

    # The old release starting again (a rollback) knows fewer years: it leaves the count alone.
    async with serve(BEFORE_2027) as (old, old_client):
        kept = (await old_client.get(f"/complaints/{complaint['id']}", headers=OFFICER)).json()
        assert (kept["deadline"], kept["version"]) == ("2027-03-02", moved["version"])
        assert (await old_client.post("/complaints/deadlines/recompute", headers=ADMIN)).json()["changed"] == []
        assert len(await outbox_envelopes(old, CHANGED)) == 1


async def test_recompute_with_a_calendar_that_learnt_nothing_changes_nothing(serve):
    async with serve(BEFORE_2027) as (app, client):
        complaint = await receive(client)
        resp = await client.post("/complaints/deadlines/recompute", headers=ADMIN)
        assert resp.json() == {"known_through": 2026, "examined": 0, "changed": []}
        assert await outbox_envelopes(app, CHANGED) == []
        unchanged = (await client.get(f"/complaints/{complaint['id']}", headers=OFFICER)).json()
        assert unchanged["version"] == complaint["version"] and unchanged["deadline_provisional"] is True
