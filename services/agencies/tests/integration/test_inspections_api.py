"""Random inspections through the app: the draw, its verification, findings, disclosure."""

from datetime import timedelta

from sqlalchemy import update

from services.agencies.models import Inspection, InspectionDraw
from services.agencies.settings import AgenciesRules
from services.agencies.tests.integration.conftest import (
    active_agency,
    agency_body,
    assert_each_refused,
    assert_problem,
    collect_pages,
    count_rows,
    outbox_envelopes,
    outbox_types,
)
from zhichan.clock import today
from zhichan.testing import auth

POOL = [{"id": f"JC{n:03d}", "name": f"检查员{n}"} for n in range(1, 7)]


def draw_body(**overrides) -> dict:
    return {
        "region": "320311",
        "agency_count": 3,
        "inspector_count": 4,
        "inspector_pool": POOL,
        "seed": 20261124,
    } | overrides


async def agencies_in(client, headers, count: int, region: str = "320311", first_serial: int = 1) -> list[dict]:
    return [await active_agency(client, headers, n, region=region) for n in range(first_serial, first_serial + count)]


async def penalise(client, headers, agency_id: str, times: int = 1) -> None:
    for n in range(times):
        body = {"kind": "penalty", "occurred_on": (today() - timedelta(days=n + 1)).isoformat(), "description": "处罚"}
        assert (
            await client.post(f"/agencies/{agency_id}/credit-entries", json=body, headers=headers)
        ).status_code == 201


async def test_a_draw_picks_eligible_agencies_and_pairs_of_inspectors(app_client, officer):
    app, client = app_client
    eligible = await agencies_in(client, officer, 5)
    await client.post("/agencies", json=agency_body(6), headers=officer)  # filed, not active: not eligible
    await active_agency(client, auth("officer", ["350102"]), 7, region="350102")  # another region
    resp = await client.post("/inspections/draws", json=draw_body(), headers=officer)
    assert resp.status_code == 201, resp.text
    draw = resp.json()
    assert resp.headers["location"] == f"/inspections/draws/{draw['id']}"
    assert draw["seed"] == 20261124 and draw["drawn_on"] == today().isoformat()
    assert sorted(e["agency_id"] for e in draw["eligible_agencies"]) == sorted(a["id"] for a in eligible)
    assert {e["grade"] for e in draw["eligible_agencies"]} == {"A"} and draw["grade_weights"] == {
        "A": 1,
        "B": 1,
        "C": 2,
        "D": 3,
    }
    assert len(draw["drawn_agencies"]) == 3 and len(set(draw["drawn_inspectors"])) == 4
    assert [a["agency_id"] for a in draw["assignments"]] == draw["drawn_agencies"]
    pairs = [tuple(i["id"] for i in a["inspectors"]) for a in draw["assignments"]]
    assert pairs[0] == tuple(draw["drawn_inspectors"][:2]) and pairs[1] == tuple(draw["drawn_inspectors"][2:])
    assert pairs[2] == pairs[0]
    assert await outbox_types(app) == [
        *["zhichan.agencies.agency.filed.v1", "zhichan.agencies.agency.approved.v1"] * 5,
        "zhichan.agencies.agency.filed.v1",
        *["zhichan.agencies.agency.filed.v1", "zhichan.agencies.agency.approved.v1"],
        "zhichan.agencies.inspection_draw.drawn.v1",
        *["zhichan.agencies.inspection.scheduled.v1"] * 3,
    ]
    [drawn] = await outbox_envelopes(app, "zhichan.agencies.inspection_draw.drawn.v1")
    assert drawn["data"]["seed"] == 20261124 and len(drawn["data"]["eligible_agencies"]) == 5
    scheduled = await outbox_envelopes(app, "zhichan.agencies.inspection.scheduled.v1")
    assert [e["data"]["agency_id"] for e in scheduled] == draw["drawn_agencies"]
    assert all(e["data"]["drawn_on"] == today().isoformat() and e["data"]["status"] == "pending" for e in scheduled)


async def test_anyone_can_verify_a_draw_and_the_same_seed_draws_the_same(app_client, officer):
    app, client = app_client
    await agencies_in(client, officer, 6)
    first = (await client.post("/inspections/draws", json=draw_body(), headers=officer)).json()
    second = (await client.post("/inspections/draws", json=draw_body(), headers=officer)).json()
    assert (
        second["drawn_agencies"] == first["drawn_agencies"] and second["drawn_inspectors"] == first["drawn_inspectors"]
    )
    unseeded = (await client.post("/inspections/draws", json=draw_body(seed=None), headers=officer)).json()
    assert isinstance(unseeded["seed"], int)
    for draw in (first, unseeded):
        check = await client.get(f"/inspections/draws/{draw['id']}/verify")  # no token: public
        assert check.status_code == 200, check.text
        verified = check.json()
        assert verified["matches"] is True and verified["seed"] == draw["seed"]
        assert verified["recomputed"]["agencies"] == draw["drawn_agencies"]
    # a recorded result that was tampered with no longer matches its inputs
    async with app.state.session_factory() as session:
        await session.execute(
            update(InspectionDraw)
            .where(InspectionDraw.id == first["id"])
            .values(drawn_agencies=list(reversed(first["drawn_agencies"])))
        )
        await session.commit()
    tampered = (await client.get(f"/inspections/draws/{first['id']}/verify")).json()
    assert tampered["matches"] is False and tampered["recomputed"]["agencies"] == first["drawn_agencies"]
    assert_problem(await client.get("/inspections/draws/NOPE/verify"), 404)


async def test_grade_c_and_d_agencies_carry_the_configured_weights(start_app):
    async with start_app(AgenciesRules(draw_grade_weights={"A": 1, "B": 2, "C": 5, "D": 9})) as (_, client):
        officer = auth("officer", ["320311"])
        clean, once, twice = await agencies_in(client, officer, 3)
        await penalise(client, officer, once["id"])  # 80 points, a penalty this year: C
        await penalise(client, officer, twice["id"], times=3)  # 40 points: D
        draw = (
            await client.post("/inspections/draws", json=draw_body(agency_count=1, inspector_count=2), headers=officer)
        ).json()
        weights = {e["agency_id"]: (e["grade"], e["weight"]) for e in draw["eligible_agencies"]}
        assert weights == {clean["id"]: ("A", 1), once["id"]: ("C", 5), twice["id"]: ("D", 9)}
        overridden = (
            await client.post(
                "/inspections/draws",
                json=draw_body(agency_count=1, inspector_count=2, grade_weights={"A": 1, "B": 1, "C": 1, "D": 1}),
                headers=officer,
            )
        ).json()
        assert {e["weight"] for e in overridden["eligible_agencies"]} == {1}
        assert overridden["grade_weights"] == {"A": 1, "B": 1, "C": 1, "D": 1}


BAD_DRAWS = [
    ({"inspector_count": 8}, "inspector_count"),  # more than the pool holds
    ({"inspector_count": 3}, "inspector_count"),  # not pairs
    ({"inspector_pool": [POOL[0], POOL[0], POOL[1]]}, "inspector_pool"),
    ({"agency_count": 0}, "agency_count"),
    ({"region": "999999"}, "region"),
    ({"seed": -1}, "seed"),
    ({"grade_weights": {"A": 1, "B": 1, "C": 0, "D": 3}}, "C"),
]


async def test_bad_draws_are_422_and_store_nothing(app_client, officer):
    app, client = app_client
    await agencies_in(client, officer, 3)

    async def send(change):
        return await client.post("/inspections/draws", json=draw_body(**change), headers=officer)

    await assert_each_refused(app, send, BAD_DRAWS, InspectionDraw)


async def test_more_agencies_than_eligible_is_409_and_stores_nothing(app_client, officer):
    app, client = app_client
    await agencies_in(client, officer, 2)
    before = await outbox_types(app)
    problem = assert_problem(await client.post("/inspections/draws", json=draw_body(), headers=officer), 409)
    assert problem["eligible"] == 2
    assert await count_rows(app, InspectionDraw) == 0 and await count_rows(app, Inspection) == 0
    assert await outbox_types(app) == before


async def test_findings_conclude_an_inspection_once_and_violations_enter_the_archive(app_client, officer):
    app, client = app_client
    await agencies_in(client, officer, 3)
    draw = (await client.post("/inspections/draws", json=draw_body(), headers=officer)).json()
    compliant, rectify, penalised = (a["inspection_id"] for a in draw["assignments"])
    ok = await client.post(f"/inspections/{compliant}/findings", json={"finding": "compliant"}, headers=officer)
    assert (
        ok.status_code == 200
        and ok.json()["status"] == "concluded"
        and ok.json()["concluded_on"] == today().isoformat()
    )
    assert "zhichan.agencies.credit_entry.recorded.v1" not in await outbox_types(app)
    resp = await client.post(
        f"/inspections/{rectify}/findings",
        json={"finding": "rectification_ordered", "notes": "公示信息不全"},
        headers=officer,
    )
    assert resp.status_code == 200
    resp = await client.post(
        f"/inspections/{penalised}/findings",
        json={"finding": "penalised", "decision_reference": "徐泉市监罚〔2026〕12号"},
        headers=officer,
    )
    assert resp.status_code == 200 and resp.json()["decision_reference"] == "徐泉市监罚〔2026〕12号"
    entries = await outbox_envelopes(app, "zhichan.agencies.credit_entry.recorded.v1")
    assert [(e["data"]["kind"], e["data"]["source_id"]) for e in entries] == [
        ("inspection_rectification", rectify),
        ("inspection_penalty", penalised),
    ]
    assert entries[1]["data"]["reference"] == "徐泉市监罚〔2026〕12号" and entries[1]["data"]["agency_grade"] == "C"
    concluded = await outbox_envelopes(app, "zhichan.agencies.inspection.concluded.v1")
    assert [e["data"]["finding"] for e in concluded] == ["compliant", "rectification_ordered", "penalised"]
    again = await client.post(
        f"/inspections/{compliant}/findings", json={"finding": "penalised", "decision_reference": "x"}, headers=officer
    )
    assert assert_problem(again, 409)["current_status"] == "concluded"


BAD_FINDINGS = [
    ({"finding": "penalised"}, "decision_reference"),
    ({"finding": "fined"}, "finding"),
    ({"finding": "compliant", "concluded_on": "2999-01-01"}, "concluded_on"),
    (
        {"finding": "compliant", "concluded_on": (today() - timedelta(days=1)).isoformat()},
        "concluded_on",
    ),  # before the draw
]


async def test_bad_findings_are_422_and_change_nothing(app_client, officer):
    app, client = app_client
    await agencies_in(client, officer, 3)
    draw = (await client.post("/inspections/draws", json=draw_body(), headers=officer)).json()
    inspection_id = draw["assignments"][0]["inspection_id"]

    async def send(body):
        return await client.post(f"/inspections/{inspection_id}/findings", json=body, headers=officer)

    await assert_each_refused(app, send, BAD_FINDINGS)
    assert (await client.get(f"/inspections/{inspection_id}", headers=officer)).json()["status"] == "pending"
    assert_problem(await client.post("/inspections/NOPE/findings", json={"finding": "compliant"}, headers=officer), 404)


async def test_inspection_reads_lists_and_region_scoping(client):
    xuzhou_officer = auth("officer", ["320311"])
    fuzhou_officer = auth("officer", ["350102"])
    await agencies_in(client, xuzhou_officer, 3)
    await agencies_in(client, fuzhou_officer, 2, region="350102", first_serial=10)
    xuzhou_draw = (await client.post("/inspections/draws", json=draw_body(), headers=xuzhou_officer)).json()
    fuzhou_draw = (
        await client.post("/inspections/draws", json=draw_body(region="350102", agency_count=2), headers=fuzhou_officer)
    ).json()
    first = xuzhou_draw["assignments"][0]["inspection_id"]
    await client.post(f"/inspections/{first}/findings", json={"finding": "compliant"}, headers=xuzhou_officer)

    one = await client.get(f"/inspections/draws/{xuzhou_draw['id']}", headers=xuzhou_officer)
    assert one.status_code == 200 and one.json()["assignments"] == xuzhou_draw["assignments"] and one.headers["etag"]
    assert [d["id"] for d in await collect_pages(client, "/inspections/draws", xuzhou_officer)] == [xuzhou_draw["id"]]
    assert len(await collect_pages(client, "/inspections/draws", auth("admin"), limit=1)) == 2
    inspection = await client.get(f"/inspections/{first}", headers=xuzhou_officer)
    assert inspection.status_code == 200 and inspection.json()["finding"] == "compliant"

    async def inspections(headers, **params):
        return await collect_pages(client, "/inspections", headers, **params)

    assert len(await inspections(xuzhou_officer)) == 3
    assert len(await inspections(auth("admin"), limit=2)) == 5
    assert [i["id"] for i in await inspections(xuzhou_officer, status="concluded")] == [first]
    assert [i["id"] for i in await inspections(xuzhou_officer, finding="compliant")] == [first]
    assert len(await inspections(auth("admin"), draw_id=fuzhou_draw["id"])) == 2
    agency_id = xuzhou_draw["assignments"][1]["agency_id"]
    assert [i["agency_id"] for i in await inspections(xuzhou_officer, agency_id=agency_id)] == [agency_id]
    assert await inspections(xuzhou_officer, year=today().year - 1) == []

    fuzhou_inspection = fuzhou_draw["assignments"][0]["inspection_id"]
    assert_problem(await client.get(f"/inspections/draws/{fuzhou_draw['id']}", headers=xuzhou_officer), 404)
    assert_problem(await client.get(f"/inspections/{fuzhou_inspection}", headers=xuzhou_officer), 404)
    assert_problem(
        await client.post(
            f"/inspections/{fuzhou_inspection}/findings", json={"finding": "compliant"}, headers=xuzhou_officer
        ),
        404,
    )
    assert_problem(
        await client.post("/inspections/draws", json=draw_body(region="350102"), headers=xuzhou_officer), 403
    )
    assert_problem(await client.post("/inspections/draws", json=draw_body(), headers=auth("auditor", ["320311"])), 403)
    assert_problem(await client.get("/inspections"), 401)


async def test_disclosure_publishes_draws_and_results_without_a_token(client):
    admin = auth("admin")
    await agencies_in(client, admin, 3)
    await agencies_in(client, admin, 2, region="350102", first_serial=10)
    xuzhou = (await client.post("/inspections/draws", json=draw_body(), headers=admin)).json()
    await client.post("/inspections/draws", json=draw_body(region="350102", agency_count=2), headers=admin)
    penalised = xuzhou["assignments"][0]
    await client.post(
        f"/inspections/{penalised['inspection_id']}/findings",
        json={"finding": "penalised", "decision_reference": "罚字2号", "notes": "内部备注"},
        headers=admin,
    )
    published = await collect_pages(client, "/disclosure/inspections")
    assert len(published) == 5 and "内部备注" not in str(published)
    [result] = await collect_pages(client, "/disclosure/inspections", finding="penalised")
    assert result["inspection_id"] == penalised["inspection_id"] and result["seed"] == xuzhou["seed"]
    assert result["draw_id"] == xuzhou["id"] and result["agency_name"].startswith("徐州")
    assert (
        result["inspectors"] == [i["name"] for i in penalised["inspectors"]]
        and result["decision_reference"] == "罚字2号"
    )
    assert len(await collect_pages(client, "/disclosure/inspections", region="350102")) == 2
    assert len(await collect_pages(client, "/disclosure/inspections", year=today().year, limit=2)) == 5
    assert await collect_pages(client, "/disclosure/inspections", year=today().year - 1) == []
    assert_problem(await client.get("/disclosure/inspections", params={"finding": "fined"}), 422, "finding")
