"""Progress reports through the API: who reports, what is refused, corrections by supersession."""

import pytest
import pytest_asyncio

from services.targets.tests.integration.conftest import PLAN, import_plan, imported, outbox, row_counts
from services.targets.tests.unit.test_plan_document import plan_file
from zhichan.clock import today
from zhichan.testing import auth

REPORTS = f"/plans/{PLAN}/indicators/patents/reports"
DEPARTMENT = auth("department", ["321100"], department="经开区市场监管局", sub="zj-amr")


@pytest_asyncio.fixture(loop_scope="session")
async def plan(client, officer):
    return await imported(client, officer)


async def test_a_responsible_department_reports(app_client, plan):
    app, client = app_client
    body = {"as_of": "2024-12-31", "value": "760", "note": "年报数据", "evidence_url": "https://example.cn/report.pdf"}
    resp = await client.post(REPORTS, json=body, headers=DEPARTMENT)
    assert resp.status_code == 201, resp.text
    report = resp.json()
    assert (report["value"], report["unit"], report["department"], report["reporter"]) == (
        "760",
        "件",
        "经开区市场监管局",
        "zj-amr",
    )
    assert report["superseded_by"] is None and report["evidence_url"] == body["evidence_url"]
    event = (await outbox(app))[-1]
    assert event["type"] == "zhichan.targets.progress_report.submitted.v1"
    assert event["subject"] == f"progress_report/{report['id']}" and event["region"] == "321100-ETDZ"
    assert event["data"] | {"created_at": None} == {
        **{k: v for k, v in report.items() if k != "superseded_by"},
        "created_at": None,
    }


async def test_an_officer_of_the_region_reports_too(client, plan, officer):
    resp = await client.post(REPORTS, json={"as_of": "2024-06-30", "value": 755.5}, headers=officer)
    assert resp.status_code == 201 and resp.json()["value"] == "755.5" and resp.json()["department"] is None


async def test_a_department_that_is_not_responsible_is_refused(app_client, plan):
    app, client = app_client
    police = auth("department", ["321100"], department="经开区公安分局")
    resp = await client.post(REPORTS, json={"as_of": "2024-12-31", "value": 1}, headers=police)
    assert resp.status_code == 403 and "经开区市场监管局" in resp.json()["detail"]
    nameless = auth("department", ["321100"])
    assert (await client.post(REPORTS, json={"as_of": "2024-12-31", "value": 1}, headers=nameless)).status_code == 403
    for role in ("auditor", "public"):
        refused = await client.post(REPORTS, json={"as_of": "2024-12-31", "value": 1}, headers=auth(role, ["321100"]))
        assert refused.status_code == 403
    assert (await client.post(REPORTS, json={"as_of": "2024-12-31", "value": 1})).status_code == 401
    assert (await row_counts(app))["progress_report"] == 0


async def test_a_metric_bound_indicator_takes_no_reports(client, plan, officer):
    resp = await client.post(
        f"/plans/{PLAN}/indicators/pledges/reports", json={"as_of": "2024-12-31", "value": 2}, headers=officer
    )
    assert resp.status_code == 409 and resp.json()["metric"] == "financing.pledge_amount"


async def test_an_indicator_bound_to_targets_reported_takes_reports(client, officer):
    document = plan_file()
    document["indicators"][1] = {**document["indicators"][1], "source": {"metric": "targets.reported"}}
    await imported(client, officer, document)
    resp = await client.post(
        f"/plans/{PLAN}/indicators/pledges/reports", json={"as_of": "2024-12-31", "value": 2}, headers=officer
    )
    assert resp.status_code == 201


@pytest.mark.parametrize(
    "body, field",
    [
        ({"as_of": "2024-12-31", "value": "many"}, "value"),
        ({"as_of": "2024-12-31", "value": True}, "value"),
        ({"as_of": "2024-12-31", "value": "NaN"}, "value"),
        ({"as_of": "2024-12-31"}, "value"),
        ({"as_of": "2023-12-31", "value": 1}, "as_of"),
        ({"as_of": "2027-01-01", "value": 1}, "as_of"),
        ({"as_of": "31/12/2024", "value": 1}, "as_of"),
        ({"as_of": "2024-12-31", "value": 1, "evidence_url": "not a url"}, "evidence_url"),
        ({"as_of": "2024-12-31", "value": 1, "mood": "good"}, "mood"),
        ({"as_of": "2024-12-31", "value": 1, "supersedes": "01NOTHING"}, "supersedes"),
    ],
)
async def test_bad_reports_name_the_field(app_client, plan, body, field):
    app, client = app_client
    resp = await client.post(REPORTS, json=body, headers=DEPARTMENT)
    assert resp.status_code == 422 and resp.headers["content-type"] == "application/problem+json"
    assert [field] in [e["loc"] for e in resp.json()["errors"]], resp.json()
    assert (await row_counts(app))["progress_report"] == 0


async def test_a_report_for_a_day_to_come_is_refused(client, officer):
    year = today().year
    document = plan_file(plan={"key": PLAN, "title": "t", "start": f"{year}-01-01", "end": f"{year + 1}-12-31"})
    document["indicators"][0]["milestones"] = {}
    await imported(client, officer, document)
    resp = await client.post(REPORTS, json={"as_of": f"{year + 1}-12-31", "value": 1}, headers=officer)
    assert resp.status_code == 422 and "future" in resp.json()["errors"][0]["msg"]


async def test_a_correction_supersedes_and_lists_in_as_of_order(client, plan):
    late = (await client.post(REPORTS, json={"as_of": "2025-06-30", "value": 790}, headers=DEPARTMENT)).json()
    early = (await client.post(REPORTS, json={"as_of": "2024-12-31", "value": 706}, headers=DEPARTMENT)).json()
    fix = await client.post(
        REPORTS,
        json={"as_of": "2024-12-31", "value": 760, "supersedes": early["id"], "note": "笔误"},
        headers=DEPARTMENT,
    )
    assert fix.status_code == 201 and fix.json()["supersedes"] == early["id"]
    listed = (await client.get(REPORTS, headers=auth("auditor", ["321100"]))).json()["items"]
    assert [(r["id"], r["superseded_by"]) for r in listed] == [
        (early["id"], fix.json()["id"]),
        (fix.json()["id"], None),
        (late["id"], None),
    ]
    twice = await client.post(
        REPORTS, json={"as_of": "2024-12-31", "value": 761, "supersedes": early["id"]}, headers=DEPARTMENT
    )
    assert twice.status_code == 409 and twice.json()["superseded_by"] == fix.json()["id"]
    other = await client.post(
        f"/plans/{PLAN}/indicators/pledges/reports",
        json={"as_of": "2024-12-31", "value": 1, "supersedes": late["id"]},
        headers=auth("officer", ["321100"]),
    )
    assert other.status_code == 409  # a metric-bound indicator, before anything else


async def test_reports_page_in_as_of_order(client, plan):
    for month in ("03", "01", "02"):
        await client.post(REPORTS, json={"as_of": f"2025-{month}-01", "value": 700}, headers=DEPARTMENT)
    first = (await client.get(REPORTS, params={"limit": 2}, headers=DEPARTMENT)).json()
    rest = (await client.get(REPORTS, params={"limit": 2, "cursor": first["next_cursor"]}, headers=DEPARTMENT)).json()
    assert [r["as_of"] for r in first["items"] + rest["items"]] == ["2025-01-01", "2025-02-01", "2025-03-01"]


async def test_reading_reports_needs_the_region(client, plan, officer):
    await client.post(f"/plans/{PLAN}/activate", headers=officer)
    assert (await client.get(REPORTS)).status_code == 401
    assert (await client.get(REPORTS, headers=auth("officer", ["420500"]))).status_code == 404
    assert (await client.get(f"/plans/{PLAN}/indicators/ghost/reports", headers=officer)).status_code == 404


async def test_a_closed_plan_takes_no_reports(client, plan, officer):
    await client.post(f"/plans/{PLAN}/activate", headers=officer)
    await client.post(f"/plans/{PLAN}/close", headers=officer)
    assert (await client.post(REPORTS, json={"as_of": "2024-12-31", "value": 1}, headers=officer)).status_code == 409


async def test_an_indicator_with_reports_stays_in_the_plan(client, plan, officer):
    await client.post(REPORTS, json={"as_of": "2024-12-31", "value": 760}, headers=officer)
    document = plan_file()
    document["indicators"] = document["indicators"][1:]
    resp = await import_plan(client, officer, document)
    assert resp.status_code == 409 and resp.json()["indicators"] == ["patents"]


async def test_the_report_endpoint_says_an_annual_average_is_reported_as_the_average(client):
    operation = (await client.get("/openapi.json")).json()["paths"]["/plans/{key}/indicators/{ikey}/reports"]["post"]
    assert "average per year since the plan start" in operation["description"]
    assert "does not divide it again" in operation["description"]
