"""Filing, reading and listing cases through the app, on a real database."""

import asyncio

import pytest

from services.enforcement.tests.integration.conftest import (
    JINGKOU,
    RUNZHOU,
    ZHENJIANG,
    case_body,
    company,
    count_cases,
    file_case,
    outbox,
    run_steps,
    step,
)
from zhichan.clock import today
from zhichan.testing import auth
from zhichan.uscc import build_uscc


async def test_filing_computes_and_explains_the_due_date_and_writes_its_event(app, client, officer):
    resp = await client.post("/cases", json=case_body(), headers=officer)
    assert resp.status_code == 201, resp.text
    case = resp.json()
    assert resp.headers["etag"] == f'"{case["id"]}.1"' and resp.headers["location"] == f"/cases/{case['id']}"
    assert case["status"] == "filed" and case["filed_date"] == "2025-03-03"
    assert case["due_date"] == "2025-06-01" and case["base_due_date"] == "2025-06-01"
    assert case["deadline_rule"]["base_amount"] == 90 and case["deadline_rule"]["source_region"] is None
    assert "90 days from filing on 2025-03-03 under the national default rule → 2025-06-01" in case["due_date_basis"]
    assert case["overdue_periods"] == [{"start": "2025-06-02", "end": None}]
    assert case["timeline"] == [
        {
            "action": "file",
            "status": "filed",
            "date": "2025-03-03",
            "at": case["timeline"][0]["at"],
            "actor": "test-officer",
            "reason": None,
            "details": {},
        }
    ]
    [event] = await outbox(app)
    assert event["type"] == "zhichan.enforcement.case.filed.v1" and event["subject"] == f"case/{case['id']}"
    assert event["region"] == JINGKOU and event["aggregateversion"] == 1 and event["actor"] == "test-officer"
    assert event["data"]["due_date"] == "2025-06-01" and event["data"]["respondent"]["uscc"] == build_uscc(JINGKOU, 1)


async def test_each_procedure_has_its_default_deadline(client, officer):
    for n, procedure, due in [(1, "administrative_adjudication", "2025-06-03"), (2, "mediation", "2025-04-02")]:
        case = await file_case(client, officer, n=n, procedure=procedure, type="patent_infringement_dispute")
        assert case["due_date"] == due, procedure


async def test_filed_date_defaults_to_today(client, officer):
    body = case_body()
    del body["filed_date"]
    case = (await client.post("/cases", json=body, headers=officer)).json()
    assert case["filed_date"] == today().isoformat() and case["overdue_periods"][0]["start"] > case["filed_date"]


async def test_a_natural_persons_id_number_is_kept_but_never_published(app, client, officer):
    case = await file_case(client, officer, respondent={"name": "张三", "id_number": "11010519491231002x"})
    person = {"kind": "natural_person", "name": "张三", "uscc": None}
    assert case["respondent"] == {**person, "id_number": "11010519491231002X"}
    [event] = await outbox(app)
    assert event["data"]["respondent"] == person
    assert "11010519491231002X" not in str(event)


async def test_officers_read_the_parties_id_numbers_wherever_a_case_is_answered(client, officer):
    respondent = {"name": "张三", "id_number": "11010519491231002X"}
    complainant = {"kind": "natural_person", "name": "李四", "id_number": "321102198001010017"}
    case = await file_case(client, officer, respondent=respondent, complainant=complainant)
    one = (await client.get(f"/cases/{case['id']}", headers=officer)).json()
    [listed] = (await client.get("/cases", headers=officer)).json()["items"]
    stepped = await step(client, case["id"], "investigate", officer)
    for answer in (case, one, listed, stepped):
        assert answer["respondent"]["id_number"] == respondent["id_number"]
        assert answer["complainant"] == {**complainant, "uscc": None}


async def test_a_complainant_may_be_given_by_name(client, officer):
    case = await file_case(client, officer, complainant="某某（中国）有限公司")
    assert case["complainant"]["name"] == "某某（中国）有限公司" and case["complainant"]["kind"] is None
    case = await file_case(client, officer, n=2, complainant=company(9))
    assert case["complainant"]["kind"] == "organization"


BAD_INPUT = [
    ({"type": "piracy"}, "type"),
    ({"procedure": "arbitration"}, "procedure"),
    ({"origin": "rumour"}, "origin"),
    ({"region": "999999"}, "region"),
    ({"filed_date": "2999-01-01"}, "filed_date"),
    ({"respondent": {"name": "某公司", "uscc": "91321102000000001A"}}, "uscc"),
    ({"respondent": {"kind": "organization", "name": "某公司"}}, "respondent"),
    ({"respondent": {"kind": "natural_person", "name": "张三", "uscc": build_uscc(JINGKOU, 1)}}, "respondent"),
    ({"respondent": {"name": "张三", "id_number": "110105194912310021"}}, "id_number"),
    ({"case_number": "  "}, "case_number"),
    ({"handling_unit": ""}, "handling_unit"),
    ({"unexpected": 1}, "unexpected"),
    ({"campaign_id": "NOPE"}, "campaign_id"),
    ({"origin": "campaign"}, "campaign_id"),
]


async def test_bad_input_is_a_problem_naming_the_field_and_stores_nothing(app, client, officer):
    for change, field in BAD_INPUT:
        resp = await client.post("/cases", json=case_body(**change), headers=officer)
        assert resp.status_code == 422, (change, resp.text)
        assert resp.headers["content-type"] == "application/problem+json"
        problem = resp.json()
        assert problem["status"] == 422 and problem["title"]
        assert any(field in [str(p) for p in e["loc"]] for e in problem["errors"]), (change, problem)
        assert await count_cases(app) == 0 and await outbox(app) == []


async def test_a_case_number_is_unique_within_its_region(app, client, officer):
    await file_case(client, officer)
    dup = await client.post("/cases", json=case_body(respondent=company(2)), headers=officer)
    assert dup.status_code == 409 and dup.headers["content-type"] == "application/problem+json"
    assert "already used in region 321102" in dup.json()["detail"]
    assert await count_cases(app) == 1 and len(await outbox(app)) == 1
    elsewhere = await client.post("/cases", json=case_body(region=RUNZHOU), headers=officer)
    assert elsewhere.status_code == 201


async def test_get_one_case_with_its_etag(client, officer):
    case = await file_case(client, officer)
    resp = await client.get(f"/cases/{case['id']}", headers=officer)
    assert resp.status_code == 200 and resp.json() == case and resp.headers["etag"] == f'"{case["id"]}.1"'


async def test_unknown_case_is_404(client, officer):
    assert (await client.get("/cases/NOPE", headers=officer)).status_code == 404
    assert (await client.post("/cases/NOPE/investigate", headers=officer)).status_code == 404


async def make_listing(client, admin) -> dict[str, dict]:
    closed = await file_case(client, admin, n=1)
    await run_steps(
        client,
        closed["id"],
        admin,
        ("investigate", "2025-03-04", {}),
        ("decide", "2025-04-20", {"outcome": "penalty_decision", "fine": "1000"}),
        ("close", "2025-05-01", {}),
    )
    overdue = await file_case(
        client, admin, n=2, type="counterfeit_patent", origin="inspection", filed_date="2025-06-01"
    )
    fresh = await file_case(
        client,
        admin,
        n=3,
        region=RUNZHOU,
        type="patent_infringement_dispute",
        procedure="administrative_adjudication",
        handling_unit="润州分局",
        filed_date=today().isoformat(),
    )
    withdrawn = await file_case(
        client,
        admin,
        n=4,
        region=RUNZHOU,
        type="copyright",
        procedure="mediation",
        origin="online_monitoring",
        handling_unit="润州分局",
        filed_date="2025-09-01",
    )
    await run_steps(client, withdrawn["id"], admin, ("withdraw", "2025-09-10", {}))
    yichang = await file_case(client, admin, n=5, region="420502", handling_unit="西陵分局")
    return {"closed": closed, "overdue": overdue, "fresh": fresh, "withdrawn": withdrawn, "yichang": yichang}


async def test_list_filters(client):
    admin = auth("admin")
    made = await make_listing(client, admin)

    async def names(**params) -> set[str]:
        resp = await client.get("/cases", params={"limit": 100, **params}, headers=admin)
        assert resp.status_code == 200, resp.text
        ids = {c["id"] for c in resp.json()["items"]}
        return {name for name, case in made.items() if case["id"] in ids}

    assert await names() == set(made)
    assert await names(region="321100") == {"closed", "overdue", "fresh", "withdrawn"}
    assert await names(region=JINGKOU) == {"closed", "overdue"}
    assert await names(type="counterfeit_patent") == {"overdue"}
    assert await names(procedure="mediation") == {"withdrawn"}
    assert await names(origin="online_monitoring") == {"withdrawn"}
    assert await names(status="closed") == {"closed"}
    assert await names(status="filed", region="321100") == {"overdue", "fresh"}
    assert await names(handling_unit="润州分局") == {"fresh", "withdrawn"}
    assert await names(overdue="true") == {"overdue", "yichang"}
    assert await names(overdue="false") == {"closed", "fresh", "withdrawn"}
    assert await names(filed_from="2025-06-01", filed_to="2025-12-31") == {"overdue", "withdrawn"}
    assert await names(closed_from="2025-05-01", closed_to="2025-05-01") == {"closed"}
    assert await names(closed_from="2025-01-01") == {"closed", "withdrawn"}
    assert await names(respondent_uscc=build_uscc(JINGKOU, 2).lower()) == {"overdue"}


async def test_cursor_pagination_walks_every_case_once_in_order(client, officer):
    for n in range(1, 8):
        await file_case(client, officer, n=n)
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/cases", params=params, headers=officer)).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 7 and seen == sorted(seen) and len(set(seen)) == 7


async def test_bad_list_parameters_are_problems(client, officer):
    bad_cursor = await client.get("/cases", params={"cursor": "%%%"}, headers=officer)
    assert bad_cursor.status_code == 422 and bad_cursor.json()["errors"][0]["loc"] == ["cursor"]
    unknown_region = await client.get("/cases", params={"region": "999999"}, headers=officer)
    assert unknown_region.status_code == 422 and unknown_region.json()["errors"][0]["loc"] == ["region"]


async def test_region_scoping(client):
    jingkou = auth("officer", [JINGKOU])
    runzhou = auth("officer", [RUNZHOU])
    theirs = await file_case(client, runzhou, region=RUNZHOU)
    await file_case(client, jingkou, n=2)
    assert (await client.get(f"/cases/{theirs['id']}", headers=jingkou)).status_code == 404
    assert (await client.post(f"/cases/{theirs['id']}/investigate", headers=jingkou)).status_code == 404
    mine = (await client.get("/cases", headers=jingkou)).json()["items"]
    assert [c["region"] for c in mine] == [JINGKOU]
    assert (await client.get("/cases", params={"region": RUNZHOU}, headers=jingkou)).json()["items"] == []
    refused = await client.post("/cases", json=case_body(3, region=RUNZHOU), headers=jingkou)
    assert refused.status_code == 403
    assert len((await client.get("/cases", headers=auth("officer", ["321100"]))).json()["items"]) == 2


async def test_auth_is_required_and_roles_are_checked(client):
    assert (await client.get("/cases")).status_code == 401
    assert (await client.get("/cases", headers={"Authorization": "Bearer nonsense"})).status_code == 401
    public = auth("public", [JINGKOU])
    assert (await client.get("/cases", headers=public)).status_code == 403
    assert (await client.post("/cases", json=case_body(), headers=public)).status_code == 403
    auditor = auth("auditor", [JINGKOU])
    assert (await client.get("/cases", headers=auditor)).status_code == 200
    assert (await client.post("/cases", json=case_body(), headers=auditor)).status_code == 403
    case = await file_case(client, auth("officer", [JINGKOU]))
    assert (await client.post(f"/cases/{case['id']}/investigate", headers=auditor)).status_code == 403
    assert (await client.get(f"/cases/{case['id']}", headers=auth("department", [JINGKOU]))).status_code == 200


async def test_idempotency_key_files_once(app, client, officer):
    headers = {**officer, "Idempotency-Key": "case-1"}
    first = await client.post("/cases", json=case_body(), headers=headers)
    second = await client.post("/cases", json=case_body(), headers=headers)
    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert await count_cases(app) == 1 and len(await outbox(app)) == 1
    other = await client.post("/cases", json=case_body(2), headers=headers)
    assert other.status_code == 422 and await count_cases(app) == 1


async def test_meta_enums_and_asyncapi(client):
    enums = (await client.get("/meta/enums")).json()
    assert enums["type"]["counterfeit_patent"] == "假冒专利" and enums["procedure"]["mediation"] == "调解"
    assert enums["status"]["transferred"] == "已移送" and enums["outcome"]["penalty_decision"] == "行政处罚决定"
    messages = (await client.get("/asyncapi.json")).json()["components"]["messages"]
    assert {"zhichan.enforcement.case.filed.v1", "zhichan.enforcement.watchlist_entry.entered.v1"} <= set(messages)


async def test_the_same_number_filed_twice_at_once_is_stored_once(app, client, officer):
    answers = await asyncio.gather(*(client.post("/cases", json=case_body(), headers=officer) for _ in range(2)))
    assert sorted(a.status_code for a in answers) == [201, 409]
    assert await count_cases(app) == 1 and len(await outbox(app)) == 1


@pytest.mark.parametrize(
    ("role", "whole"), [("officer", True), ("admin", True), ("auditor", False), ("department", False)]
)
async def test_personal_data_is_whole_for_officers_and_masked_for_other_readers(client, officer, role, whole):
    respondent = {"name": "张三", "id_number": "11010519491231002X"}
    complainant = {"kind": "natural_person", "name": "李小明", "id_number": "321102198001010017"}
    case = await file_case(client, officer, respondent=respondent, complainant=complainant)
    await file_case(client, officer, n=2, complainant=company(9))  # an organization's name is not personal data
    reader = auth(role, [ZHENJIANG])
    one = await client.get(f"/cases/{case['id']}", headers=reader)
    listed = await client.get("/cases", headers=reader)
    assert one.status_code == listed.status_code == 200
    person, firm = listed.json()["items"]
    for answer in (one.json(), person):
        if whole:
            assert answer["respondent"]["id_number"] == respondent["id_number"]
            assert answer["complainant"] == {**complainant, "uscc": None}
        else:
            assert answer["respondent"]["id_number"] == "1101**********002X"
            assert answer["complainant"] == {
                "kind": "natural_person",
                "name": "李**",
                "uscc": None,
                "id_number": "3211**********0017",
            }
    assert firm["complainant"]["name"] == company(9)["name"]
    if not whole:
        assert "11010519491231002X" not in listed.text + one.text and "李小明" not in listed.text + one.text
