"""Indicators through the API: list, read with an ETag, change with If-Match."""

import pytest
import yaml

from services.targets import planfile
from services.targets.tests.integration.conftest import PLAN, event_types, imported, outbox
from services.targets.tests.unit.test_plan_document import plan_file
from zhichan.testing import auth

PATENTS = f"/plans/{PLAN}/indicators/patents"


async def test_list_in_plan_order_and_page(client, officer):
    await imported(client, officer)
    resp = await client.get(f"/plans/{PLAN}/indicators", headers=officer)
    assert resp.status_code == 200
    assert [(i["key"], i["plan"]) for i in resp.json()["items"]] == [("patents", PLAN), ("pledges", PLAN)]
    first = (await client.get(f"/plans/{PLAN}/indicators", params={"limit": 1}, headers=officer)).json()
    second = (
        await client.get(
            f"/plans/{PLAN}/indicators", params={"limit": 1, "cursor": first["next_cursor"]}, headers=officer
        )
    ).json()
    assert [i["key"] for i in first["items"] + second["items"]] == ["patents", "pledges"] and not second["next_cursor"]
    assert (await client.get("/plans/nothing/indicators", headers=officer)).status_code == 404


async def test_one_indicator_with_its_etag(client, officer):
    await imported(client, officer)
    resp = await client.get(PATENTS, headers=officer)
    assert resp.status_code == 200 and resp.headers["etag"] == f'"{PLAN}/patents.1"'
    body = resp.json()
    assert (body["unit"], body["measure"], body["source"], body["accepts_reports"]) == ("件", "stock", "reported", True)
    assert (await client.get(f"/plans/{PLAN}/indicators/ghost", headers=officer)).status_code == 404
    assert (await client.get(PATENTS, headers=auth("officer", ["420500"]))).status_code == 404


async def test_a_change_with_if_match_is_a_new_version_and_an_event(app_client, officer):
    app, client = app_client
    await imported(client, officer)
    etag = (await client.get(PATENTS, headers=officer)).headers["etag"]
    change = {
        "name": "高价值发明专利拥有量(件)",
        "target": "900",
        "milestones": {"2025": 820, "2026": 900},
        "responsible": ["经开区市场监管局", "经开区科技局"],
        "baseline": {"year": 2023, "value": 700},
    }
    resp = await client.patch(PATENTS, json=change, headers={**officer, "If-Match": etag})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["version"], body["target"], body["milestones"], body["baseline"]) == (
        2,
        "900",
        {"2025": "820", "2026": "900"},
        {"year": 2023, "value": "700"},
    )
    assert resp.headers["etag"] == f'"{PLAN}/patents.2"'
    event = (await outbox(app))[-1]
    assert event["type"] == "zhichan.targets.plan.indicator_changed.v1" and event["data"]["indicator"] == "patents"
    assert event["aggregateversion"] == 2 and event["data"]["indicators"][0]["target"] == "900"
    stale = await client.patch(PATENTS, json={"name": "x"}, headers={**officer, "If-Match": etag})
    assert stale.status_code == 412
    assert (await client.patch(PATENTS, json={"name": "x"}, headers=officer)).status_code == 428


async def test_rebinding_to_a_metric(client, officer):
    await imported(client, officer)
    etag = (await client.get(f"/plans/{PLAN}/indicators/pledges", headers=officer)).headers["etag"]
    source = {"metric": "financing.pledge_amount", "filters": {"ip_type": ["patent"]}}
    resp = await client.patch(
        f"/plans/{PLAN}/indicators/pledges", json={"source": source}, headers={**officer, "If-Match": etag}
    )
    assert resp.status_code == 200 and resp.json()["source"] == source


async def test_a_change_is_checked_like_a_plan_file(app_client, officer):
    app, client = app_client
    await imported(client, officer)
    headers = {**officer, "If-Match": "*"}
    bad = {"milestones": {"2024": 750, "2025": 700, "2027": 1000}, "source": {"metric": "financing.nothing"}}
    resp = await client.patch(PATENTS, json=bad, headers=headers)
    assert resp.status_code == 422
    assert {e["path"] for e in resp.json()["errors"]} == {"milestones.2025", "milestones.2027", "source.metric"}
    unit = await client.patch(PATENTS, json={"source": {"metric": "financing.pledge_amount"}}, headers=headers)
    assert unit.status_code == 422 and "cannot be read as 件" in unit.json()["errors"][0]["msg"]
    assert (await client.patch(PATENTS, json={"key": "renamed"}, headers=headers)).status_code == 422
    assert (await client.patch(PATENTS, json={"target": None}, headers=headers)).status_code == 422
    assert await event_types(app) == ["zhichan.targets.region.defined.v1", "zhichan.targets.plan.imported.v1"]


async def test_no_change_no_event(app_client, officer):
    app, client = app_client
    await imported(client, officer)
    resp = await client.patch(PATENTS, json={"target": 850}, headers={**officer, "If-Match": "*"})
    assert resp.status_code == 200 and resp.json()["version"] == 1
    assert len(await outbox(app)) == 2


async def test_who_may_change_an_indicator(client, officer):
    await imported(client, officer)
    headers = {"If-Match": "*"}
    department = auth("department", ["321100"], department="经开区市场监管局")
    assert (await client.patch(PATENTS, json={"name": "x"}, headers={**department, **headers})).status_code == 403
    elsewhere = auth("officer", ["420500"])
    assert (await client.patch(PATENTS, json={"name": "x"}, headers={**elsewhere, **headers})).status_code == 404
    await client.post(f"/plans/{PLAN}/activate", headers=officer)
    published_elsewhere = await client.patch(PATENTS, json={"name": "x"}, headers={**elsewhere, **headers})
    assert published_elsewhere.status_code == 403
    await client.post(f"/plans/{PLAN}/close", headers=officer)
    closed = await client.patch(PATENTS, json={"name": "x"}, headers={**officer, **headers})
    assert closed.status_code == 409


def ranged_plan() -> dict:
    """plan_file() with 质押对接活动 as an indicator of 1—2 a year and patents on a compound path."""
    document = plan_file()
    document["indicators"][0].update(trajectory="compound", baseline={"year": 2023, "value": 700})
    document["indicators"][1].update(
        unit="场",
        measure="annual",
        source={"metric": "financing.matchmaking_events"},
        target={"min": 1, "max": 2},
        milestones={2024: {"min": 1, "max": 2}, 2025: 3},
    )
    return document


async def test_ranges_and_trajectory_are_read_back(app_client, officer):
    app, client = app_client
    await imported(client, officer, ranged_plan())
    pledges = (await client.get(f"/plans/{PLAN}/indicators/pledges", headers=officer)).json()
    assert (pledges["target"], pledges["target_max"], pledges["trajectory"]) == ("1", "2", "linear")
    assert pledges["milestones"] == {"2024": "1", "2025": "3"} and pledges["milestone_maxima"] == {"2024": "2"}
    patents = (await client.get(PATENTS, headers=officer)).json()
    assert (patents["target"], patents["target_max"], patents["milestone_maxima"], patents["trajectory"]) == (
        "850",
        None,
        {},
        "compound",
    )
    published = (await outbox(app))[-1]["data"]["indicators"]
    assert (published[1]["target_max"], published[1]["milestone_maxima"], published[0]["trajectory"]) == (
        "2",
        {"2024": "2"},
        "compound",
    )


@pytest.mark.parametrize("fmt", ["yaml", "json", "xlsx"])
async def test_the_export_gives_the_ranges_back(client, officer, fmt):
    await imported(client, officer, ranged_plan())
    exported = (await client.get(f"/plans/{PLAN}/export", params={"format": fmt}, headers=officer)).content
    if fmt != "xlsx":
        indicators = yaml.safe_load(exported)["indicators"]  # JSON is YAML too
        assert indicators[1]["target"] == {"min": 1, "max": 2} and indicators[0]["trajectory"] == "compound"
        assert {str(y): v for y, v in indicators[1]["milestones"].items()} == {"2024": {"min": 1, "max": 2}, "2025": 3}
    media = {"yaml": "application/yaml", "json": "application/json", "xlsx": planfile.XLSX_TYPE}[fmt]
    again = await client.post("/plans/import", content=exported, headers={**officer, "Content-Type": media})
    assert again.status_code == 200 and again.json()["version"] == 1  # the same plan: nothing changed


async def test_the_trajectory_and_a_range_are_changed_like_the_rest(app_client, officer):
    app, client = app_client
    await imported(client, officer)
    headers = {**officer, "If-Match": "*"}
    resp = await client.patch(PATENTS, json={"trajectory": "compound"}, headers=headers)
    assert resp.status_code == 200, resp.text
    assert (resp.json()["trajectory"], resp.json()["version"]) == ("compound", 2)
    event = (await outbox(app))[-1]
    assert event["type"] == "zhichan.targets.plan.indicator_changed.v1"
    assert event["data"]["indicators"][0]["trajectory"] == "compound"
    ranged = {"target": {"min": 850, "max": 900}, "milestones": {"2025": {"min": 800, "max": 820}}}
    resp = await client.patch(PATENTS, json=ranged, headers=headers)
    body = resp.json()
    assert (body["target"], body["target_max"], body["milestone_maxima"], body["trajectory"]) == (
        "850",
        "900",
        {"2025": "820"},
        "compound",  # kept: a change names only what it changes
    )
    back = await client.patch(PATENTS, json={"trajectory": "linear", "target": 850}, headers=headers)
    assert (back.json()["trajectory"], back.json()["target_max"], back.json()["version"]) == ("linear", None, 4)


async def test_a_wrong_trajectory_or_range_is_refused(app_client, officer):
    app, client = app_client
    await imported(client, officer)
    headers = {**officer, "If-Match": "*"}
    resp = await client.patch(
        PATENTS, json={"trajectory": "x", "target": {"min": 900, "max": 850, "mean": 875}}, headers=headers
    )
    assert resp.status_code == 422
    assert {e["path"]: e["msg"] for e in resp.json()["errors"]} == {
        "trajectory": "'x' is not one of linear, compound",
        "target.mean": "unknown field 'mean'; fields here: min, max",
        "target": "the range's minimum 900 is above its maximum 850",
    }
    assert len(await outbox(app)) == 2
