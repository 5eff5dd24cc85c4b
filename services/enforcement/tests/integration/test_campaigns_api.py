"""Campaigns (专项行动): creation, refusals, the cases linked to them and their counts."""

from services.enforcement.tests.integration.conftest import (
    JINGKOU,
    RUNZHOU,
    ZHENJIANG,
    case_body,
    events_match_their_contracts,
    file_case,
    outbox,
    run_steps,
)
from zhichan.testing import auth


def campaign_body(name: str = "2025年知识产权执法“铁拳”行动", region: str = ZHENJIANG, **overrides) -> dict:
    body = {"name": name, "region": region, "start": "2025-03-01", "end": "2025-11-30", "focus": "商标侵权、假冒专利"}
    body.update(overrides)
    return body


async def create(client, headers, **overrides) -> dict:
    resp = await client.post("/campaigns", json=campaign_body(**overrides), headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def test_creating_a_campaign(app, client, officer):
    resp = await client.post("/campaigns", json=campaign_body(description="市局统一部署"), headers=officer)
    assert resp.status_code == 201, resp.text
    campaign = resp.json()
    assert (
        resp.headers["location"] == f"/campaigns/{campaign['id']}" and resp.headers["etag"] == f'"{campaign["id"]}.1"'
    )
    assert (campaign["start"], campaign["end"], campaign["focus"]) == ("2025-03-01", "2025-11-30", "商标侵权、假冒专利")
    assert campaign["case_counts"]["total"] == 0 and campaign["case_counts"]["fines_total"] == "0.00"
    assert await events_match_their_contracts(app) == ["zhichan.enforcement.campaign.created.v1"]
    assert (await outbox(app))[0]["data"]["name"] == "2025年知识产权执法“铁拳”行动"


async def test_bad_campaigns_are_refused(app, client, officer):
    await create(client, officer)
    duplicate = await client.post("/campaigns", json=campaign_body(), headers=officer)
    assert duplicate.status_code == 409 and duplicate.headers["content-type"] == "application/problem+json"
    nameless = await client.post("/campaigns", json=campaign_body(name=" "), headers=officer)
    assert nameless.status_code == 422 and nameless.json()["errors"][0]["loc"] == ["name"]
    for change, field in [
        ({"end": "2025-02-01"}, "campaigns"),
        ({"region": "999999"}, "region"),
        ({"focus": " "}, "focus"),
        ({"start": "someday"}, "start"),
    ]:
        resp = await client.post("/campaigns", json=campaign_body(name="蓝天行动", **change), headers=officer)
        assert resp.status_code == 422, (change, resp.text)
        if field != "campaigns":
            assert any(field in [str(p) for p in e["loc"]] for e in resp.json()["errors"])
    outside = await client.post("/campaigns", json=campaign_body(region="420500"), headers=officer)
    assert outside.status_code == 403
    assert len(await outbox(app)) == 1
    same_name_elsewhere = await client.post("/campaigns", json=campaign_body(region=JINGKOU), headers=officer)
    assert same_name_elsewhere.status_code == 201


async def test_cases_link_to_a_campaign_of_their_region_and_period(client, officer):
    tiequan = await create(client, officer)
    first = await file_case(client, officer, n=1, origin="campaign", campaign_id=tiequan["id"], filed_date="2025-03-10")
    await run_steps(
        client,
        first["id"],
        officer,
        ("investigate", "2025-03-11", {}),
        ("decide", "2025-04-01", {"outcome": "penalty_decision", "fine": "20000", "confiscation": "500.50"}),
    )
    second = await file_case(
        client,
        officer,
        n=2,
        region=RUNZHOU,
        type="counterfeit_patent",
        campaign_id=tiequan["id"],
        filed_date="2025-04-01",
    )
    await run_steps(
        client,
        second["id"],
        officer,
        ("investigate", "2025-04-02", {}),
        ("decide", "2025-05-01", {"outcome": "penalty_decision", "fine": "3000.25"}),
        ("close", "2025-05-02", {}),
    )
    await file_case(client, officer, n=3, campaign_id=tiequan["id"], filed_date="2025-04-15")
    await file_case(client, officer, n=4)  # not in the campaign

    got = await client.get(f"/campaigns/{tiequan['id']}", headers=officer)
    assert got.status_code == 200 and got.headers["etag"] == f'"{tiequan["id"]}.1"'
    counts = got.json()["case_counts"]
    # decided but not closed is still open: the first and third are open and past their deadlines
    assert (counts["total"], counts["open"], counts["decided"], counts["ended"], counts["overdue"]) == (3, 2, 2, 1, 2)
    assert counts["by_status"] == {"decided": 1, "closed": 1, "filed": 1}
    assert counts["by_type"] == {"trademark_infringement": 2, "counterfeit_patent": 1}
    assert (counts["fines_total"], counts["confiscations_total"]) == ("23000.25", "500.50")
    listed = await client.get("/cases", params={"campaign": tiequan["id"]}, headers=officer)
    assert {c["id"] for c in listed.json()["items"]} >= {first["id"], second["id"]} and len(listed.json()["items"]) == 3


async def test_a_case_outside_the_campaigns_period_or_region_is_refused(client, officer):
    tiequan = await create(client, officer)
    district = await create(client, officer, name="京口区剑网行动", region=JINGKOU)
    admin = auth("admin")
    for body in [
        case_body(campaign_id=tiequan["id"], filed_date="2025-02-28"),
        case_body(campaign_id=tiequan["id"], filed_date="2025-12-01"),
        case_body(region=RUNZHOU, campaign_id=district["id"], filed_date="2025-04-01"),
        case_body(region="420502", campaign_id=tiequan["id"], filed_date="2025-04-01"),
    ]:
        resp = await client.post("/cases", json=body, headers=admin)
        assert resp.status_code == 422 and resp.json()["errors"][0]["loc"] == ["campaign_id"], resp.text


async def test_listing_campaigns(client, officer):
    tiequan = await create(client, officer)
    lantian = await create(client, officer, name="蓝天行动", region=JINGKOU, start="2026-01-01", end="2026-06-30")
    await create(client, auth("officer", ["420500"]), name="宜昌护航行动", region="420500")

    async def ids(headers=officer, **params) -> list[str]:
        resp = await client.get("/campaigns", params=params, headers=headers)
        assert resp.status_code == 200, resp.text
        return [c["id"] for c in resp.json()["items"]]

    assert await ids() == [tiequan["id"], lantian["id"]]
    assert await ids(region=JINGKOU) == [lantian["id"]]
    assert await ids(active_on="2025-06-01") == [tiequan["id"]]
    assert len(await ids(headers=auth("admin"))) == 3
    page = (await client.get("/campaigns", params={"limit": 1}, headers=officer)).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = await client.get("/campaigns", params={"limit": 1, "cursor": page["next_cursor"]}, headers=officer)
    assert [c["id"] for c in rest.json()["items"]] == [lantian["id"]]
    hidden = await client.get(f"/campaigns/{tiequan['id']}", headers=auth("officer", ["420500"]))
    assert hidden.status_code == 404
    assert (await client.get("/campaigns", headers=auth("public"))).status_code == 403


async def test_a_campaign_of_a_region_the_caller_does_not_see_is_not_named_to_it(client, officer):
    yichang = await create(client, auth("officer", ["420500"]), name="宜昌市秘密行动", region="420500")
    resp = await client.post(
        "/cases", json=case_body(campaign_id=yichang["id"], filed_date="2025-04-01"), headers=officer
    )
    assert resp.status_code == 422 and resp.json()["errors"][0]["loc"] == ["campaign_id"]
    assert resp.json()["errors"][0]["msg"] == f"no campaign {yichang['id']}"  # as if there were none
    assert "宜昌" not in resp.text and "420500" not in resp.text
    # a campaign of a region above the caller's covers its cases: it is the caller's to name
    province = await create(client, auth("admin"), name="江苏省铁拳行动", region="320000")
    filed = await client.post(
        "/cases", json=case_body(campaign_id=province["id"], filed_date="2025-04-01"), headers=officer
    )
    assert filed.status_code == 201, filed.text
