"""Reporting rounds through the API: the plan's settings, a department's submission, an officer's
review (approve, or return with a reason, then a resubmission), and completeness per round."""

from datetime import date
from urllib.parse import quote

import pytest
import pytest_asyncio

from services.targets.service import rounds
from services.targets.tests.integration.conftest import PLAN, imported, outbox, row_counts
from services.targets.tests.unit.test_plan_document import plan_file
from zhichan.testing import auth

AMR = "经开区市场监管局"
FINANCE = "经开区财政局"
DEPARTMENT = auth("department", ["321100"], department=AMR, sub="zj-amr")
REPORTING = f"/plans/{PLAN}/reporting"
ROUNDS = f"/plans/{PLAN}/rounds"
# The day the tests run on, as the service sees it: rounds 2024Q1..2024Q4 have opened.
TODAY = date(2025, 2, 15)


def submissions(label: str, department: str | None = None) -> str:
    url = f"{ROUNDS}/{label}/submissions"
    return f"{url}/{quote(department)}" if department else url


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(rounds, "today", lambda: TODAY)


async def set_reporting(client, officer, **settings) -> dict:
    etag = (await client.get(f"/plans/{PLAN}", headers=officer)).headers["ETag"]
    resp = await client.put(REPORTING, json=settings, headers={**officer, "If-Match": etag})
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest_asyncio.fixture(loop_scope="session")
async def plan(client, officer):
    """The plan active, its task given to the finance bureau: two departments report."""
    document = plan_file()
    document["tasks"] = [{**document["tasks"][0], "responsible": [FINANCE]}]
    await imported(client, officer, document)
    assert (await client.post(f"/plans/{PLAN}/activate", headers=officer)).status_code == 200


@pytest_asyncio.fixture(loop_scope="session")
async def reviewed(client, officer, plan):
    return await set_reporting(client, officer, period="quarterly", due_days=60, review="required")


async def test_reporting_is_set_with_if_match_by_an_officer(app_client, plan, officer):
    app, client = app_client
    assert (await client.put(REPORTING, json={"period": "monthly", "due_days": 10}, headers=officer)).status_code == 428
    refused = await client.put(REPORTING, json={"period": "monthly", "due_days": 10}, headers=DEPARTMENT)
    assert refused.status_code == 403
    state = await set_reporting(client, officer, period="monthly", due_days=10)
    assert state["reporting"] == {"period": "monthly", "due_days": 10, "review": "none", "start": None}
    event = (await outbox(app))[-1]
    assert event["type"] == "zhichan.targets.plan.reporting_changed.v1"
    assert event["data"]["reporting"] == state["reporting"]
    # the same settings again change nothing
    before = len(await outbox(app))
    await set_reporting(client, officer, period="monthly", due_days=10)
    assert len(await outbox(app)) == before


@pytest.mark.parametrize(
    "body, field",
    [
        ({"period": "weekly", "due_days": 10}, "period"),
        ({"period": "monthly", "due_days": -1}, "due_days"),
        ({"period": "monthly", "due_days": 400}, "due_days"),
        ({"period": "monthly", "due_days": 10, "review": "maybe"}, "review"),
        ({"period": "monthly"}, "due_days"),
    ],
)
async def test_bad_reporting_settings_name_the_field(client, plan, officer, body, field):
    resp = await client.put(REPORTING, json=body, headers={**officer, "If-Match": "*"})
    assert resp.status_code == 422 and resp.headers["content-type"] == "application/problem+json"
    assert field in [e["loc"][-1] for e in resp.json()["errors"]], resp.json()


async def test_completeness_per_round_and_department(client, officer, plan):
    await set_reporting(client, officer, period="quarterly", due_days=60)
    empty = (await client.get(ROUNDS, headers=officer)).json()
    assert [r["round"] for r in empty["items"]] == ["2024Q4", "2024Q3", "2024Q2", "2024Q1"]
    latest = empty["items"][0]
    assert (latest["start"], latest["end"], latest["due"]) == ("2024-10-01", "2024-12-31", "2025-03-01")
    assert [(d["department"], d["timeliness"]) for d in latest["departments"]] == [(AMR, "open"), (FINANCE, "open")]
    assert latest["reporting_rate"] is None  # not due yet

    on_time = await client.post(
        submissions("2024Q4"), json={"values": [{"indicator": "patents", "value": 760}]}, headers=DEPARTMENT
    )
    assert on_time.status_code == 201, on_time.text
    assert on_time.json()["timeliness"] == "on_time" and on_time.json()["status"] == "submitted"
    assert on_time.headers["Location"] == submissions("2024Q4", AMR)
    late = await client.post(
        submissions("2024Q3"), json={"values": [{"indicator": "patents", "value": 740}]}, headers=DEPARTMENT
    )
    assert late.json()["timeliness"] == "late"

    found = (await client.get(ROUNDS, headers=auth("auditor", ["321100"]))).json()
    by_round = {r["round"]: {d["department"]: d["timeliness"] for d in r["departments"]} for r in found["items"]}
    assert by_round == {
        "2024Q4": {FINANCE: "open", AMR: "on_time"},
        "2024Q3": {FINANCE: "missing", AMR: "late"},
        "2024Q2": {FINANCE: "missing", AMR: "missing"},
        "2024Q1": {FINANCE: "missing", AMR: "missing"},
    }
    assert [r["reporting_rate"] for r in found["items"]] == [None, "50.0", "0.0", "0.0"]
    summary = {d["department"]: d for d in found["departments"]}
    assert (summary[AMR]["on_time"], summary[AMR]["late"], summary[AMR]["missing"]) == (1, 1, 2)
    assert summary[AMR]["reporting_rate"] == "50.0"  # 2 of the 4 rounds due or submitted
    assert summary[FINANCE]["reporting_rate"] == "0.0"


async def test_reporting_that_starts_mid_plan_expects_no_earlier_round(client, officer, plan):
    state = await set_reporting(client, officer, period="quarterly", due_days=60, start="2024-08-15")
    assert state["reporting"] == {"period": "quarterly", "due_days": 60, "review": "none", "start": "2024-08-15"}
    found = (await client.get(ROUNDS, headers=officer)).json()
    assert [r["round"] for r in found["items"]] == ["2024Q4", "2024Q3"]
    assert {d["department"]: d["missing"] for d in found["departments"]} == {AMR: 1, FINANCE: 1}
    earlier = await client.post(
        submissions("2024Q2"), json={"values": [{"indicator": "patents", "value": 700}]}, headers=DEPARTMENT
    )
    assert earlier.status_code == 422 and "2024-08-15" in earlier.text
    outside = await client.put(
        REPORTING,
        json={"period": "quarterly", "due_days": 60, "start": "2031-01-01"},
        headers={**officer, "If-Match": "*"},
    )
    assert outside.status_code == 422 and outside.json()["errors"][0]["loc"][-1] == "start"


async def test_without_review_a_submission_counts_at_once_and_is_corrected_by_resubmitting(client, officer, plan):
    await set_reporting(client, officer, period="quarterly", due_days=10)
    first = (
        await client.post(
            submissions("2024Q4"), json={"values": [{"indicator": "patents", "value": 700}]}, headers=DEPARTMENT
        )
    ).json()
    report = first["values"][0]["report"]
    reports = (await client.get(f"/plans/{PLAN}/indicators/patents/reports", headers=officer)).json()["items"]
    assert [(r["id"], r["review"], r["round"], r["as_of"]) for r in reports] == [
        (report, "not_required", "2024Q4", "2024-12-31")
    ]
    fixed = await client.put(
        submissions("2024Q4", AMR), json={"values": [{"indicator": "patents", "value": 760}]}, headers=DEPARTMENT
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["history"][-1]["action"] == "resubmitted"
    reports = (await client.get(f"/plans/{PLAN}/indicators/patents/reports", headers=officer)).json()["items"]
    assert reports[0]["superseded_by"] == fixed.json()["values"][0]["report"]
    # nothing to review where the plan wants none
    assert (await client.post(submissions("2024Q4", AMR) + "/approve", headers=officer)).status_code == 409


async def test_review_approve_or_return_then_resubmit(app_client, officer, reviewed):
    app, client = app_client
    body = {
        "values": [{"indicator": "patents", "value": 760, "note": "年报"}],
        "note": "第四季度",
        "attachment": "doc-2024q4-amr",
    }
    submitted = await client.post(submissions("2024Q4"), json=body, headers=DEPARTMENT)
    assert submitted.status_code == 201, submitted.text
    reports_url = f"/plans/{PLAN}/indicators/patents/reports"
    assert [r["review"] for r in (await client.get(reports_url, headers=officer)).json()["items"]] == ["pending"]

    returned = await client.post(
        submissions("2024Q4", AMR) + "/return", json={"reason": "数值与年报不符"}, headers=officer
    )
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "returned"
    assert returned.json()["history"][-1] | {"on": None, "at": None} == {
        "action": "returned",
        "reason": "数值与年报不符",
        "actor": "test-officer",
        "on": None,
        "at": None,
    }
    assert [r["review"] for r in (await client.get(reports_url, headers=officer)).json()["items"]] == ["returned"]

    resubmitted = await client.put(
        submissions("2024Q4", AMR),
        json={**body, "values": [{"indicator": "patents", "value": 755}]},
        headers={**DEPARTMENT, "If-Match": returned.headers["ETag"]},
    )
    assert resubmitted.status_code == 200, resubmitted.text
    approved = await client.post(
        submissions("2024Q4", AMR) + "/approve", headers={**officer, "If-Match": resubmitted.headers["ETag"]}
    )
    assert approved.status_code == 200, approved.text
    state = approved.json()
    assert [step["action"] for step in state["history"]] == ["submitted", "returned", "resubmitted", "approved"]
    assert (state["status"], state["attachment"], state["values"][0]["value"]) == ("approved", "doc-2024q4-amr", "755")
    reports = (await client.get(reports_url, headers=officer)).json()["items"]
    reviewed_reports = [(r["value"], r["review"], r["version"]) for r in reports]
    assert reviewed_reports == [("760", "returned", 2), ("755", "approved", 2)]
    assert reports[0]["superseded_by"] == reports[1]["id"]

    types = [e["type"] for e in await outbox(app)]
    assert types[-2:] == ["zhichan.targets.progress_report.reviewed.v1", "zhichan.targets.round_submission.approved.v1"]
    assert "zhichan.targets.round_submission.returned.v1" in types
    assert "zhichan.targets.round_submission.resubmitted.v1" in types
    read = await client.get(submissions("2024Q4", AMR), headers=auth("auditor", ["321100"]))
    assert read.status_code == 200 and read.json() == state


async def test_review_refusals(app_client, officer, reviewed):
    app, client = app_client
    url = submissions("2024Q4", AMR)
    assert (await client.post(url + "/approve", headers=officer)).status_code == 404  # nothing submitted
    body = {"values": [{"indicator": "patents", "value": 1}]}
    await client.post(submissions("2024Q4"), json=body, headers=DEPARTMENT)
    # a department reviews nothing; an officer of another region neither
    assert (await client.post(url + "/approve", headers=DEPARTMENT)).status_code == 403
    assert (await client.post(url + "/approve", headers=auth("officer", ["420500"]))).status_code == 403
    no_reason = await client.post(url + "/return", json={"reason": "  "}, headers=officer)
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["loc"] == ["reason"]
    assert (await client.post(url + "/return", json={}, headers=officer)).status_code == 422
    # pending: not resubmitted before a review
    pending = await client.put(url, json={"values": [{"indicator": "patents", "value": 2}]}, headers=DEPARTMENT)
    assert pending.status_code == 409
    assert (await client.post(url + "/approve", headers=officer)).status_code == 200
    twice = await client.post(url + "/approve", headers=officer)
    assert twice.status_code == 409 and twice.json()["current_status"] == "approved"
    assert twice.headers["content-type"] == "application/problem+json"
    stale = await client.post(url + "/return", json={"reason": "x"}, headers={**officer, "If-Match": '"old.1"'})
    assert stale.status_code == 412
    # where review is required, a department reports through its rounds only
    direct = await client.post(
        f"/plans/{PLAN}/indicators/patents/reports", json={"as_of": "2024-12-31", "value": 1}, headers=DEPARTMENT
    )
    assert direct.status_code == 409 and "round" in direct.json()["detail"]
    by_officer = await client.post(
        f"/plans/{PLAN}/indicators/patents/reports", json={"as_of": "2024-12-31", "value": 1}, headers=officer
    )
    assert by_officer.status_code == 201 and by_officer.json()["review"] == "not_required"


@pytest.mark.parametrize(
    "label, body, status, where",
    [
        # another department's indicator, another department's task
        ("2024Q4", {"values": [{"indicator": "patents", "value": 1}]}, 403, None),
        ("2024Q4", {"tasks": [{"task": "matchmaking", "progress": "办了两场"}]}, 403, None),
        ("2024Q4", {}, 422, ["values"]),
        ("2024Q4", {"values": [{"indicator": "ghost", "value": 1}]}, 422, ["values", 0, "indicator"]),
        ("2024Q4", {"values": [{"indicator": "pledges", "value": 1}]}, 422, ["values", 0, "indicator"]),
        ("2024Q4", {"values": [{"indicator": "patents", "value": "many"}]}, 422, ["values", 0, "value"]),
        ("2025Q1", {"tasks": [{"task": "matchmaking", "progress": "x"}]}, 422, ["round"]),  # not ended yet
        ("2023Q4", {"tasks": [{"task": "matchmaking", "progress": "x"}]}, 422, ["round"]),  # before the plan
        ("2024-13", {"tasks": [{"task": "matchmaking", "progress": "x"}]}, 422, ["round"]),
    ],
)
async def test_bad_submissions(app_client, reviewed, label, body, status, where):
    app, client = app_client
    finance = auth("department", ["321100"], department=FINANCE)
    headers = finance if status != 403 or "values" in body else DEPARTMENT
    resp = await client.post(submissions(label), json=body, headers=headers)
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    if where is not None:
        assert where in [e["loc"] for e in resp.json()["errors"]], resp.json()
    assert (await row_counts(app))["progress_report"] == 0


async def test_who_submits_and_when(client, officer, plan):
    body = {"values": [{"indicator": "patents", "value": 1}]}
    assert (await client.post(submissions("2024Q4"), json=body, headers=DEPARTMENT)).status_code == 409  # no rounds
    await set_reporting(client, officer, period="quarterly", due_days=10)
    assert (await client.post(submissions("2024Q4"), json=body, headers=officer)).status_code == 403
    nameless = auth("department", ["321100"])
    assert (await client.post(submissions("2024Q4"), json=body, headers=nameless)).status_code == 403
    assert (await client.post(submissions("2024Q4"), json=body, headers=DEPARTMENT)).status_code == 201
    again = await client.post(submissions("2024Q4"), json=body, headers=DEPARTMENT)
    assert again.status_code == 409 and "resubmit" in again.json()["detail"]
    other = auth("department", ["321100"], department=FINANCE)
    assert (await client.put(submissions("2024Q4", AMR), json=body, headers=other)).status_code == 403
    await client.post(f"/plans/{PLAN}/close", headers=officer)
    assert (await client.put(submissions("2024Q4", AMR), json=body, headers=DEPARTMENT)).status_code == 409
    assert (
        await client.post(submissions("2024Q4", AMR) + "/return", json={"reason": "x"}, headers=officer)
    ).status_code == 409


async def test_rounds_of_a_plan_without_reporting_are_none(client, officer, plan):
    found = (await client.get(ROUNDS, headers=officer)).json()
    assert found == {"plan": PLAN, "reporting": None, "items": [], "departments": []}
    assert (await client.get(ROUNDS)).status_code == 401
    assert (await client.get(ROUNDS, headers=auth("officer", ["420500"]))).status_code == 404


async def test_the_plan_file_sets_reporting_and_exports_it(app_client, officer):
    app, client = app_client
    settings = {"period": "half_yearly", "due_days": 15, "review": "required"}
    state = await imported(client, officer, plan_file(reporting=settings))
    assert state["reporting"] == {**settings, "start": None}
    exported = await client.get(f"/plans/{PLAN}/export", params={"format": "xlsx"}, headers=officer)
    before = len(await outbox(app))
    again = await client.post(
        "/plans/import",
        content=exported.content,
        headers={**officer, "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    )
    assert again.status_code == 200 and again.json()["reporting"] == {**settings, "start": None}
    assert len(await outbox(app)) == before  # the same plan: nothing changed
    # a file without the block leaves the rounds as they are; one with it changes them
    assert (await imported(client, officer))["reporting"] == {**settings, "start": None}
    quarterly = {"period": "quarterly", "due_days": 10, "review": "none"}
    changed = await imported(client, officer, plan_file(reporting=quarterly))
    assert changed["reporting"] == {**quarterly, "start": None}


async def test_a_draft_has_no_rounds_yet(client, officer):
    settings = {"period": "monthly", "due_days": 5, "review": "none", "start": None}
    await imported(client, officer, plan_file(reporting=settings))
    found = (await client.get(ROUNDS, headers=officer)).json()
    assert found == {"plan": PLAN, "reporting": settings, "items": [], "departments": []}
    body = {"values": [{"indicator": "patents", "value": 1}]}
    refused = await client.post(submissions("2024-12"), json=body, headers=DEPARTMENT)
    assert refused.status_code == 409 and refused.json()["current_status"] == "draft"
