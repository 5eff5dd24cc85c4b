"""Transactions, insurance policies and matchmaking events through the app."""

import json

import pytest

from services.financing.models import InsurancePolicy, IpAsset, IpTransaction
from services.financing.tests.integration.conftest import (
    FUZHOU_GULOU,
    GULOU,
    QUANSHAN,
    XUZHOU,
    asset,
    count_rows,
    matchmaking_body,
    outbox_rows,
    policy_body,
    transaction_body,
)
from zhichan.testing import auth

RESOURCES = {
    "transactions": (transaction_body, "transaction"),
    "insurance-policies": (policy_body, "insurance_policy"),
    "matchmaking-events": (lambda serial=1, region=QUANSHAN, **kw: matchmaking_body(region, **kw), "matchmaking_event"),
}


async def ids_of(client, headers, resource: str, **params) -> list[str]:
    resp = await client.get(f"/{resource}", params={"limit": 100, **params}, headers=headers)
    assert resp.status_code == 200, resp.text
    return [item["id"] for item in resp.json()["items"]]


async def test_a_transaction_is_recorded_with_its_assets_and_event(app_client, officer):
    app, client = app_client
    resp = await client.post("/transactions", json=transaction_body(amount="300000.10"), headers=officer)
    assert resp.status_code == 201, resp.text
    record = resp.json()
    assert record["type"] == "licence" and record["amount"] == "300000.10" and record["patent_count"] == 2
    assert record["grantor"]["name"] == "徐州工程学院" and len(record["assets"]) == 2
    assert resp.headers["location"] == f"/transactions/{record['id']}"
    assert resp.headers["etag"] == f'"{record["id"]}.1"'
    rows = await outbox_rows(app)
    assert [r.type for r in rows] == ["zhichan.financing.transaction.recorded.v1"]
    data = json.loads(rows[0].envelope)["data"]
    assert data["amount"] == "300000.10" and data["recorded_on"] == "2025-04-15"
    assert [a["type"] for a in data["assets"]] == ["patent", "patent"]
    fetched = await client.get(f"/transactions/{record['id']}", headers=officer)
    assert fetched.status_code == 200 and fetched.json() == record


async def test_a_transaction_may_be_free_and_need_not_carry_a_record_number(client, officer):
    body = transaction_body(type="transfer", amount="0", record_number=None)
    body["grantee"] = {"name": "张三"}  # a natural person has no USCC
    resp = await client.post("/transactions", json=body, headers=officer)
    assert resp.status_code == 201, resp.text
    assert resp.json()["amount"] == "0.00" and resp.json()["grantee"] == {"name": "张三", "uscc": None}
    second = await client.post("/transactions", json={**body, "contract_date": "2025-01-01"}, headers=officer)
    assert second.status_code == 201  # two transactions without a record number do not collide


async def test_an_insurance_policy_is_recorded_with_its_insured_ip(app_client, officer):
    app, client = app_client
    resp = await client.post("/insurance-policies", json=policy_body(), headers=officer)
    assert resp.status_code == 201, resp.text
    policy = resp.json()
    assert policy["insured_amount"] == "1000000.00" and policy["premium"] == "12000.00"
    assert [a["type"] for a in policy["assets"]] == ["patent", "trademark"]
    assert resp.headers["location"] == f"/insurance-policies/{policy['id']}"
    rows = await outbox_rows(app)
    assert [r.type for r in rows] == ["zhichan.financing.insurance_policy.recorded.v1"]
    assert json.loads(rows[0].envelope)["data"]["insured_amount"] == "1000000.00"
    assert (await client.get(f"/insurance-policies/{policy['id']}", headers=officer)).json() == policy


async def test_a_matchmaking_event_is_recorded(app_client, officer):
    app, client = app_client
    body = matchmaking_body(banks=["中国银行徐州分行", "江苏银行徐州分行", "中国银行徐州分行"])
    resp = await client.post("/matchmaking-events", json=body, headers=officer)
    assert resp.status_code == 201, resp.text
    event = resp.json()
    assert event["banks"] == ["中国银行徐州分行", "江苏银行徐州分行"]  # a bank attends once
    assert event["signed_amount"] == "35000000.50" and event["enterprises_attending"] == 42
    rows = await outbox_rows(app)
    assert [r.type for r in rows] == ["zhichan.financing.matchmaking_event.recorded.v1"]
    data = json.loads(rows[0].envelope)["data"]
    assert data["held_on"] == "2025-06-18" and data["intended_amount"] == "120000000.00"
    assert (await client.get(f"/matchmaking-events/{event['id']}", headers=officer)).json() == event


@pytest.mark.parametrize(
    "resource, body, model",
    [
        ("transactions", transaction_body, IpTransaction),
        ("insurance-policies", policy_body, InsurancePolicy),
    ],
)
async def test_a_number_is_recorded_once(app_client, officer, resource, body, model):
    app, client = app_client
    assert (await client.post(f"/{resource}", json=body(1), headers=officer)).status_code == 201
    assets_before = await count_rows(app, IpAsset)
    again = await client.post(f"/{resource}", json=body(1, region=GULOU), headers=officer)
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    assert await count_rows(app, model) == 1 and await count_rows(app, IpAsset) == assets_before
    assert len(await outbox_rows(app)) == 1


async def test_transaction_filters_and_pagination(client, admin):
    specs = [
        ("transfer", QUANSHAN, [asset()], "2025-01-15"),
        ("licence", QUANSHAN, [asset("trademark", "T1")], "2025-02-15"),
        ("open_licence", GULOU, [asset()], "2025-03-15"),
        ("capital_contribution", GULOU, [asset("copyright", "C1")], "2025-04-15"),
        ("licence", FUZHOU_GULOU, [asset()], "2025-05-15"),
    ]
    ids = []
    for n, (type_, region, assets, recorded) in enumerate(specs, start=1):
        body = transaction_body(n, region, type=type_, assets=assets, contract_date=recorded, recorded_on=recorded)
        resp = await client.post("/transactions", json=body, headers=admin)
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["id"])
    assert await ids_of(client, admin, "transactions") == ids
    assert await ids_of(client, admin, "transactions", region=XUZHOU) == ids[:4]
    assert await ids_of(client, admin, "transactions", type="licence") == [ids[1], ids[4]]
    assert await ids_of(client, admin, "transactions", asset_type="patent") == [ids[0], ids[2], ids[4]]
    assert await ids_of(client, admin, "transactions", recorded_from="2025-02-15", recorded_to="2025-04-14") == [
        ids[1],
        ids[2],
    ]
    first = (await client.get("/transactions", params={"limit": 2}, headers=admin)).json()
    rest = (await client.get("/transactions", params={"cursor": first["next_cursor"]}, headers=admin)).json()
    assert [t["id"] for t in first["items"] + rest["items"]] == ids and rest["next_cursor"] is None


async def test_insurance_filters(client, admin):
    ids = []
    for n, (insurer, assets, start) in enumerate(
        [
            ("中国人民财产保险股份有限公司徐州市分公司", [asset()], "2025-01-01"),
            ("中国平安财产保险股份有限公司徐州中心支公司", [asset("gi", "G1")], "2025-03-01"),
            ("中国人民财产保险股份有限公司徐州市分公司", [asset("trademark", "T1")], "2025-05-01"),
        ],
        start=1,
    ):
        body = policy_body(n, insurer=insurer, assets=assets, period_start=start, period_end="2026-12-31")
        ids.append((await client.post("/insurance-policies", json=body, headers=admin)).json()["id"])
    assert await ids_of(client, admin, "insurance-policies", insurer="人民财产") == [ids[0], ids[2]]
    assert await ids_of(client, admin, "insurance-policies", asset_type="gi") == [ids[1]]
    assert await ids_of(client, admin, "insurance-policies", starts_from="2025-02-01") == ids[1:]
    assert await ids_of(client, admin, "insurance-policies", starts_to="2025-02-01") == ids[:1]


async def test_matchmaking_filters(client, admin):
    ids = []
    for region, held in [(QUANSHAN, "2024-11-01"), (GULOU, "2025-06-18"), (FUZHOU_GULOU, "2025-06-20")]:
        ids.append(
            (
                await client.post("/matchmaking-events", json=matchmaking_body(region, held_on=held), headers=admin)
            ).json()["id"]
        )
    assert await ids_of(client, admin, "matchmaking-events", region=XUZHOU) == ids[:2]
    assert await ids_of(client, admin, "matchmaking-events", held_from="2025-01-01") == ids[1:]
    assert await ids_of(client, admin, "matchmaking-events", held_to="2025-06-18") == ids[:2]


@pytest.mark.parametrize("resource", sorted(RESOURCES))
async def test_region_scoping(client, resource):
    body, _aggregate = RESOURCES[resource]
    xuzhou = auth("officer", [XUZHOU])
    fuzhou = auth("officer", [FUZHOU_GULOU])
    theirs = (await client.post(f"/{resource}", json=body(9, FUZHOU_GULOU), headers=fuzhou)).json()
    mine = (await client.post(f"/{resource}", json=body(1, QUANSHAN), headers=xuzhou)).json()
    assert (await client.get(f"/{resource}/{theirs['id']}", headers=xuzhou)).status_code == 404
    assert await ids_of(client, xuzhou, resource) == [mine["id"]]
    assert await ids_of(client, xuzhou, resource, region=FUZHOU_GULOU) == []
    assert (await client.post(f"/{resource}", json=body(10, FUZHOU_GULOU), headers=xuzhou)).status_code == 403


@pytest.mark.parametrize("resource", sorted(RESOURCES))
async def test_auth_roles_and_unknown_records(client, resource):
    body, _aggregate = RESOURCES[resource]
    assert (await client.get(f"/{resource}")).status_code == 401
    assert (await client.get(f"/{resource}", headers=auth("public", [XUZHOU]))).status_code == 403
    auditor = auth("auditor", [XUZHOU])
    assert (await client.get(f"/{resource}", headers=auditor)).status_code == 200
    assert (await client.post(f"/{resource}", json=body(), headers=auditor)).status_code == 403
    assert (await client.get(f"/{resource}/NOPE", headers=auth("officer", [XUZHOU]))).status_code == 404


async def test_meta_enums_and_asyncapi(client):
    enums = (await client.get("/meta/enums")).json()
    assert enums["pledge_kind"]["mixed"] == "混合质押" and enums["asset_type"]["layout_design"] == "集成电路布图设计"
    assert enums["transaction_type"]["open_licence"] == "开放许可"
    messages = (await client.get("/asyncapi.json")).json()["components"]["messages"]
    assert {
        "zhichan.financing.pledge.registered.v1",
        "zhichan.financing.pledge.risk_compensation_claimed.v1",
        "zhichan.financing.transaction.recorded.v1",
        "zhichan.financing.insurance_policy.recorded.v1",
        "zhichan.financing.matchmaking_event.recorded.v1",
    } <= set(messages)
    loan = messages["zhichan.financing.pledge.registered.v1"]["payload"]["allOf"][1]["properties"]["data"]
    assert loan["properties"]["loan_amount"]["type"] == "string"  # money is a string in events
