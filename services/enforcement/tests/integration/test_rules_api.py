"""Deadline rules: the national defaults, and a region's overrides for cases filed after them."""

from datetime import timedelta

from services.enforcement.tests.integration.conftest import (
    JINGKOU,
    RUNZHOU,
    ZHENJIANG,
    events_match_their_contracts,
    file_case,
    outbox,
)
from zhichan.clock import today
from zhichan.testing import auth

PENALTY_60 = {
    "procedure": "administrative_penalty",
    "base_amount": 60,
    "base_unit": "days",
    "extension_amount": 15,
    "extension_unit": "days",
}


def in_force(answer: dict) -> dict[str, dict]:
    return {rule["procedure"]: rule for rule in answer["rules"]}


async def test_the_national_defaults(client, officer):
    resp = await client.get("/cases/deadline-rules", headers=officer)
    assert resp.status_code == 200
    rules = in_force(resp.json())
    assert (rules["administrative_penalty"]["base_amount"], rules["administrative_penalty"]["extension_amount"]) == (
        90,
        30,
    )
    adjudication = rules["administrative_adjudication"]
    assert (adjudication["base_amount"], adjudication["base_unit"], adjudication["extension_amount"]) == (
        3,
        "months",
        1,
    )
    assert rules["mediation"]["extension_amount"] == 0 and rules["mediation"]["description"] == "30 days from filing"
    assert all(rule["source_region"] is None for rule in rules.values())


async def test_an_override_applies_to_cases_filed_after_it(app, client, officer):
    now = today()
    before = await file_case(client, officer, n=1, filed_date=now.isoformat())
    resp = await client.put(
        "/cases/deadline-rules",
        json={"region": ZHENJIANG, "rules": [PENALTY_60], "reason": "市局规定"},
        headers=officer,
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["etag"] == f'"region-policy-{ZHENJIANG}.1"'
    rules = in_force(resp.json())
    assert rules["administrative_penalty"]["base_amount"] == 60
    assert rules["administrative_penalty"]["source_region"] == ZHENJIANG
    assert rules["administrative_penalty"]["effective_from"] == now.isoformat()
    assert rules["mediation"]["source_region"] is None
    assert resp.json()["versions"][0]["set_by"] == "test-officer" and resp.json()["versions"][0]["reason"] == "市局规定"

    # a district case filed from now on inherits the city's rule; one filed earlier keeps the default
    after = await file_case(client, officer, n=2, filed_date=now.isoformat())
    assert after["due_date"] == (now + timedelta(days=60)).isoformat()
    assert f"rule of region {ZHENJIANG} 镇江市 in force from {now.isoformat()}" in after["due_date_basis"]
    backdated = await file_case(client, officer, n=3, filed_date=(now - timedelta(days=1)).isoformat())
    assert backdated["deadline_rule"]["base_amount"] == 90
    unchanged = (await client.get(f"/cases/{before['id']}", headers=officer)).json()
    assert unchanged["due_date"] == (now + timedelta(days=90)).isoformat()

    types = await events_match_their_contracts(app)
    assert "zhichan.enforcement.region_policy.deadline_rules_changed.v1" in types
    [policy_event] = [e for e in await outbox(app) if e["subject"] == f"region_policy/{ZHENJIANG}"]
    assert policy_event["data"]["deadline_rules"][0]["base_amount"] == 60 and policy_event["aggregateversion"] == 1


async def test_a_districts_own_rule_comes_before_its_citys(client, officer):
    await client.put("/cases/deadline-rules", json={"region": ZHENJIANG, "rules": [PENALTY_60]}, headers=officer)
    own = {"procedure": "administrative_adjudication", "base_amount": 2, "base_unit": "months"}
    resp = await client.put("/cases/deadline-rules", json={"region": JINGKOU, "rules": [own]}, headers=officer)
    rules = in_force(resp.json())
    assert rules["administrative_adjudication"]["source_region"] == JINGKOU
    assert rules["administrative_penalty"]["source_region"] == ZHENJIANG
    now = today().isoformat()
    case = await file_case(
        client, officer, procedure="administrative_adjudication", type="patent_infringement_dispute", filed_date=now
    )
    assert case["deadline_rule"]["base_amount"] == 2 and case["deadline_rule"]["extension_amount"] == 0
    extend = await client.post(f"/cases/{case['id']}/extend", json={"approver": "a", "reason": "b"}, headers=officer)
    assert extend.status_code == 409 and "allows no extension" in extend.json()["detail"]
    runzhou = in_force((await client.get("/cases/deadline-rules", params={"region": RUNZHOU}, headers=officer)).json())
    assert runzhou["administrative_adjudication"]["source_region"] is None


async def test_a_change_from_a_later_date(client, officer):
    later = today() + timedelta(days=30)
    body = {"region": RUNZHOU, "rules": [PENALTY_60], "effective_from": later.isoformat()}
    assert (await client.put("/cases/deadline-rules", json=body, headers=officer)).status_code == 200
    now_rules = (await client.get("/cases/deadline-rules", params={"region": RUNZHOU}, headers=officer)).json()
    assert in_force(now_rules)["administrative_penalty"]["base_amount"] == 90 and len(now_rules["versions"]) == 1
    then = await client.get(
        "/cases/deadline-rules", params={"region": RUNZHOU, "on": later.isoformat()}, headers=officer
    )
    assert in_force(then.json())["administrative_penalty"]["base_amount"] == 60


async def test_bad_rule_changes_are_refused_and_store_nothing(app, client, officer):
    yesterday = (today() - timedelta(days=1)).isoformat()
    cases = [
        ({"region": ZHENJIANG, "rules": [PENALTY_60], "effective_from": yesterday}, 422, "effective_from"),
        ({"region": ZHENJIANG, "rules": [PENALTY_60, PENALTY_60]}, 422, "rules"),
        ({"region": ZHENJIANG, "rules": [PENALTY_60 | {"base_amount": 0}]}, 422, "base_amount"),
        ({"region": ZHENJIANG, "rules": [PENALTY_60 | {"procedure": "arbitration"}]}, 422, "procedure"),
        ({"region": ZHENJIANG, "rules": [PENALTY_60 | {"base_unit": "weeks"}]}, 422, "base_unit"),
        ({"region": ZHENJIANG, "rules": []}, 422, "rules"),
        ({"region": "999999", "rules": [PENALTY_60]}, 422, "region"),
    ]
    for body, status, field in cases:
        resp = await client.put("/cases/deadline-rules", json=body, headers=officer)
        assert resp.status_code == status, (body, resp.text)
        assert any(field in [str(p) for p in e["loc"]] for e in resp.json()["errors"]), resp.json()
    outside = await client.put(
        "/cases/deadline-rules", json={"region": "420500", "rules": [PENALTY_60]}, headers=officer
    )
    assert outside.status_code == 403
    auditor = await client.put(
        "/cases/deadline-rules", json={"region": ZHENJIANG, "rules": [PENALTY_60]}, headers=auth("auditor", [ZHENJIANG])
    )
    assert auditor.status_code == 403
    assert await outbox(app) == []
    hidden = await client.get("/cases/deadline-rules", params={"region": "420500"}, headers=officer)
    assert hidden.status_code == 404


async def test_if_match_refuses_a_stale_change(client, officer):
    read = await client.get("/cases/deadline-rules", params={"region": ZHENJIANG}, headers=officer)
    etag = read.headers["etag"]
    assert etag == f'"region-policy-{ZHENJIANG}.0"'
    body = {"region": ZHENJIANG, "rules": [PENALTY_60]}
    first = await client.put("/cases/deadline-rules", json=body, headers={**officer, "If-Match": etag})
    assert first.status_code == 200
    stale = await client.put("/cases/deadline-rules", json=body, headers={**officer, "If-Match": etag})
    assert stale.status_code == 412 and stale.headers["content-type"] == "application/problem+json"
    fresh = await client.put("/cases/deadline-rules", json=body, headers={**officer, "If-Match": first.headers["etag"]})
    assert fresh.status_code == 200 and len(fresh.json()["versions"]) == 2
