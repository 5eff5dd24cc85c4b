"""Indicators through the API: list, read with an ETag, change with If-Match."""

from services.targets.tests.integration.conftest import PLAN, event_types, imported, outbox
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
