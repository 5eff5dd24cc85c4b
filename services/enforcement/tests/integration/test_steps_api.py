"""A case's steps through the app: the lifecycle, every refusal, and what each step records."""

from services.enforcement.tests.integration.conftest import file_case, outbox, run_steps, step
from zhichan.api.etag import etag_for
from zhichan.clock import today

ACTIONS = ["investigate", "extend", "suspend", "resume", "decide", "close", "transfer", "withdraw"]
BODIES = {
    "extend": {"approver": "王局长", "reason": "案情复杂"},
    "suspend": {"reason": "等待专利无效宣告结论"},
    "decide": {"outcome": "penalty_decision", "fine": "5000.00"},
    "transfer": {"to": "police", "receiving_body": "镇江市公安局京口分局"},
}
PATH_TO = {
    "filed": [],
    "investigating": ["investigate"],
    "suspended": ["investigate", "suspend"],
    "decided": ["investigate", "decide"],
    "closed": ["investigate", "decide", "close"],
    "transferred": ["transfer"],
    "withdrawn": ["withdraw"],
}
ALLOWED = {
    "filed": {"investigate", "extend", "transfer", "withdraw"},
    "investigating": {"extend", "suspend", "decide", "transfer", "withdraw"},
    "suspended": {"extend", "resume", "transfer", "withdraw"},
    "decided": {"close"},
    "closed": set(),
    "transferred": set(),
    "withdrawn": set(),
}


async def test_the_whole_lifecycle_with_its_events(app, client, officer):
    case = await file_case(client, officer)
    cid = case["id"]
    investigating = await step(client, cid, "investigate", officer, date="2025-03-05", reason="现场检查")
    assert investigating["status"] == "investigating" and investigating["timeline"][-1]["reason"] == "现场检查"
    suspended = await step(client, cid, "suspend", officer, date="2025-04-01", reason="等待专利无效宣告结论")
    assert suspended["status"] == "suspended" and suspended["due_date"] is None
    assert "Suspended since 2025-04-01" in suspended["due_date_basis"]
    resumed = await step(client, cid, "resume", officer, date="2025-04-11")
    assert resumed["due_date"] == "2025-06-11" and resumed["suspensions"][0]["days"] == 10
    extended = await step(client, cid, "extend", officer, date="2025-05-20", approver="王局长", reason="案情复杂")
    assert extended["due_date"] == "2025-07-11" and extended["extension"]["approver"] == "王局长"
    decided = await step(
        client,
        cid,
        "decide",
        officer,
        date="2025-06-20",
        outcome="penalty_decision",
        fine="50000",
        confiscation="1200.50",
        illegal_revenue="30000.00",
        decision_number="镇京市监处罚〔2025〕8号",
    )
    assert decided["decision"] == {
        "outcome": "penalty_decision",
        "decided_date": "2025-06-20",
        "fine": "50000.00",
        "confiscation": "1200.50",
        "illegal_revenue": "30000.00",
        "decision_number": "镇京市监处罚〔2025〕8号",
        "against_respondent": True,
    }
    resp = await client.post(f"/cases/{cid}/close", json={"date": "2025-07-11"}, headers=officer)
    assert resp.status_code == 200 and resp.headers["etag"] == f'"{cid}.7"'
    closed = resp.json()
    assert closed["status"] == "closed" and closed["closed_date"] == "2025-07-11" and closed["closed_on_time"] is True
    assert closed["overdue_periods"] == [] and closed["version"] == 7
    assert [(s["action"], s["status"], s["date"]) for s in closed["timeline"]] == [
        ("file", "filed", "2025-03-03"),
        ("investigate", "investigating", "2025-03-05"),
        ("suspend", "suspended", "2025-04-01"),
        ("resume", "investigating", "2025-04-11"),
        ("extend", "investigating", "2025-05-20"),
        ("decide", "decided", "2025-06-20"),
        ("close", "closed", "2025-07-11"),
    ]
    assert closed["timeline"][4]["details"] == {"approver": "王局长"}
    assert all(s["actor"] == "test-officer" for s in closed["timeline"])
    events = await outbox(app)
    assert [e["type"].split(".")[3] for e in events] == [
        "filed",
        "investigation_started",
        "suspended",
        "resumed",
        "extended",
        "decided",
        "closed",
    ]
    assert [e["aggregateversion"] for e in events] == list(range(1, 8))
    assert events[-1]["data"] == {k: v for k, v in closed.items() if k not in ("respondent", "complainant")} | {
        "respondent": {k: v for k, v in closed["respondent"].items() if k != "id_number"},
        "complainant": {k: v for k, v in closed["complainant"].items() if k != "id_number"},
    }


async def test_a_case_closed_late_is_not_on_time(client, officer):
    case = await file_case(client, officer)
    closed = await run_steps(
        client,
        case["id"],
        officer,
        ("investigate", "2025-03-04", {}),
        ("decide", "2025-06-01", {"outcome": "dismissed"}),
        ("close", "2025-06-05", {}),
    )
    assert closed["closed_on_time"] is False
    assert closed["overdue_periods"] == [{"start": "2025-06-02", "end": "2025-06-04"}]


async def test_every_step_not_allowed_from_a_status_is_409_naming_both(app, client, officer):
    for n, (status, path) in enumerate(PATH_TO.items(), start=1):
        case = await file_case(client, officer, n=n)
        for day, action in enumerate(path, start=4):
            await step(client, case["id"], action, officer, date=f"2025-03-{day:02d}", **BODIES.get(action, {}))
        before = await client.get(f"/cases/{case['id']}", headers=officer)
        events = len(await outbox(app))
        for action in sorted(set(ACTIONS) - ALLOWED[status]):
            resp = await client.post(
                f"/cases/{case['id']}/{action}", json={"date": "2025-03-20", **BODIES.get(action, {})}, headers=officer
            )
            assert resp.status_code == 409, (status, action, resp.text)
            problem = resp.json()
            assert resp.headers["content-type"] == "application/problem+json"
            assert problem["current_status"] == status and problem["action"] == action
            assert status in problem["detail"] and action in problem["detail"]
        after = await client.get(f"/cases/{case['id']}", headers=officer)
        assert after.json() == before.json() and len(await outbox(app)) == events


async def refused(client, case_id: str, action: str, headers, status: int, loc: list | None = None, **body) -> dict:
    resp = await client.post(f"/cases/{case_id}/{action}", json=body, headers=headers)
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    problem = resp.json()
    if loc is not None:
        assert loc in [e["loc"] for e in problem["errors"]], problem
    return problem


async def test_refused_steps_change_nothing(app, client, officer):
    case = await file_case(client, officer)
    cid = case["id"]
    await step(client, cid, "investigate", officer, date="2025-03-04")
    events = len(await outbox(app))
    await refused(client, cid, "suspend", officer, 422, ["reason"], date="2025-03-05")
    await refused(client, cid, "extend", officer, 422, ["approver"], date="2025-03-05", reason="x")
    await refused(client, cid, "transfer", officer, 422, ["to"], date="2025-03-05")
    await refused(client, cid, "transfer", officer, 422, ["to"], date="2025-03-05", to="mayor")
    await refused(client, cid, "decide", officer, 422, ["outcome"], date="2025-03-05")
    await refused(client, cid, "decide", officer, 422, ["fine"], outcome="penalty_decision", fine="-1.00")
    await refused(client, cid, "decide", officer, 422, ["fine"], outcome="penalty_decision", fine=12.5)
    await refused(
        client, cid, "decide", officer, 422, ["confiscation"], outcome="penalty_decision", confiscation="1.234"
    )
    await refused(client, cid, "decide", officer, 422, ["outcome"], outcome="mediation_agreement")
    await refused(client, cid, "decide", officer, 422, ["fine"], outcome="dismissed", fine="100")
    await refused(client, cid, "decide", officer, 422, ["date"], outcome="dismissed", date="2025-03-03")
    await refused(client, cid, "decide", officer, 422, ["date"], outcome="dismissed", date="2999-01-01")
    await refused(client, cid, "investigate", officer, 422, ["unexpected"], unexpected=True)
    after = (await client.get(f"/cases/{cid}", headers=officer)).json()
    assert after["version"] == 2 and after["status"] == "investigating" and len(await outbox(app)) == events


async def test_a_close_dated_before_filing_is_refused(client, officer):
    case = await file_case(client, officer)
    await run_steps(
        client,
        case["id"],
        officer,
        ("investigate", "2025-03-03", {}),
        ("decide", "2025-03-03", {"outcome": "dismissed"}),
    )
    problem = await refused(client, case["id"], "close", officer, 422, ["date"], date="2025-03-01")
    assert "before the case's previous step (2025-03-03)" in problem["detail"]


async def test_steps_default_to_today(client, officer):
    case = await file_case(client, officer, filed_date=today().isoformat())
    answer = await step(client, case["id"], "investigate", officer)
    assert answer["timeline"][-1]["date"] == today().isoformat()


async def test_extension_once_before_the_deadline_and_only_where_the_rule_allows(client, officer):
    case = await file_case(client, officer)
    late = await refused(
        client, case["id"], "extend", officer, 422, ["date"], date="2025-06-02", approver="a", reason="b"
    )
    assert "by the deadline (2025-06-01)" in late["detail"]
    await step(client, case["id"], "extend", officer, date="2025-06-01", approver="王局长", reason="案情复杂")
    again = await refused(client, case["id"], "extend", officer, 409, date="2025-06-02", approver="a", reason="b")
    assert "already extended on 2025-06-01" in again["detail"] and again["current_status"] == "filed"
    mediation = await file_case(client, officer, n=2, procedure="mediation")
    none = await refused(client, mediation["id"], "extend", officer, 409, date="2025-03-05", approver="a", reason="b")
    assert "allows no extension" in none["detail"]


async def test_transfer_closes_the_case_for_the_office_and_ends_a_suspension(client, officer):
    case = await file_case(client, officer)
    transferred = await run_steps(
        client,
        case["id"],
        officer,
        ("investigate", "2025-03-04", {}),
        ("suspend", "2025-04-01", {"reason": "涉嫌犯罪"}),
        ("transfer", "2025-04-10", {"to": "police", "receiving_body": "镇江市公安局", "reason": "涉嫌犯罪"}),
    )
    assert transferred["status"] == "transferred" and transferred["closed_date"] == "2025-04-10"
    assert transferred["transfer"] == {"to": "police", "receiving_body": "镇江市公安局", "transferred_on": "2025-04-10"}
    assert transferred["suspensions"][0]["end"] == "2025-04-10" and transferred["due_date"] == "2025-06-10"
    assert transferred["closed_on_time"] is True and transferred["decision"] is None


async def test_withdrawal_ends_the_case(client, officer):
    case = await file_case(client, officer)
    withdrawn = await step(client, case["id"], "withdraw", officer, date="2025-03-10", reason="立案错误")
    assert withdrawn["status"] == "withdrawn" and withdrawn["closed_date"] == "2025-03-10"
    assert withdrawn["timeline"][-1]["reason"] == "立案错误"


async def test_if_match_on_a_step_refuses_a_stale_read(client, officer):
    case = await file_case(client, officer)
    stale = etag_for(case["id"], 1)
    first = await client.post(
        f"/cases/{case['id']}/investigate", json={"date": "2025-03-04"}, headers={**officer, "If-Match": stale}
    )
    assert first.status_code == 200 and first.headers["etag"] == etag_for(case["id"], 2)
    again = await client.post(
        f"/cases/{case['id']}/extend",
        json={"date": "2025-03-05", "approver": "a", "reason": "b"},
        headers={**officer, "If-Match": stale},
    )
    assert again.status_code == 412
    assert (await client.get(f"/cases/{case['id']}", headers=officer)).json()["version"] == 2
