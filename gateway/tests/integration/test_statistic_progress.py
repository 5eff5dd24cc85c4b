"""Statistics through the gateway: releases and definitions fed as the targets service publishes
them, read by a plan's indicators (a statistic, a ratio, a growth) as known on the view's date."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import event

from gateway.tests.events import (
    definition_event,
    indicator_state,
    plan_event,
    plan_state,
    release_event,
    release_state,
)
from gateway.tests.integration.test_plan_progress import feed
from services.targets.contracts import StatisticDefinitionState
from zhichan.testing import auth

ADMIN = auth("admin")
PLAN = "quanshan-creation"
VIEW = f"/api/progress/plans/{PLAN}"
PER_10K = {
    "ratio": {
        "numerator": {"metric": "statistics.valid_high_value_invention_patents"},
        "denominator": {"metric": "statistics.resident_population"},
        "per": "10000",
    }
}


def plan():
    return plan_state(
        PLAN,
        [
            indicator_state("grants", "件", "cumulative", "2000", {"metric": "statistics.invention_grants"}),
            indicator_state(
                "per-10k", "件/万人", "stock", "8", PER_10K, baseline={"year": 2024, "value": "6"}, trajectory="linear"
            ),
            indicator_state(
                "tm-growth", "%", "rate", "8", {"growth": {"metric": "statistics.valid_trademarks"}, "over": "year"}
            ),
            indicator_state("patents", "件", "stock", "6000", {"metric": "statistics.valid_invention_patents"}),
        ],
    )


RELEASES = [
    release_state("R1", "invention_grants", "2025Q1", "300", "件", published_on="2025-04-20"),
    release_state("R2", "invention_grants", "2025Q2", "320", "件", published_on="2025-07-20"),
    release_state("R3", "invention_grants", "2025-07", "999", "件", published_on="2025-08-20"),  # after the view date
    release_state("R4", "valid_high_value_invention_patents", "2025-06", "2810", "件", published_on="2025-07-15"),
    release_state("R5", "resident_population", "2024", "401.7", "万人", published_on="2025-03-01"),
    release_state("R6", "valid_trademarks", "2024-06", "10000", "件", published_on="2024-07-15"),
    release_state("R7", "valid_trademarks", "2025-06", "10800", "件", published_on="2025-07-15"),
]


def by_key(view: dict) -> dict[str, dict]:
    return {i["key"]: i for i in view["indicators"]}


@pytest.fixture
async def fed(app_client):
    app, client = app_client
    await feed(app, [plan_event(plan()), *(release_event(r) for r in RELEASES)])
    return app, client


async def test_statistic_ratio_and_growth_indicators_read_the_releases(fed):
    _app, client = fed
    resp = await client.get(VIEW, params={"as_of": "2025-08-01"})
    assert resp.status_code == 200, resp.text
    indicators = by_key(resp.json())
    # The quarters published by 2025-08-01, dated at the second quarter's end.
    assert indicators["grants"]["actual"] == "620" and indicators["grants"]["actual_on"] == "2025-06-30"
    # 2,810 ÷ 401.7 万人 × 10,000 = 6.9953… → 7.00.
    assert indicators["per-10k"]["actual"] == "7" and indicators["per-10k"]["actual_on"] == "2025-06-30"
    # 10,800 against 10,000 a year before.
    assert indicators["tm-growth"]["actual"] == "8" and indicators["tm-growth"]["actual_on"] == "2025-06-30"
    # The explanation says how each was computed, so that a reader can check it by hand.
    assert indicators["per-10k"]["explanation"].endswith("实际值 = 2,810 件 ÷ 401.7 万人 × 10,000 = 7.00(2025-06-30)")
    assert indicators["tm-growth"]["explanation"].endswith(
        "实际值 = (10,800 − 10,000) ÷ 10,000 × 100% = 8.00%(2025-06-30 较 2024-06-30)"
    )
    assert indicators["patents"]["actual"] is None and indicators["patents"]["status"] == "no_data"
    assert indicators["per-10k"]["drilldown"] == [
        "/api/statistics?statistic=valid_high_value_invention_patents&region=320311&descendants=true"
        "&published_by=2025-08-01",
        "/api/statistics?statistic=resident_population&region=320311&descendants=true&published_by=2025-08-01",
    ]


async def test_a_revision_changes_the_view_from_its_publication_date_only(fed):
    app, client = fed
    october = release_state("R10", "valid_invention_patents", "2025-10", "5000", "件", published_on="2025-11-05")
    await feed(app, [release_event(october)])

    async def actual(as_of: str) -> str | None:
        return by_key((await client.get(VIEW, params={"as_of": as_of})).json())["patents"]["actual"]

    assert await actual("2025-12-01") == "5000"  # computed, and cached
    revised = release_state(
        "R11", "valid_invention_patents", "2025-10", "5100", "件", published_on="2025-11-25", revises="R10"
    )
    await feed(app, [release_event(revised)])
    assert await actual("2025-12-01") == "5100"  # the cached view was dropped with the release
    assert await actual("2025-11-20") == "5000"  # before the revision was published
    assert await actual("2025-11-01") is None  # before October's figure was


async def test_replayed_events_change_nothing(fed):
    app, client = fed
    before = (await client.get(VIEW, params={"as_of": "2025-08-01"})).json()
    await feed(app, [plan_event(plan()), *(release_event(r) for r in RELEASES)])
    after = (await client.get(VIEW, params={"as_of": "2025-08-01"})).json()
    assert by_key(after) == by_key(before)


async def test_statistics_are_served_as_metrics_and_listed_with_the_added_ones(fed):
    app, client = fed
    definition = StatisticDefinitionState(
        code="rd_share",
        name="研发投入强度",
        unit="%",
        kind="flow",
        additive=False,
        built_in=False,
        version=1,
        updated_at=datetime.fromisoformat("2025-01-01T00:00:00+00:00"),
    )
    await feed(app, [definition_event(definition), definition_event(definition)])
    listed = {m["name"]: m for m in (await client.get("/api/progress/metrics", headers=ADMIN)).json()["items"]}
    assert listed["statistics.rd_share"]["unit"] == "%" and listed["statistics.gdp"]["unit"] == "亿元"
    assert "financing.pledge_amount" in listed

    url = "/api/progress/metrics/statistics.invention_grants"
    # The city reads its district's quarters (additive, no release of its own), as known on the date.
    params = {"region": "320300", "from": "2025-01-01", "to": "2025-12-31", "as_of": "2025-08-01"}
    resp = await client.get(url, params=params, headers=ADMIN)
    assert resp.status_code == 200, resp.text
    assert resp.json()["value"] == "620" and resp.json()["on"] == "2025-06-30"
    resp = await client.get(url, params={**params, "as_of": "2025-09-01"}, headers=ADMIN)
    assert resp.json()["value"] == "1619" and resp.json()["on"] == "2025-07-31"  # July published by then
    assert (await client.get(url, headers=ADMIN)).status_code == 422  # a region is needed
    resp = await client.get(url, params={"region": "320311", "colour": "red"}, headers=ADMIN)
    assert resp.status_code == 422 and resp.json()["errors"][0]["loc"] == ["colour"]
    assert (await client.get(url, params={"region": "350102"}, headers=auth("officer", ["320311"]))).status_code == 403
    assert (await client.get("/api/progress/metrics/statistics.nothing", headers=ADMIN)).status_code == 404

    # Month by month (as known today): a month inside a quarter released whole has no value of its own.
    params = {"region": "320311", "from": "2025-01-01", "to": "2025-09-30", "interval": "month"}
    points = (await client.get(f"{url}/series", params=params, headers=ADMIN)).json()["points"]
    nothing = (None, None)
    assert [(p["value"], p["on"]) for p in points] == [nothing] * 6 + [("999", "2025-07-31")] + [nothing] * 2
    params = {"region": "320311", "from": "2025-01-01", "to": "2025-12-31", "interval": "year"}
    points = (await client.get(f"{url}/series", params=params, headers=ADMIN)).json()["points"]
    assert [(p["value"], p["on"]) for p in points] == [("1619", "2025-07-31")]


async def test_a_trend_view_reads_each_statistic_s_releases_once(fed):
    app, client = fed
    statements: list[str] = []

    @event.listens_for(app.state.engine.sync_engine, "before_cursor_execute")
    def record(_conn, _cursor, statement, *_args) -> None:
        if "FROM statistic_" in statement:
            statements.append(statement)

    url = f"{VIEW}/indicators/per-10k/series"
    points = (await client.get(url, params={"as_of": "2025-12-31"})).json()["points"]
    assert [p["actual"] for p in points][5:7] == [None, "7"]  # from the end of June, when it was published
    # The catalogue, then the patents and the population: 12 month ends, one query each.
    assert len(statements) == 3
