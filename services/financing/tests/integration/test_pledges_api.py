"""The pledge API through the app, on a real database."""

import asyncio
import json

from services.financing.models import Pledge
from services.financing.tests.integration.conftest import (
    FUZHOU_GULOU,
    GULOU,
    QUANSHAN,
    XUZHOU,
    asset,
    count_rows,
    outbox_rows,
    pledge_body,
)
from zhichan.testing import auth
from zhichan.uscc import build_uscc


async def register(client, headers, serial: int = 1, **overrides) -> dict:
    resp = await client.post("/pledges", json=pledge_body(serial, **overrides), headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def test_registering_answers_201_with_the_derived_kind_and_writes_its_event(app_client, officer):
    app, client = app_client
    body = pledge_body(
        assets=[asset(), asset("trademark", "12345678", "徐工"), asset("patent", "ZL202310000002.X")],
        loan_amount="12345678.91",
    )
    resp = await client.post("/pledges", json=body, headers=officer)
    assert resp.status_code == 201, resp.text
    pledge = resp.json()
    assert pledge["kind"] == "mixed" and pledge["asset_types"] == ["patent", "trademark"]
    assert pledge["patent_count"] == 2 and pledge["status"] == "registered" and pledge["version"] == 1
    assert pledge["loan_amount"] == "12345678.91" and pledge["outstanding_balance"] == "12345678.91"
    assert pledge["pledgor"] == {"name": body["pledgor_name"], "uscc": body["pledgor_uscc"]}
    assert [a["number"] for a in pledge["assets"]] == [a["number"] for a in body["assets"]]
    assert resp.headers["etag"] == f'"{pledge["id"]}.1"' and resp.headers["location"] == f"/pledges/{pledge['id']}"

    rows = await outbox_rows(app)
    assert [r.type for r in rows] == ["zhichan.financing.pledge.registered.v1"]
    envelope = json.loads(rows[0].envelope)
    assert rows[0].topic == "zhichan.financing" and rows[0].key == pledge["id"]
    assert envelope["subject"] == f"pledge/{pledge['id']}" and envelope["region"] == QUANSHAN
    data = envelope["data"]
    assert data["loan_amount"] == "12345678.91" and isinstance(data["valuation"], str)  # strings, never floats
    assert data["registered_on"] == "2025-03-01" and data["kind"] == "mixed" and data["patent_count"] == 2
    assert [a["type"] for a in data["assets"]] == ["patent", "trademark", "patent"]

    fetched = await client.get(f"/pledges/{pledge['id']}", headers=officer)
    assert fetched.json() == pledge and fetched.headers["etag"] == resp.headers["etag"]


async def test_a_registration_number_is_registered_once(app_client, officer):
    app, client = app_client
    await register(client, officer, 1)
    again = await client.post("/pledges", json=pledge_body(2, registration_number="Y2025000001"), headers=officer)
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    assert await count_rows(app, Pledge) == 1 and len(await outbox_rows(app)) == 1


async def test_release_records_its_date_and_balance_falls_to_zero(app_client, officer):
    app, client = app_client
    pledge = await register(client, officer)
    resp = await client.post(
        f"/pledges/{pledge['id']}/release", json={"date": "2025-09-30", "reason": "贷款结清"}, headers=officer
    )
    assert resp.status_code == 200, resp.text
    released = resp.json()
    assert released["status"] == "released" and released["released_on"] == "2025-09-30"
    assert released["outstanding_balance"] == "0.00" and released["version"] == 2
    assert released["status_history"][-1]["reason"] == "贷款结清"
    assert resp.headers["etag"] == f'"{pledge["id"]}.2"'
    rows = await outbox_rows(app)
    assert rows[-1].type == "zhichan.financing.pledge.released.v1"
    assert json.loads(rows[-1].envelope)["data"]["released_on"] == "2025-09-30"


async def test_release_without_a_body_takes_effect_today(client, officer):
    pledge = await register(client, officer)
    resp = await client.post(f"/pledges/{pledge['id']}/release", headers=officer)
    assert resp.status_code == 200 and resp.json()["released_on"] == resp.json()["status_history"][-1]["on"]


async def test_default_then_dispose(app_client, officer):
    app, client = app_client
    pledge = await register(client, officer)
    pid = pledge["id"]
    defaulted = await client.post(
        f"/pledges/{pid}/default", json={"date": "2025-08-01", "outstanding": "3200000.55"}, headers=officer
    )
    assert defaulted.status_code == 200, defaulted.text
    assert defaulted.json()["outstanding_at_default"] == "3200000.55"
    assert defaulted.json()["outstanding_balance"] == "3200000.55"
    early = await client.post(f"/pledges/{pid}/dispose", json={"date": "2025-07-31", "proceeds": "1"}, headers=officer)
    assert early.status_code == 422 and early.json()["errors"][0]["loc"] == ["date"]
    assert "default (2025-08-01)" in early.json()["detail"]
    disposed = await client.post(
        f"/pledges/{pid}/dispose", json={"date": "2025-11-20", "proceeds": "2500000.00"}, headers=officer
    )
    assert disposed.status_code == 200
    state = disposed.json()
    assert state["status"] == "disposed" and state["disposal_proceeds"] == "2500000.00"
    assert state["outstanding_balance"] == "0.00" and state["version"] == 3
    assert [h["status"] for h in state["status_history"]] == ["registered", "defaulted", "disposed"]
    assert [r.type.split(".")[3] for r in await outbox_rows(app)] == ["registered", "defaulted", "disposed"]


async def test_the_state_machine_refuses_what_does_not_follow(client, officer):
    pledge = await register(client, officer)
    pid = pledge["id"]
    dispose = await client.post(f"/pledges/{pid}/dispose", json={"proceeds": "1"}, headers=officer)
    assert dispose.status_code == 409
    assert dispose.json()["current_status"] == "registered" and dispose.json()["action"] == "dispose"
    assert (await client.post(f"/pledges/{pid}/release", headers=officer)).status_code == 200
    for action, body in [("release", {}), ("default", {"outstanding": "1"}), ("dispose", {"proceeds": "1"})]:
        resp = await client.post(f"/pledges/{pid}/{action}", json=body, headers=officer)
        assert resp.status_code == 409 and resp.json()["current_status"] == "released", action


async def test_concurrent_changes_of_one_pledge_do_not_interleave(app_client, officer):
    app, client = app_client
    pledge = await register(client, officer)
    answers = await asyncio.gather(
        client.post(f"/pledges/{pledge['id']}/release", headers=officer),
        client.post(f"/pledges/{pledge['id']}/default", json={"outstanding": "1"}, headers=officer),
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    assert [json.loads(r.envelope)["aggregateversion"] for r in await outbox_rows(app)] == [1, 2]


async def test_subsidies_attach_to_the_pledge_and_publish_its_state(app_client, officer):
    app, client = app_client
    pledge = await register(client, officer)
    body = {
        "amount": "45000.50",
        "period_start": "2025-03-01",
        "period_end": "2025-12-31",
        "approving_body": "徐州市市场监督管理局",
    }
    resp = await client.post(f"/pledges/{pledge['id']}/subsidies", json=body, headers=officer)
    assert resp.status_code == 201, resp.text
    state = resp.json()
    assert state["version"] == 2 and len(state["subsidies"]) == 1
    assert state["subsidies"][0]["amount"] == "45000.50"
    assert state["subsidies"][0]["approving_body"] == "徐州市市场监督管理局"
    rows = await outbox_rows(app)
    assert rows[-1].type == "zhichan.financing.pledge.subsidy_granted.v1"
    assert json.loads(rows[-1].envelope)["data"]["subsidies"][0]["amount"] == "45000.50"
    second = await client.post(f"/pledges/{pledge['id']}/subsidies", json=body, headers=officer)
    assert [s["amount"] for s in second.json()["subsidies"]] == ["45000.50", "45000.50"]


async def test_risk_compensation_needs_a_default_and_stays_within_the_loss(app_client, officer):
    app, client = app_client
    pledge = await register(client, officer)
    pid = pledge["id"]
    claim = {
        "claimed_on": "2025-10-01",
        "claim_amount": "1000000.00",
        "paid_amount": "600000.00",
        "fund": "风险补偿资金池",
    }
    early = await client.post(f"/pledges/{pid}/risk-compensations", json=claim, headers=officer)
    assert early.status_code == 409 and early.json()["current_status"] == "registered"

    await client.post(f"/pledges/{pid}/default", json={"date": "2025-08-01", "outstanding": "1500000"}, headers=officer)
    ok = await client.post(f"/pledges/{pid}/risk-compensations", json=claim, headers=officer)
    assert ok.status_code == 201, ok.text
    assert ok.json()["risk_compensations"][0] | {"id": None, "recorded_at": None} == {
        "id": None,
        "recorded_at": None,
        "claimed_on": "2025-10-01",
        "claim_amount": "1000000.00",
        "paid_amount": "600000.00",
        "fund": "风险补偿资金池",
    }
    assert (await outbox_rows(app))[-1].type == "zhichan.financing.pledge.risk_compensation_claimed.v1"

    # claims together cover at most the principal lost: 1,000,000 of 1,500,000 is claimed already
    over = await client.post(
        f"/pledges/{pid}/risk-compensations", json={**claim, "claim_amount": "500000.01"}, headers=officer
    )
    assert over.status_code == 422 and over.json()["errors"][0]["loc"] == ["claim_amount"]
    rest = await client.post(
        f"/pledges/{pid}/risk-compensations",
        json={**claim, "claim_amount": "500000.00", "paid_amount": "0"},
        headers=officer,
    )
    assert rest.status_code == 201 and len(rest.json()["risk_compensations"]) == 2


async def test_list_filters_and_cursor_pagination(client, admin):
    specs = [
        # serial, region, assets, amount, registered, pledgee
        (1, QUANSHAN, [asset()], "1000000.00", "2025-01-10", "中国银行徐州分行"),
        (2, QUANSHAN, [asset(number="A"), asset(number="B")], "2000000.00", "2025-02-10", "江苏银行徐州分行"),
        (3, GULOU, [asset("trademark", "T1")], "3000000.50", "2025-03-10", "中国银行徐州分行"),
        (4, GULOU, [asset("copyright", "C1"), asset("patent", "P4")], "4000000.00", "2025-04-10", "徐州农商银行"),
        (5, FUZHOU_GULOU, [asset("gi", "G1")], "5000000.00", "2025-05-10", "福州银行"),
        (6, QUANSHAN, [asset(number="P6")], "6000000.00", "2024-12-31", "中国银行徐州分行"),
        (7, QUANSHAN, [asset("layout_design", "L7")], "700000.00", "2025-06-10", "交通银行徐州分行"),
    ]
    ids = {}
    for serial, region, assets, amount, registered, pledgee in specs:
        body = pledge_body(
            serial,
            region,
            assets=assets,
            loan_amount=amount,
            registered_on=registered,
            pledgee=pledgee,
            loan_term_start=registered,
        )
        resp = await client.post("/pledges", json=body, headers=admin)
        assert resp.status_code == 201, resp.text
        ids[serial] = resp.json()["id"]
    await client.post(f"/pledges/{ids[1]}/release", json={"date": "2025-06-01"}, headers=admin)
    await client.post(f"/pledges/{ids[3]}/default", json={"date": "2025-06-01", "outstanding": "1"}, headers=admin)

    async def serials(**params) -> list[int]:
        resp = await client.get("/pledges", params={"limit": 100, **params}, headers=admin)
        assert resp.status_code == 200, resp.text
        by_id = {v: k for k, v in ids.items()}
        return sorted(by_id[p["id"]] for p in resp.json()["items"])

    assert await serials() == [1, 2, 3, 4, 5, 6, 7]
    assert await serials(region=XUZHOU) == [1, 2, 3, 4, 6, 7]
    assert await serials(region=GULOU) == [3, 4]
    assert await serials(status="released") == [1]
    assert await serials(status="registered", region=XUZHOU) == [2, 4, 6, 7]
    assert await serials(kind="portfolio") == [2]
    assert await serials(kind="mixed") == [4]
    assert await serials(kind="patent") == [1, 6, 7]
    assert await serials(kind="trademark") == [3, 5]
    assert await serials(asset_type="patent") == [1, 2, 4, 6]
    assert await serials(asset_type="gi") == [5]
    assert await serials(pledgee="中国银行") == [1, 3, 6]
    assert await serials(pledgee="100%_") == []  # LIKE wildcards are matched literally
    assert await serials(pledgor_uscc=build_uscc(GULOU, 4)) == [4]
    assert await serials(registered_from="2025-01-01", registered_to="2025-03-10") == [1, 2, 3]
    assert await serials(min_amount="2000000.00", max_amount="4000000") == [2, 3, 4]
    assert await serials(min_amount="3000000.50") == [3, 4, 5, 6]
    assert await serials(min_amount="3000000.51") == [4, 5, 6]

    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/pledges", params=params, headers=admin)).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(ids.values())


async def test_region_scoping(client):
    xuzhou = auth("officer", [XUZHOU])
    fuzhou = auth("officer", [FUZHOU_GULOU])
    theirs = await register(client, fuzhou, 9, region=FUZHOU_GULOU)
    await register(client, xuzhou, 1)
    assert (await client.get(f"/pledges/{theirs['id']}", headers=xuzhou)).status_code == 404
    mine = (await client.get("/pledges", headers=xuzhou)).json()["items"]
    assert [p["region"] for p in mine] == [QUANSHAN]
    assert (await client.get("/pledges", params={"region": FUZHOU_GULOU}, headers=xuzhou)).json()["items"] == []
    assert (await client.post("/pledges", json=pledge_body(10, FUZHOU_GULOU), headers=xuzhou)).status_code == 403
    for action, body in [("release", {}), ("default", {"outstanding": "1"})]:
        resp = await client.post(f"/pledges/{theirs['id']}/{action}", json=body, headers=xuzhou)
        assert resp.status_code == 404
    # an auditor of the province sees both cities' districts below it
    assert len((await client.get("/pledges", headers=auth("auditor", ["320000"]))).json()["items"]) == 1


async def test_auth_is_required_and_roles_are_checked(client):
    assert (await client.get("/pledges")).status_code == 401
    assert (await client.post("/pledges", json=pledge_body())).status_code == 401
    public = auth("public", [XUZHOU])
    assert (await client.get("/pledges", headers=public)).status_code == 403
    for role in ("auditor", "department"):
        reader = auth(role, [XUZHOU])
        assert (await client.get("/pledges", headers=reader)).status_code == 200
        assert (await client.post("/pledges", json=pledge_body(), headers=reader)).status_code == 403


async def test_idempotency_key_replays_the_first_answer(app_client, officer):
    app, client = app_client
    headers = {**officer, "Idempotency-Key": "pledge-1"}
    first = await client.post("/pledges", json=pledge_body(), headers=headers)
    second = await client.post("/pledges", json=pledge_body(), headers=headers)
    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    assert await count_rows(app, Pledge) == 1 and len(await outbox_rows(app)) == 1
    other = await client.post("/pledges", json=pledge_body(2), headers=headers)
    assert other.status_code == 422 and await count_rows(app, Pledge) == 1


async def test_unknown_pledges_are_404(client, officer):
    assert (await client.get("/pledges/NOPE", headers=officer)).status_code == 404
    for path, body in [
        ("release", {}),
        ("default", {"outstanding": "1"}),
        ("dispose", {"proceeds": "1"}),
        ("subsidies", {"amount": "1", "period_start": "2025-01-01", "period_end": "2025-01-02", "approving_body": "x"}),
        ("risk-compensations", {"claim_amount": "1"}),
    ]:
        assert (await client.post(f"/pledges/NOPE/{path}", json=body, headers=officer)).status_code == 404, path
