"""Agency events fed to the projection, the metric read through the API."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from gateway.models import RecentEvent
from gateway.projections import apply_events
from gateway.tests import events as producer
from gateway.viewcache import read_stamp
from zhichan.events.envelope import Envelope
from zhichan.testing import auth

ADMIN = auth("admin")


def agency_event(
    agency_id: str, version: int, history: list[tuple[str, str]], region: str = "320311", **fields
) -> Envelope:
    """The agencies service's event for an agency through ``history``, as of ``version``."""
    return producer.agency_event(producer.agency_state(agency_id, history, region=region, version=version, **fields))


async def feed(app, *envelopes: Envelope) -> None:
    async with app.state.session_factory() as session:
        for envelope in envelopes:
            await apply_events(session, [envelope])  # a fetch of one, as the live consumer may
        await session.commit()


async def value(client, region="320311", **params) -> int:
    resp = await client.get(
        "/api/progress/metrics/agencies.active_agencies", params={"region": region, **params}, headers=ADMIN
    )
    assert resp.status_code == 200, resp.text
    return int(resp.json()["value"])


FILED = [("filed", "2025-01-10")]
ACTIVE = [*FILED, ("active", "2025-02-01")]
SUSPENDED = [*ACTIVE, ("suspended", "2025-06-01")]
DEREGISTERED = [*SUSPENDED, ("deregistered", "2025-08-01")]


async def test_lifecycle_moves_the_count_and_the_past_stays_true(app_client):
    app, client = app_client
    await feed(app, agency_event("A", 1, FILED), agency_event("A", 2, ACTIVE))
    assert await value(client, as_of="2025-01-31") == 0
    assert await value(client, as_of="2025-02-01") == 1
    await feed(app, agency_event("A", 3, SUSPENDED), agency_event("A", 4, DEREGISTERED))
    assert await value(client, as_of="2025-03-01") == 1  # what was true then
    assert await value(client, as_of="2025-06-01") == 0
    assert await value(client, as_of="2025-12-31") == 0


async def test_older_or_repeated_versions_change_nothing(app_client):
    app, client = app_client
    await feed(app, agency_event("A", 2, ACTIVE), agency_event("A", 1, FILED), agency_event("A", 2, ACTIVE))
    assert await value(client, as_of="2025-03-01") == 1
    await feed(app, agency_event("A", 3, SUSPENDED), agency_event("A", 2, ACTIVE))
    assert await value(client, as_of="2025-07-01") == 0


async def test_regions_include_descendants_and_filters_apply(app_client):
    app, client = app_client
    await feed(
        app,
        agency_event("A", 2, ACTIVE, region="320311", offline=True, service_types=["legal", "training"]),
        agency_event("B", 2, ACTIVE, region="320302", in_cluster=True, brand_level="provincial"),
        agency_event("C", 2, ACTIVE, region="350102"),
    )
    assert await value(client, region="320300", as_of="2025-03-01") == 2
    assert await value(client, region="320000", as_of="2025-03-01") == 2
    assert await value(client, region="350100", as_of="2025-03-01") == 1
    assert await value(client, region="320300", as_of="2025-03-01", offline="true") == 1
    assert await value(client, region="320300", as_of="2025-03-01", service_type="training,finance") == 1
    assert await value(client, region="320300", as_of="2025-03-01", brand_level="provincial") == 1
    assert await value(client, region="320300", as_of="2025-03-01", in_cluster="false") == 1


async def test_metric_api_refusals(app_client):
    _app, client = app_client
    url = "/api/progress/metrics/agencies.active_agencies"
    assert (await client.get(url, params={"region": "320311"})).status_code == 401
    resp = await client.get(url, params={"region": "350102"}, headers=auth("officer", ["320311"]))
    assert resp.status_code == 403 and resp.headers["content-type"] == "application/problem+json"
    resp = await client.get(url, params={"region": "999999"}, headers=ADMIN)
    assert resp.status_code == 422 and resp.json()["errors"][0]["loc"] == ["region"]
    resp = await client.get(url, params={"region": "320311", "colour": "red"}, headers=ADMIN)
    assert resp.status_code == 422 and resp.json()["errors"][0]["loc"] == ["colour"]
    assert (await client.get("/api/progress/metrics/no.such", headers=ADMIN)).status_code == 404
    assert (await client.get("/api/progress/metrics")).status_code == 401  # the catalogue is for staff too
    catalogue = (await client.get("/api/progress/metrics", headers=ADMIN)).json()["items"]
    assert any(m["name"] == "agencies.active_agencies" and m["unit"] == "家" for m in catalogue)


@pytest.mark.parametrize("region, officer_regions, expected", [("320311", ["320300"], 1), (None, ["350102"], 0)])
async def test_an_officer_counts_only_within_their_regions(app_client, region, officer_regions, expected):
    app, client = app_client
    await feed(app, agency_event("A", 2, ACTIVE, region="320311"))
    params = {"as_of": "2025-03-01", **({"region": region} if region else {})}
    resp = await client.get(
        "/api/progress/metrics/agencies.active_agencies", params=params, headers=auth("officer", officer_regions)
    )
    assert int(resp.json()["value"]) == expected


async def test_unknown_resources_and_dead_services_are_problems(app_client):
    _app, client = app_client
    assert (await client.get("/api/nothing-here", headers=ADMIN)).status_code == 404
    resp = await client.get("/api/agencies", headers=ADMIN)  # no agencies service in this test
    assert resp.status_code == 503 and resp.json()["service"] == "agencies"


async def test_a_fetch_applied_at_once_ends_where_its_events_one_by_one_end(app_client):
    """The live consumer applies each fetch with apply_events: same read model as its events in
    fetches of one, even with an aggregate twice in the fetch and its older version last."""
    app, client = app_client

    def events(prefix: str, region: str) -> list[Envelope]:
        return [
            agency_event(f"{prefix}1", 1, FILED, region=region),
            agency_event(f"{prefix}2", 1, FILED, region=region),
            agency_event(f"{prefix}1", 3, SUSPENDED, region=region),
            agency_event(f"{prefix}1", 2, ACTIVE, region=region),  # older, arriving late: changes nothing
            agency_event(f"{prefix}2", 2, ACTIVE, region=region),
        ]

    async with app.state.session_factory() as session:
        stamp_before = await read_stamp(session)
        await apply_events(session, events("A", "320311"))
        await session.commit()
        assert await read_stamp(session) != stamp_before, "views cached before the fetch are stale"
    await feed(app, *events("B", "320312"))
    for as_of in ("2025-01-31", "2025-03-01", "2025-07-01"):
        one_by_one = await value(client, region="320312", as_of=as_of)
        assert await value(client, region="320311", as_of=as_of) == one_by_one, as_of
    assert await value(client, region="320311", as_of="2025-03-01") == 2  # the counts are not all zero
    assert await value(client, region="320311", as_of="2025-07-01") == 1
    async with app.state.session_factory() as session:
        recent = (await session.execute(select(RecentEvent.region, func.count()).group_by(RecentEvent.region))).all()
    assert dict(recent) == {"320311": 5, "320312": 5}


async def test_views_answer_while_events_are_being_applied(app_client, monkeypatch):
    """A view only reads: it neither waits for an apply in progress nor holds one up (on SQLite
    a reader takes no write lock and no turn in the process's transaction queue)."""
    from zhichan import db

    monkeypatch.setattr(db, "SQLITE_BUSY_SECONDS", 600)  # waiting for the apply would time out the test
    app, client = app_client
    await feed(app, agency_event("A", 2, ACTIVE))
    async with app.state.session_factory() as applying:
        await apply_events(applying, [agency_event("B", 2, ACTIVE)])  # not committed yet
        assert await asyncio.wait_for(value(client), timeout=10) == 1
        await applying.commit()
    assert await value(client) == 2
