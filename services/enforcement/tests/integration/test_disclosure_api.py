"""Public disclosure (行政执法信息公开): decided cases, no token, natural persons masked."""

import pytest

from services.enforcement.tests.integration.conftest import JINGKOU, RUNZHOU, company, file_case, run_steps
from zhichan.testing import auth

ID_NUMBER = "11010519491231002X"


async def decide(client, headers, case: dict, on: str, **decision) -> dict:
    return await run_steps(
        client, case["id"], headers, ("investigate", case["filed_date"], {}), ("decide", on, decision)
    )


@pytest.fixture
async def published(client) -> dict[str, dict]:
    admin = auth("admin")
    made = {}
    made["company"] = await decide(
        client,
        admin,
        await file_case(client, admin, n=1, respondent=company(1, name="镇江市某某贸易有限公司")),
        "2025-04-01",
        outcome="penalty_decision",
        fine="50000.00",
        confiscation="1200.00",
        illegal_revenue="30000.00",
        decision_number="镇京市监处罚〔2025〕8号",
    )
    made["person"] = await decide(
        client,
        admin,
        await file_case(client, admin, n=2, region=RUNZHOU, respondent={"name": "张三", "id_number": ID_NUMBER}),
        "2025-05-01",
        outcome="penalty_decision",
        fine="3000",
    )
    made["adjudication"] = await decide(
        client,
        admin,
        await file_case(
            client, admin, n=3, type="patent_infringement_dispute", procedure="administrative_adjudication"
        ),
        "2025-06-01",
        outcome="adjudication_infringement",
    )
    await run_steps(client, made["adjudication"]["id"], admin, ("close", "2025-06-02", {}))
    made["yichang"] = await decide(
        client, admin, await file_case(client, admin, n=4, region="420502"), "2025-03-05", outcome="dismissed"
    )
    mediation = await file_case(client, admin, n=5, procedure="mediation", type="copyright")
    await decide(client, admin, mediation, "2025-03-20", outcome="mediation_agreement")
    await file_case(client, admin, n=6)  # not decided
    withdrawn = await file_case(client, admin, n=7)
    await run_steps(client, withdrawn["id"], admin, ("withdraw", "2025-03-10", {}))
    return made


async def disclosed(client, **params) -> list[dict]:
    resp = await client.get("/disclosure/cases", params={"limit": 100, **params})
    assert resp.status_code == 200, resp.text
    return resp.json()["items"]


async def test_decided_cases_are_public_newest_first(client, published):
    items = await disclosed(client)
    assert [i["id"] for i in items] == [published[n]["id"] for n in ("adjudication", "person", "company", "yichang")]
    company_case = items[2]
    assert company_case == {
        "id": published["company"]["id"],
        "case_number": published["company"]["case_number"],
        "region": JINGKOU,
        "region_name": "京口区",
        "type": "trademark_infringement",
        "procedure": "administrative_penalty",
        "respondent_kind": "organization",
        "respondent_name": "镇江市某某贸易有限公司",
        "respondent_uscc": company(1)["uscc"],
        "outcome": "penalty_decision",
        "decided_date": "2025-04-01",
        "decision_number": "镇京市监处罚〔2025〕8号",
        "fine": "50000.00",
        "confiscation": "1200.00",
        "illegal_revenue": "30000.00",
    }


async def test_natural_persons_are_masked_and_id_numbers_never_shown(client, published):
    resp = await client.get("/disclosure/cases")
    person = next(i for i in resp.json()["items"] if i["id"] == published["person"]["id"])
    assert person["respondent_name"] == "张*" and person["respondent_uscc"] is None and person["fine"] == "3000.00"
    assert ID_NUMBER not in resp.text and "张三" not in resp.text


async def test_filters_and_pagination(client, published):
    assert {i["id"] for i in await disclosed(client, region="321100")} == {
        published[n]["id"] for n in ("company", "person", "adjudication")
    }
    assert [i["id"] for i in await disclosed(client, region=RUNZHOU)] == [published["person"]["id"]]
    assert [i["id"] for i in await disclosed(client, type="patent_infringement_dispute")] == [
        published["adjudication"]["id"]
    ]
    assert [i["decided_date"] for i in await disclosed(client, **{"from": "2025-04-01", "to": "2025-05-31"})] == [
        "2025-05-01",
        "2025-04-01",
    ]
    seen, cursor = [], None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/disclosure/cases", params=params)).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [i["id"] for i in await disclosed(client)]
    assert (await client.get("/disclosure/cases", params={"region": "999999"})).status_code == 422


async def test_a_token_is_not_needed_but_does_no_harm(client, published):
    with_token = await client.get("/disclosure/cases", headers=auth("public"))
    assert with_token.status_code == 200 and len(with_token.json()["items"]) == 4
