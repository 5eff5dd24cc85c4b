"""The credit archive and grade through the app, and its public disclosure."""

from datetime import timedelta

from services.agencies.models import CreditEntry
from services.agencies.tests.integration.conftest import (
    active_agency,
    agency_body,
    assert_each_refused,
    assert_problem,
    collect_pages,
    outbox_envelopes,
)
from zhichan.clock import today
from zhichan.testing import auth

RECORDED = "zhichan.agencies.credit_entry.recorded.v1"


def days_ago(n: int) -> str:
    return (today() - timedelta(days=n)).isoformat()


def entry(kind: str, occurred_on: str, **extra) -> dict:
    return {"kind": kind, "occurred_on": occurred_on, "description": f"{kind} 记录", **extra}


async def record(client, headers, agency_id: str, *entries: dict) -> list[dict]:
    made = []
    for body in entries:
        resp = await client.post(f"/agencies/{agency_id}/credit-entries", json=body, headers=headers)
        assert resp.status_code == 201, resp.text
        made.append(resp.json())
    return made


async def test_entries_are_recorded_and_published_with_the_grade_after_them(app_client, officer):
    app, client = app_client
    agency = await active_agency(client, officer)
    [commendation] = await record(client, officer, agency["id"], entry("commendation", days_ago(30), reference="表彰1"))
    assert (
        commendation["polarity"] == "commendation"
        and commendation["points"] == 5
        and commendation["source"] == "manual"
    )
    await record(client, officer, agency["id"], entry("penalty", days_ago(20), reference="罚字1号"))
    events = await outbox_envelopes(app, RECORDED)
    assert [(e["data"]["agency_grade"], e["data"]["agency_score"]) for e in events] == [("A", 100), ("C", 85)]
    assert events[1]["subject"].startswith("credit_entry/") and events[1]["region"] == "320311"


async def test_the_credit_view_explains_the_grade(client, officer):
    agency = await active_agency(client, officer)
    await record(
        client,
        officer,
        agency["id"],
        entry("abnormal_filings", days_ago(400)),
        entry("penalty", days_ago(2000), points=40),  # older than three years
    )
    credit = (await client.get(f"/agencies/{agency['id']}/credit", headers=officer)).json()
    assert credit["grade"] == "B" and credit["score"] == 85 and credit["as_of"] == today().isoformat()
    assert [c["kind"] for c in credit["counted"]] == ["abnormal_filings"] and credit["counted"][0]["effect"] == -15
    assert "score 85 gives grade B" in " ".join(credit["explanation"]) and "three years" in credit["rule"]
    back_then = (
        await client.get(f"/agencies/{agency['id']}/credit", params={"as_of": days_ago(1900)}, headers=officer)
    ).json()
    # then the penalty was 100 days old (and counted, and capped) and the abnormal filings still to come
    assert (back_then["grade"], back_then["score"], len(back_then["counted"])) == ("C", 60, 1)
    entries = await collect_pages(client, f"/agencies/{agency['id']}/credit-entries", officer, limit=1)
    assert len(entries) == 2


BAD_ENTRIES = [
    (entry("complaint_upheld", "2025-01-01"), "kind"),  # only complaints make this kind
    (entry("inspection_penalty", "2025-01-01"), "kind"),
    (entry("penalty", "2999-01-01"), "occurred_on"),
    (entry("penalty", "2025-01-01", points=0), "points"),
    (entry("penalty", "2025-01-01", points=101), "points"),
    (entry("penalty", "2025-01-01", description=""), "description"),
]


async def test_bad_entries_are_422_and_store_nothing(app_client, officer):
    app, client = app_client
    agency = await active_agency(client, officer)

    async def send(body):
        return await client.post(f"/agencies/{agency['id']}/credit-entries", json=body, headers=officer)

    await assert_each_refused(app, send, BAD_ENTRIES, CreditEntry)


async def test_credit_of_unknown_or_hidden_agencies_is_404(client, officer):
    fuzhou = await active_agency(client, auth("officer", ["350102"]), 9, region="350102")
    for agency_id in ("NOPE", fuzhou["id"]):
        assert_problem(await client.get(f"/agencies/{agency_id}/credit", headers=officer), 404)
        assert_problem(await client.get(f"/agencies/{agency_id}/credit-entries", headers=officer), 404)
        resp = await client.post(
            f"/agencies/{agency_id}/credit-entries", json=entry("penalty", "2025-01-01"), headers=officer
        )
        assert_problem(resp, 404)
    auditor = auth("auditor", ["350102"])
    assert (await client.get(f"/agencies/{fuzhou['id']}/credit", headers=auditor)).status_code == 200
    resp = await client.post(
        f"/agencies/{fuzhou['id']}/credit-entries", json=entry("penalty", "2025-01-01"), headers=auditor
    )
    assert_problem(resp, 403)


async def test_disclosure_lists_supervised_agencies_with_grades_without_a_token(client):
    admin = auth("admin")
    clean = await active_agency(client, admin, 1)
    penalised = await active_agency(client, admin, 2)
    suspended = await active_agency(client, admin, 3, region="350102")
    await client.post(f"/agencies/{suspended['id']}/suspend", headers=admin)
    filed = (await client.post("/agencies", json=agency_body(4), headers=admin)).json()
    gone = await active_agency(client, admin, 5)
    await client.post(f"/agencies/{gone['id']}/deregister", headers=admin)
    await record(client, admin, penalised["id"], entry("penalty", days_ago(10)), entry("penalty", days_ago(5)))

    listed = await collect_pages(client, "/disclosure/credit")
    assert {a["agency_id"]: a["grade"] for a in listed} == {
        clean["id"]: "A",
        penalised["id"]: "C",
        suspended["id"]: "A",
    }
    assert filed["id"] not in {a["agency_id"] for a in listed}
    assert listed[0]["uscc"] and listed[0]["as_of"] == today().isoformat()
    assert [a["agency_id"] for a in await collect_pages(client, "/disclosure/credit", region="350102")] == [
        suspended["id"]
    ]
    grade_a = await collect_pages(client, "/disclosure/credit", grade="A", limit=1)
    assert [a["agency_id"] for a in grade_a] == sorted([clean["id"], suspended["id"]])
    assert [a["agency_id"] for a in await collect_pages(client, "/disclosure/credit", grade="C")] == [penalised["id"]]
    assert await collect_pages(client, "/disclosure/credit", grade="D") == []
    assert_problem(await client.get("/disclosure/credit", params={"grade": "E"}), 422, "grade")
    assert_problem(await client.get("/disclosure/credit", params={"region": "nowhere"}), 422, "region")
