"""Evaluations and brand level decisions through the app; the event catalogue."""

from services.agencies import contracts
from services.agencies.models import Evaluation
from services.agencies.tests.integration.conftest import (
    active_agency,
    assert_each_refused,
    assert_problem,
    collect_pages,
    outbox_envelopes,
)
from zhichan.clock import today
from zhichan.testing import auth


def evaluation(year: int = 2025, score: str = "88.5", **extra) -> dict:
    return {"year": year, "score": score, "evaluator": "徐州市知识产权服务业协会", **extra}


BAD_EVALUATIONS = [
    (evaluation(today().year + 1), "year"),
    (evaluation(2022), "year"),  # before the agency was filed
    (evaluation(score="100.5"), "score"),
    (evaluation(score="-1"), "score"),
    (evaluation(score="88.555"), "score"),
    (evaluation(evaluator=""), "evaluator"),
    (evaluation(evaluated_on="2999-01-01"), "evaluated_on"),
]


async def test_an_evaluation_is_recorded_once_per_year(app_client, officer):
    app, client = app_client
    agency = await active_agency(client, officer)
    path = f"/agencies/{agency['id']}/evaluations"
    resp = await client.post(path, json=evaluation(evaluated_on="2026-01-20", notes="年度考核"), headers=officer)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["score"] == "88.50" and body["year"] == 2025 and body["evaluated_on"] == "2026-01-20"
    [event] = await outbox_envelopes(app, "zhichan.agencies.evaluation.recorded.v1")
    assert event["data"]["score"] == "88.50" and event["subject"] == f"evaluation/{body['id']}"
    again = await client.post(path, json=evaluation(score="90"), headers=officer)
    assert assert_problem(again, 409)["evaluation_id"] == body["id"]
    assert (await client.post(path, json=evaluation(2024), headers=officer)).status_code == 201
    assert [e["year"] for e in await collect_pages(client, path, officer)] == [2025, 2024]  # best first


async def test_bad_evaluations_are_422_and_store_nothing(app_client, officer):
    app, client = app_client
    agency = await active_agency(client, officer)

    async def send(body):
        return await client.post(f"/agencies/{agency['id']}/evaluations", json=body, headers=officer)

    await assert_each_refused(app, send, BAD_EVALUATIONS, Evaluation)
    assert_problem(await client.post("/agencies/NOPE/evaluations", json=evaluation(), headers=officer), 404)
    assert_problem(await client.get("/agencies/NOPE/evaluations", headers=officer), 404)


async def test_the_ranking_lists_the_best_first_and_pages_through_ties(client):
    admin = auth("admin")
    scores = {1: "91", 2: "78.5", 3: "91", 4: "95", 5: "60"}
    agencies = {n: await active_agency(client, admin, n, region="320311" if n < 5 else "350102") for n in scores}
    for n, score in scores.items():
        await client.post(f"/agencies/{agencies[n]['id']}/evaluations", json=evaluation(score=score), headers=admin)
    await client.post(f"/agencies/{agencies[1]['id']}/evaluations", json=evaluation(2024, "99"), headers=admin)

    ranking = await collect_pages(client, "/evaluations", admin, year=2025, limit=2)
    assert [e["score"] for e in ranking] == ["95.00", "91.00", "91.00", "78.50", "60.00"]
    tied = [e["agency_id"] for e in ranking[1:3]]
    assert tied == sorted(tied)
    xuzhou = await collect_pages(client, "/evaluations", admin, year=2025, region="320300")
    assert len(xuzhou) == 4
    assert len(await collect_pages(client, "/evaluations", auth("officer", ["350102"]))) == 1
    assert_problem(await client.get("/evaluations", params={"cursor": "bm9wZQ"}, headers=admin), 422, "cursor")
    assert_problem(await client.get("/evaluations"), 401)


async def test_brand_level_changes_by_decision_with_its_reference(app_client, officer):
    app, client = app_client
    agency = await active_agency(client, officer)
    path = f"/agencies/{agency['id']}/brand-level"
    resp = await client.post(
        path,
        json={"brand_level": "municipal", "decision_reference": "徐知发〔2025〕8号", "decided_on": "2025-04-01"},
        headers=officer,
    )
    assert resp.status_code == 200, resp.text
    changed = resp.json()
    assert changed["brand_level"] == "municipal" and resp.headers["etag"] == f'"{agency["id"]}.{changed["version"]}"'
    [decision] = changed["brand_history"]
    assert decision["previous_level"] == "none" and decision["decision_reference"] == "徐知发〔2025〕8号"
    [event] = await outbox_envelopes(app, contracts.AGENCY_BRAND_LEVEL_CHANGED)
    assert (
        event["data"]["brand_level"] == "municipal" and event["data"]["brand_history"][0]["decided_on"] == "2025-04-01"
    )

    refusals = [
        ({"brand_level": "municipal", "decision_reference": "x"}, 409, None),  # no change
        ({"brand_level": "provincial"}, 422, "decision_reference"),
        ({"brand_level": "galactic", "decision_reference": "x"}, 422, "brand_level"),
        ({"brand_level": "provincial", "decision_reference": "x", "decided_on": "2025-03-31"}, 422, "decided_on"),
        ({"brand_level": "provincial", "decision_reference": "x", "decided_on": "2999-01-01"}, 422, "decided_on"),
    ]
    for body, status, field in refusals:
        assert_problem(await client.post(path, json=body, headers=officer), status, field)
    assert len(await outbox_envelopes(app, contracts.AGENCY_BRAND_LEVEL_CHANGED)) == 1

    provincial = await client.post(
        path, json={"brand_level": "provincial", "decision_reference": "苏知〔2026〕2号"}, headers=officer
    )
    assert [d["brand_level"] for d in provincial.json()["brand_history"]] == ["municipal", "provincial"]
    # the level no longer changes by a plain edit, only by decision
    etag = provincial.headers["etag"]
    patched = await client.patch(
        f"/agencies/{agency['id']}", json={"brand_level": "national"}, headers={**officer, "If-Match": etag}
    )
    assert_problem(patched, 422, "brand_level")
    same = await client.patch(
        f"/agencies/{agency['id']}",
        json={"brand_level": "provincial", "name": "新名"},
        headers={**officer, "If-Match": etag},
    )
    assert same.status_code == 200 and same.json()["name"] == "新名"
    await client.post(f"/agencies/{agency['id']}/deregister", headers=officer)
    body = {"brand_level": "none", "decision_reference": "撤销"}
    assert_problem(await client.post(path, json=body, headers=officer), 409)
    assert_problem(await client.post("/agencies/NOPE/brand-level", json=body, headers=officer), 404)
    assert_problem(await client.post(path, json=body, headers=auth("auditor", ["320311"])), 403)


async def test_every_event_type_is_documented_and_every_enum_labelled(client):
    openapi = (await client.get("/openapi.json")).json()
    assert {
        "/agencies/{agency_id}/practitioners",
        "/practitioners/{practitioner_id}/leave",
        "/annual-reports",
        "/complaints/overdue",
        "/agencies/{agency_id}/credit",
        "/inspections/draws/{draw_id}/verify",
        "/disclosure/credit",
        "/disclosure/inspections",
        "/evaluations",
        "/agencies/{agency_id}/brand-level",
    } <= set(openapi["paths"])
    asyncapi = (await client.get("/asyncapi.json")).json()
    assert set(asyncapi["components"]["messages"]) == set(contracts.EVENTS)
    enums = (await client.get("/meta/enums")).json()
    assert enums["credit_grade"]["D"] and enums["complaint_channel"]["hotline"] == "热线"
    assert enums["inspection_finding"]["rectification_ordered"] == "责令整改"
    assert set(enums["credit_kind"]) >= {"complaint_upheld", "abnormal_filings", "inspection_penalty"}
