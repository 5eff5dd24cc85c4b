"""Practitioners, annual reports and complaints from another system: POST /<records>/import, the
agency named by its USCC, each record's history taken on its dates, idempotence, corrections and
refusals, the templates."""

import pytest

from services.agencies.models import AnnualReport, Complaint, CreditEntry, Practitioner
from services.agencies.tests.integration.conftest import count_rows, outbox_envelopes, outbox_types
from zhichan.tabular import XLSX_TYPE
from zhichan.testing import auth, csv_file
from zhichan.uscc import build_uscc

QUANSHAN = "320311"
USCC = build_uscc(QUANSHAN, 1)
AGENCY = {
    "region": QUANSHAN,
    "uscc": USCC,
    "name": "徐州知信专利代理事务所",
    "service_types": "patent_agency",
    "filed_on": "2021-03-01",
    "approved_on": "2021-03-15",
}


async def import_csv(client, headers, records: str, rows, expect=200, query=""):
    resp = await client.post(
        f"/{records}/import{query}", content=csv_file(rows), headers={**headers, "Content-Type": "text/csv"}
    )
    assert resp.status_code == expect, resp.text
    return resp.json()


@pytest.fixture
async def agency(client, officer):
    await import_csv(client, officer, "agencies", [AGENCY])


# ---------------------------------------------------------------- practitioners

SPELL = {"agency_uscc": USCC, "name": "王某某", "type": "专利代理师", "certificate_number": "3212345"}


async def test_practitioners_join_and_leave_on_their_dates(app_client, officer, agency):
    app, client = app_client
    rows = [
        {**SPELL, "joined_on": "2023-07-01"},  # the later spell first: imported in the order of the spells
        {**SPELL, "joined_on": "2021-04-01", "left_on": "2023-06-30", "leave_reason": "调入其他机构"},
    ]
    answer = await import_csv(client, officer, "practitioners", rows)
    assert (answer["created"], answer["refused"]) == (2, 0)
    types = [t.split(".")[3] for t in await outbox_types(app)]
    assert types[-3:] == ["joined", "left", "joined"]
    again = await import_csv(client, officer, "practitioners", rows)
    assert again["unchanged"] == 2
    left = [{**SPELL, "joined_on": "2023-07-01", "left_on": "2024-01-31"}]
    assert (await import_csv(client, officer, "practitioners", left))["updated"] == 1
    [last] = (await outbox_envelopes(app, "zhichan.agencies.practitioner.left.v1"))[-1:]
    assert (last["data"]["joined_on"], last["data"]["left_on"]) == ("2023-07-01", "2024-01-31")


async def test_a_practitioner_the_rules_refuse_is_a_row_error(app_client, officer, agency):
    app, client = app_client
    rows = [
        {**SPELL, "joined_on": "2021-04-01"},
        {**SPELL, "agency_uscc": build_uscc(QUANSHAN, 9), "certificate_number": "3200001", "joined_on": "2021-05-01"},
        {**SPELL, "certificate_number": "3212345", "joined_on": "2021-02-01"},  # before the filing, and practising
        {**SPELL, "certificate_number": "12345", "joined_on": "2021-05-01"},
    ]
    problem = await import_csv(client, officer, "practitioners", rows, expect=422)
    assert [(e["row"], e["loc"][-1]) for e in problem["errors"]] == [
        (3, "agency_uscc"),
        (4, "joined_on"),
        (5, "certificate_number"),
    ]
    assert await count_rows(app, Practitioner) == 0


# ---------------------------------------------------------------- annual reports

REPORT = {
    "agency_uscc": USCC,
    "year": "2022",
    "staff": "12",
    "practitioners": "5",
    "service_revenue": "1860000.00",
    "filings_handled": "420",
    "submitted_on": "2023-03-20",
}


async def test_annual_reports_are_submitted_and_corrected_by_the_rules(app_client, officer, agency):
    app, client = app_client
    assert (await import_csv(client, officer, "annual-reports", [REPORT]))["created"] == 1
    assert (await import_csv(client, officer, "annual-reports", [REPORT]))["unchanged"] == 1
    corrected = {**REPORT, "staff": "13"}
    refused = await import_csv(client, officer, "annual-reports", [corrected], expect=422)
    assert refused["errors"][0]["loc"][-1] == "supersede_reason"
    with_reason = {**corrected, "supersede_reason": "从业人员数填报有误"}
    assert (await import_csv(client, officer, "annual-reports", [with_reason]))["updated"] == 1
    assert await count_rows(app, AnnualReport) == 2
    reports = await client.get("/annual-reports", params={"region": QUANSHAN}, headers=officer)
    [current] = reports.json()["items"]
    assert (current["staff"], current["submitted_on"]) == (13, "2023-03-20")
    early = await import_csv(client, officer, "annual-reports", [{**REPORT, "year": "2020"}], expect=422)
    assert early["errors"][0]["loc"][-1] == "year"


# ---------------------------------------------------------------- complaints

COMPLAINT = {"agency_uscc": USCC, "channel": "热线", "received_on": "2024-03-04", "content": "未按约定时间提交专利申请"}
RESOLVED = {"resolved_on": "2024-03-20", "outcome": "属实", "findings": "经查属实，已责令整改"}


async def test_complaints_are_received_and_resolved_on_their_dates(app_client, officer, agency):
    app, client = app_client
    answer = await import_csv(client, officer, "complaints", [{**COMPLAINT, **RESOLVED}])
    assert answer["created"] == 1
    [resolved] = await outbox_envelopes(app, "zhichan.agencies.complaint.resolved.v1")
    data = resolved["data"]
    assert (data["received_on"], data["resolved_on"], data["outcome"]) == ("2024-03-04", "2024-03-20", "upheld")
    assert data["deadline"] == "2024-03-25" and data["resolved_on_time"] is True  # 15 working days
    assert await count_rows(app, CreditEntry) == 1  # upheld: in the credit archive on the day resolved
    assert (await import_csv(client, officer, "complaints", [{**COMPLAINT, **RESOLVED}]))["unchanged"] == 1


async def test_an_open_complaint_is_resolved_by_a_later_row(app_client, officer, agency):
    app, client = app_client
    await import_csv(client, officer, "complaints", [COMPLAINT])
    answer = await import_csv(client, officer, "complaints", [{**COMPLAINT, **RESOLVED, "outcome": "rejected"}])
    assert answer["updated"] == 1
    assert await count_rows(app, Complaint) == 1 and await count_rows(app, CreditEntry) == 0
    other = {**COMPLAINT, **RESOLVED, "outcome": "mediated"}
    moved = await import_csv(client, officer, "complaints", [other], expect=422)
    assert moved["errors"][0]["loc"][-1] == "resolved_on"
    half = await import_csv(client, officer, "complaints", [{**COMPLAINT, "resolved_on": "2024-03-20"}], expect=422)
    assert half["errors"][0]["loc"][-1] == "outcome"


async def test_complaints_before_receipt_or_of_no_agency_are_row_errors(app_client, officer, agency):
    app, client = app_client
    rows = [
        {**COMPLAINT, **RESOLVED, "resolved_on": "2024-03-01"},
        {**COMPLAINT, "agency_uscc": build_uscc(QUANSHAN, 9)},
        {**COMPLAINT, "channel": "微信"},
    ]
    problem = await import_csv(client, officer, "complaints", rows, expect=422)
    assert [(e["row"], e["loc"][-1]) for e in problem["errors"]] == [
        (2, "resolved_on"),
        (3, "agency_uscc"),
        (4, "channel"),
    ]
    assert await count_rows(app, Complaint) == 0


# ---------------------------------------------------------------- templates


@pytest.mark.parametrize("records", ["practitioners", "annual-reports", "complaints"])
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
async def test_each_template_imports_as_it_is(client, records, fmt):
    officer = auth("officer", ["320300"])
    agencies = await client.get(f"/agencies/import/template?format={fmt}", headers=officer)
    media = XLSX_TYPE if fmt == "xlsx" else "text/csv"
    await client.post("/agencies/import", content=agencies.content, headers={**officer, "Content-Type": media})
    resp = await client.get(f"/{records}/import/template?format={fmt}", headers=officer)
    assert resp.status_code == 200
    answer = await client.post(f"/{records}/import", content=resp.content, headers={**officer, "Content-Type": media})
    assert answer.status_code == 200 and answer.json()["created"] == 2, answer.text
