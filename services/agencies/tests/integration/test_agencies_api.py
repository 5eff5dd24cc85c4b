"""The agencies API through the app, on a real database."""

import json

import pytest
from sqlalchemy import func, select

from services.agencies.tests.integration.conftest import agency_body
from zhichan.events.outbox import OutboxEvent
from zhichan.testing import auth
from zhichan.uscc import build_uscc


async def outbox_rows(app) -> list[OutboxEvent]:
    async with app.state.session_factory() as session:
        return list((await session.execute(select(OutboxEvent).order_by(OutboxEvent.id))).scalars())


async def count_agencies(app) -> int:
    from services.agencies.models import Agency

    async with app.state.session_factory() as session:
        return (await session.execute(select(func.count()).select_from(Agency))).scalar_one()


async def test_filing_answers_201_filed_and_writes_its_event(app_client, officer):
    app, client = app_client
    resp = await client.post("/agencies", json=agency_body(), headers=officer)
    assert resp.status_code == 201, resp.text
    agency = resp.json()
    assert agency["status"] == "filed" and agency["version"] == 1
    assert resp.headers["etag"] == f'"{agency["id"]}.1"'
    rows = await outbox_rows(app)
    assert [r.type for r in rows] == ["zhichan.agencies.agency.filed.v1"]
    envelope = json.loads(rows[0].envelope)
    assert envelope["subject"] == f"agency/{agency['id']}" and envelope["region"] == "320311"
    assert envelope["data"]["uscc"] == agency["uscc"] and envelope["aggregateversion"] == 1
    assert rows[0].key == agency["id"] and rows[0].topic == "zhichan.agencies" and rows[0].sent_at is None


@pytest.mark.parametrize(
    "change, field",
    [
        ({"uscc": "91320311MA1R7J8H40"}, "uscc"),
        ({"region": "999999"}, "region"),
        ({"service_types": ["astrology"]}, "service_types"),
        ({"service_types": []}, "service_types"),
        ({"name": "  "}, "name"),
        ({"brand_level": "galactic"}, "brand_level"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
async def test_bad_input_is_a_problem_naming_the_field_and_stores_nothing(app_client, officer, change, field):
    app, client = app_client
    resp = await client.post("/agencies", json=agency_body(**change), headers=officer)
    assert resp.status_code == 422
    assert resp.headers["content-type"] == "application/problem+json"
    problem = resp.json()
    assert problem["status"] == 422 and problem["title"]
    assert any(field in [str(p) for p in e["loc"]] for e in problem["errors"]), problem
    assert await count_agencies(app) == 0 and await outbox_rows(app) == []


async def test_duplicate_uscc_among_live_agencies_is_409(app_client, officer):
    app, client = app_client
    first = (await client.post("/agencies", json=agency_body(1), headers=officer)).json()
    dup = await client.post("/agencies", json=agency_body(1, name="另一家"), headers=officer)
    assert dup.status_code == 409 and dup.headers["content-type"] == "application/problem+json"
    assert first["id"] in dup.json()["detail"]  # the agency already filed is named
    assert await count_agencies(app) == 1 and len(await outbox_rows(app)) == 1  # nothing written
    await client.post(f"/agencies/{first['id']}/deregister", headers=officer)
    again = await client.post("/agencies", json=agency_body(1, name="重新备案"), headers=officer)
    assert again.status_code == 201


async def test_state_machine_through_the_api(client, officer):
    agency = (await client.post("/agencies", json=agency_body(), headers=officer)).json()
    aid = agency["id"]
    steps = [
        ("approve", 200, "active"),
        ("approve", 409, None),
        ("suspend", 200, "suspended"),
        ("suspend", 409, None),
        ("reinstate", 200, "active"),
        ("deregister", 200, "deregistered"),
        ("reinstate", 409, None),
        ("approve", 409, None),
    ]
    for action, status, expected in steps:
        resp = await client.post(f"/agencies/{aid}/{action}", headers=officer)
        assert resp.status_code == status, (action, resp.text)
        if expected:
            assert resp.json()["status"] == expected
        else:
            problem = resp.json()
            assert problem["action"] == action and problem["current_status"] == resp.json()["current_status"]
    final = (await client.get(f"/agencies/{aid}", headers=officer)).json()
    assert [h["status"] for h in final["status_history"]] == ["filed", "active", "suspended", "active", "deregistered"]
    assert final["version"] == 5


async def test_transition_dates_cannot_go_back_or_ahead(client, officer):
    agency = (await client.post("/agencies", json=agency_body(filed_on="2025-03-01"), headers=officer)).json()
    before = await client.post(f"/agencies/{agency['id']}/approve", json={"date": "2025-02-01"}, headers=officer)
    assert before.status_code == 422 and before.json()["errors"][0]["loc"] == ["date"]
    future = await client.post(f"/agencies/{agency['id']}/approve", json={"date": "2999-01-01"}, headers=officer)
    assert future.status_code == 422
    ok = await client.post(f"/agencies/{agency['id']}/approve", json={"date": "2025-03-15"}, headers=officer)
    assert ok.status_code == 200 and ok.json()["status_history"][-1]["on"] == "2025-03-15"


async def test_list_filters_and_cursor_pagination(client):
    admin = auth("admin")
    for n in range(1, 8):
        region = "320311" if n <= 5 else "320302"
        body = agency_body(
            n,
            region=region,
            offline=n % 2 == 1,
            in_cluster=n == 3,
            service_types=["legal"] if n == 4 else ["patent_agency"],
        )
        created = (await client.post("/agencies", json=body, headers=admin)).json()
        if n <= 3:
            await client.post(f"/agencies/{created['id']}/approve", headers=admin)
    xuzhou = await client.get("/agencies", params={"region": "320300", "limit": 3}, headers=admin)
    page1 = xuzhou.json()
    assert len(page1["items"]) == 3 and page1["next_cursor"]
    seen = [a["id"] for a in page1["items"]]
    cursor = page1["next_cursor"]
    while cursor:
        page = (
            await client.get("/agencies", params={"region": "320300", "limit": 3, "cursor": cursor}, headers=admin)
        ).json()
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == 7 and seen == sorted(seen)

    async def count(**params):
        resp = await client.get("/agencies", params={"limit": 100, **params}, headers=admin)
        assert resp.status_code == 200, resp.text
        return len(resp.json()["items"])

    assert await count(region="320311") == 5
    assert await count(region="320302") == 2
    assert await count(status="active") == 3
    assert await count(service_type="legal") == 1
    assert await count(offline="true") == 4
    assert await count(in_cluster="true") == 1
    assert await count(region="320311", status="filed", offline="false") == 1


async def test_bad_cursor_is_a_problem(client):
    resp = await client.get("/agencies", params={"cursor": "%%%"}, headers=auth("admin"))
    assert resp.status_code == 422 and resp.json()["errors"][0]["loc"] == ["cursor"]


async def test_region_scoping(client):
    xuzhou_officer = auth("officer", ["320311"])
    fuzhou_officer = auth("officer", ["350102"])
    fuzhou = (await client.post("/agencies", json=agency_body(9, region="350102"), headers=fuzhou_officer)).json()
    await client.post("/agencies", json=agency_body(1), headers=xuzhou_officer)
    # reads of another region's record: it does not exist for you
    assert (await client.get(f"/agencies/{fuzhou['id']}", headers=xuzhou_officer)).status_code == 404
    # lists: filtered out, even when asked for by region
    mine = (await client.get("/agencies", headers=xuzhou_officer)).json()["items"]
    assert [a["region"] for a in mine] == ["320311"]
    assert (await client.get("/agencies", params={"region": "350102"}, headers=xuzhou_officer)).json()["items"] == []
    # writes into another region: forbidden
    resp = await client.post("/agencies", json=agency_body(10, region="350102"), headers=xuzhou_officer)
    assert resp.status_code == 403
    # a city officer sees the districts below
    assert (await client.get("/agencies", headers=auth("officer", ["320300"]))).json()["items"]


async def test_auth_is_required_and_roles_are_checked(client):
    assert (await client.get("/agencies")).status_code == 401
    assert (await client.get("/agencies", headers={"Authorization": "Bearer nonsense"})).status_code == 401
    public = auth("public", ["320311"])
    assert (await client.post("/agencies", json=agency_body(), headers=public)).status_code == 403
    auditor = auth("auditor", ["320311"])
    assert (await client.get("/agencies", headers=auditor)).status_code == 200
    assert (await client.post("/agencies", json=agency_body(), headers=auditor)).status_code == 403


async def test_idempotency_key(app_client, officer):
    app, client = app_client
    headers = {**officer, "Idempotency-Key": "file-1"}
    first = await client.post("/agencies", json=agency_body(), headers=headers)
    second = await client.post("/agencies", json=agency_body(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert await count_agencies(app) == 1 and len(await outbox_rows(app)) == 1
    other = await client.post("/agencies", json=agency_body(2), headers=headers)
    assert other.status_code == 422 and other.headers["content-type"] == "application/problem+json"
    assert await count_agencies(app) == 1


async def test_idempotency_keys_are_per_caller(app_client):
    app, client = app_client
    a = {**auth("officer", ["320311"], sub="alice"), "Idempotency-Key": "k"}
    b = {**auth("officer", ["320311"], sub="bob"), "Idempotency-Key": "k"}
    assert (await client.post("/agencies", json=agency_body(1), headers=a)).status_code == 201
    assert (await client.post("/agencies", json=agency_body(2), headers=b)).status_code == 201
    assert await count_agencies(app) == 2


async def test_patch_needs_a_fresh_if_match(app_client, officer):
    app, client = app_client
    created = await client.post("/agencies", json=agency_body(), headers=officer)
    aid, etag = created.json()["id"], created.headers["etag"]
    assert (await client.patch(f"/agencies/{aid}", json={"name": "新名"}, headers=officer)).status_code == 428
    ok = await client.patch(
        f"/agencies/{aid}", json={"name": "新名", "in_cluster": True}, headers={**officer, "If-Match": etag}
    )
    assert ok.status_code == 200 and ok.json()["name"] == "新名" and ok.json()["version"] == 2
    stale = await client.patch(f"/agencies/{aid}", json={"name": "又一个"}, headers={**officer, "If-Match": etag})
    assert stale.status_code == 412 and stale.headers["content-type"] == "application/problem+json"
    assert (await client.get(f"/agencies/{aid}", headers=officer)).json()["name"] == "新名"
    assert [r.type.split(".")[3] for r in await outbox_rows(app)] == ["filed", "updated"]
    bad = await client.patch(
        f"/agencies/{aid}", json={"service_types": ["nope"]}, headers={**officer, "If-Match": ok.headers["etag"]}
    )
    assert bad.status_code == 422


async def test_unknown_agency_is_404(client, officer):
    assert (await client.get("/agencies/NOPE", headers=officer)).status_code == 404
    assert (await client.post("/agencies/NOPE/approve", headers=officer)).status_code == 404


async def test_health_meta_and_asyncapi(client):
    assert (await client.get("/healthz")).json()["status"] == "ok"
    ready = await client.get("/readyz")  # no broker in this test: not ready, said as a problem
    assert ready.status_code == 503 and ready.json()["checks"]["database"] == "ok"
    enums = (await client.get("/meta/enums")).json()
    assert enums["service_type"]["patent_agency"] == "专利代理"
    asyncapi = (await client.get("/asyncapi.json")).json()
    assert "zhichan.agencies.agency.filed.v1" in asyncapi["components"]["messages"]
    assert (await client.get("/metrics")).status_code == 200


async def test_uscc_is_normalised_to_upper_case(client, officer):
    body = agency_body(uscc=build_uscc("320311", 42).lower())
    resp = await client.post("/agencies", json=body, headers=officer)
    assert resp.status_code == 201 and resp.json()["uscc"] == build_uscc("320311", 42)


async def test_an_unknown_region_filter_is_a_problem(client):
    resp = await client.get("/agencies", params={"region": "999999"}, headers=auth("admin"))
    assert resp.status_code == 422 and resp.json()["errors"][0]["loc"] == ["region"]


async def test_a_refused_request_does_not_hold_its_idempotency_key(app_client, officer):
    app, client = app_client
    headers = {**officer, "Idempotency-Key": "file-2"}
    refused = await client.post("/agencies", json=agency_body(region="999999"), headers=headers)
    assert refused.status_code == 422
    corrected = await client.post("/agencies", json=agency_body(), headers=headers)
    assert corrected.status_code == 201 and await count_agencies(app) == 1


async def test_a_uscc_filed_in_another_region_answers_409_naming_nothing_of_that_agency(app_client, officer):
    app, client = app_client
    zhenjiang = auth("officer", ["321100"])
    theirs = (await client.post("/agencies", json=agency_body(1, region="321102"), headers=zhenjiang)).json()
    mine = agency_body(1, name="另一家", uscc=theirs["uscc"])  # 320311, the officer's own region
    dup = await client.post("/agencies", json=mine, headers=officer)
    assert dup.status_code == 409 and dup.json()["detail"] == f"USCC {theirs['uscc']} is already filed"
    assert theirs["id"] not in dup.text and theirs["name"] not in dup.text  # nor its status: the detail is all
    assert await count_agencies(app) == 1
