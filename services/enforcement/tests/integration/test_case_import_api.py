"""Cases from another system: POST /cases/import (xlsx, CSV, dry run, refusal, idempotence, updates,
the job of a large file), its template, and PUT /cases/by-number."""

import io
from collections import Counter
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from services.enforcement.tests.integration.conftest import count_cases, events_match_their_contracts, outbox, run_steps
from zhichan import record_import
from zhichan.tabular import XLSX_TYPE
from zhichan.testing import auth, csv_file, finished_job, xlsx_file
from zhichan.uscc import build_uscc

YICHANG, XILING = "420500", "420502"
HEADERS = [
    "行政区划代码",
    "立案号",
    "案件类型",
    "程序",
    "案件来源",
    "当事人名称",
    "当事人统一社会信用代码",
    "承办单位",
    "立案日期",
]
CODES = [
    "region",
    "case_number",
    "type",
    "procedure",
    "origin",
    "respondent_name",
    "respondent_uscc",
    "handling_unit",
    "filed_date",
]

CHINESE = dict(zip(CODES, HEADERS, strict=True))  # the headers of a workbook: Chinese where known


@pytest.fixture
def officer():
    return auth("officer", [YICHANG])


def case_row(n: int, filed: str = "2024-03-04", **steps: str) -> dict[str, str]:
    return {
        "region": XILING,
        "case_number": f"宜西市监知立〔2024〕{n}号",
        "type": "商标侵权",
        "procedure": "行政处罚",
        "origin": "投诉举报",
        "respondent_name": f"宜昌市某某商贸有限公司{n}",
        "respondent_uscc": "91420502000000001G",
        "handling_unit": "西陵区市场监管局",
        "filed_date": filed,
        **steps,
    }


CLOSED = {"decided_date": "2024-05-20", "outcome": "penalty_decision", "fine": "50000", "closed_date": "2024-05-31"}


async def import_csv(client, headers, rows, expect=200, query=""):
    resp = await client.post(
        f"/cases/import{query}", content=csv_file(rows), headers={**headers, "Content-Type": "text/csv"}
    )
    assert resp.status_code == expect, resp.text
    return resp.json()


async def case_by_number(client, headers, n: int) -> dict:
    found = await client.get("/cases", params={"region": XILING, "limit": 100}, headers=headers)
    return next(c for c in found.json()["items"] if c["case_number"] == f"宜西市监知立〔2024〕{n}号")


def comparable(case: dict) -> dict:
    """A case's state without what differs between two records of the same history."""
    skip = {"id", "case_number", "created_at", "updated_at", "respondent"}
    steps = [{k: v for k, v in s.items() if k not in ("at", "actor")} for s in case["timeline"]]
    return {**{k: v for k, v in case.items() if k not in skip}, "timeline": steps}


async def test_an_imported_case_is_the_case_the_steps_would_have_made(app, client, officer):
    answer = await import_csv(client, officer, [case_row(1, investigated_date="2024-03-06", **CLOSED)])
    assert answer == {"created": 1, "updated": 0, "unchanged": 0, "refused": 0, "rows": 1, "dry_run": False}
    imported = await case_by_number(client, officer, 1)

    body = {
        k: v
        for k, v in case_row(2).items()
        if k not in ("respondent_name", "respondent_uscc", "type", "origin", "procedure")
    }
    body |= {"type": "trademark_infringement", "procedure": "administrative_penalty", "origin": "complaint"}
    body["respondent"] = {"name": "宜昌市某某商贸有限公司2", "uscc": build_uscc(XILING, 2)}  # not a repeat infringer
    filed = await client.post("/cases", json=body, headers=officer)
    walked = await run_steps(
        client,
        filed.json()["id"],
        officer,
        ("investigate", "2024-03-06", {}),
        ("decide", "2024-05-20", {"outcome": "penalty_decision", "fine": "50000"}),
        ("close", "2024-05-31", {}),
    )
    assert comparable(imported) == comparable(walked)
    assert imported["closed_on_time"] is True and imported["version"] == 4
    types = await events_match_their_contracts(app)
    one_case = [t.split(".")[3] for t in types[: len(types) // 2]]
    assert one_case == ["filed", "investigation_started", "decided", "closed"]
    assert types[: len(types) // 2] == types[len(types) // 2 :]


async def test_an_xlsx_upload_with_chinese_headers(client, officer):
    raw = xlsx_file([case_row(1, **CLOSED), case_row(2, filed="2024-11-04")], CHINESE)
    files = {"file": ("cases.xlsx", raw, XLSX_TYPE)}
    resp = await client.post("/cases/import", files=files, headers=officer)
    assert resp.status_code == 200, resp.text
    assert resp.json()["created"] == 2
    assert (await case_by_number(client, officer, 2))["status"] == "filed"


async def test_a_dry_run_counts_and_stores_nothing(app, client, officer):
    answer = await import_csv(client, officer, [case_row(1, **CLOSED), case_row(2)], query="?dry_run=true")
    assert (answer["created"], answer["dry_run"]) == (2, True)
    assert await count_cases(app) == 0 and await outbox(app) == []


async def test_a_file_with_problems_is_refused_whole(app, client, officer):
    rows = [
        case_row(1, **CLOSED),
        case_row(2, filed="2024-02-30"),
        case_row(3, closed_date="2024-05-31"),  # closed without a decision: the state machine refuses
        case_row(1),  # the same case again
    ]
    problem = await import_csv(client, officer, rows, expect=422)
    assert [(e["row"], e["loc"][-1]) for e in problem["errors"]] == [
        (3, "filed_date"),
        (4, "closed_date"),
        (5, "case_number"),
    ]
    assert problem["errors"][0]["column"] == "立案日期"
    assert "cannot close a case that is filed" in problem["errors"][1]["msg"]
    assert (problem["created"], problem["refused"]) == (1, 3)
    assert await count_cases(app) == 0 and await outbox(app) == []


async def test_a_refusal_as_the_workbook_with_the_bad_cells_marked(client, officer):
    raw = xlsx_file([case_row(1, **CLOSED), case_row(2, filed="2024-02-30")], CHINESE)
    resp = await client.post(
        "/cases/import?annotated=xlsx", content=raw, headers={**officer, "Content-Type": XLSX_TYPE}
    )
    assert resp.status_code == 422 and resp.headers["content-type"] == XLSX_TYPE
    sheet = load_workbook(io.BytesIO(resp.content)).active
    bad = sheet.cell(3, CODES.index("filed_date") + 1)
    assert bad.fill.start_color.rgb.endswith("FFC7CE")
    assert "not a date" in bad.comment.text
    assert sheet.cell(2, CODES.index("filed_date") + 1).comment is None
    uploaded = await client.post(
        "/cases/import?annotated=xlsx", files={"file": ("2024年案件.xlsx", raw, XLSX_TYPE)}, headers=officer
    )
    assert uploaded.status_code == 422
    assert uploaded.headers["content-disposition"].endswith(f"filename*=UTF-8''{quote('2024年案件-errors.xlsx')}")
    by_accept = await client.post(
        "/cases/import", content=raw, headers={**officer, "Content-Type": XLSX_TYPE, "Accept": XLSX_TYPE}
    )
    assert by_accept.status_code == 422 and by_accept.headers["content-type"] == XLSX_TYPE


async def test_importing_the_same_file_twice_changes_nothing(app, client, officer):
    rows = [case_row(1, **CLOSED), case_row(2, suspended_date="2024-04-01", suspension_reason="等待鉴定")]
    await import_csv(client, officer, rows)
    events = len(await outbox(app))
    again = await import_csv(client, officer, rows)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert len(await outbox(app)) == events


async def test_a_changed_row_updates_the_case_through_its_steps(app, client, officer):
    await import_csv(client, officer, [case_row(1, investigated_date="2024-03-06"), case_row(2)])
    later = [
        case_row(1, investigated_date="2024-03-06", **CLOSED),
        {**case_row(2), "handling_unit": "伍家岗区市场监管局"},
    ]
    answer = await import_csv(client, officer, later)
    assert (answer["updated"], answer["unchanged"]) == (2, 0)
    closed = await case_by_number(client, officer, 1)
    assert [s["action"] for s in closed["timeline"]] == ["file", "investigate", "decide", "close"]
    assert (await case_by_number(client, officer, 2))["handling_unit"] == "伍家岗区市场监管局"
    types = [t.split(".")[3] for t in await events_match_their_contracts(app)]
    assert types[-3:] == ["decided", "closed", "amended"]


async def test_a_step_the_state_machine_refuses_is_a_row_error(app, client, officer):
    await import_csv(client, officer, [case_row(1, **CLOSED)])
    events = len(await outbox(app))
    withdrawn = await import_csv(client, officer, [case_row(1, **CLOSED, withdrawn_date="2024-06-03")], expect=422)
    assert [(e["row"], e["loc"][-1]) for e in withdrawn["errors"]] == [(2, "withdrawn_date")]
    assert "cannot withdraw a case that is closed" in withdrawn["errors"][0]["msg"]
    moved = await import_csv(client, officer, [case_row(1, **{**CLOSED, "decided_date": "2024-05-21"})], expect=422)
    assert moved["errors"][0]["loc"][-1] == "decided_date"
    assert "recorded decide on 2024-05-20" in moved["errors"][0]["msg"]
    refiled = await import_csv(client, officer, [case_row(1, filed="2024-03-05", **CLOSED)], expect=422)
    assert refiled["errors"][0]["loc"][-1] == "filed_date"
    no_campaign = await import_csv(client, officer, [case_row(1, **CLOSED, campaign_id="01NOSUCHCAMPAIGN")], expect=422)
    assert [(e["loc"][-1], e["msg"]) for e in no_campaign["errors"]] == [
        ("campaign_id", "no campaign 01NOSUCHCAMPAIGN")
    ]
    assert len(await outbox(app)) == events


async def test_a_large_file_is_a_job(app, client, officer):
    app.state.settings.import_job_rows = 2
    rows = [case_row(n, **CLOSED) for n in range(1, 6)]
    resp = await client.post("/cases/import", content=csv_file(rows), headers={**officer, "Content-Type": "text/csv"})
    assert resp.status_code == 202, resp.text
    location = resp.headers["location"]
    assert location == f"/cases/import/jobs/{resp.json()['id']}"
    job = await finished_job(client, location, officer)
    assert job["status"] == "succeeded", job
    assert (job["rows"], job["phase"], job["done"], job["result"]["created"]) == (5, "checking", 5, 5)
    assert await count_cases(app) == 5
    someone_else = await client.get(location, headers=auth("officer", [YICHANG], sub="another-officer"))
    assert someone_else.status_code == 404


async def test_a_file_of_several_chunks_is_one_transaction(app, client, officer, monkeypatch):
    monkeypatch.setattr(record_import, "ROWS_PER_CHUNK", 2)
    rows = [case_row(n, **CLOSED) for n in range(1, 6)]
    unreadable = await import_csv(client, officer, [*rows[:4], case_row(5, filed="2024-02-30")], expect=422)
    assert [e["row"] for e in unreadable["errors"]] == [6]
    # Refused while imported, in the last chunk: the chunks before it were flushed, and are not kept.
    no_campaign = case_row(5, **CLOSED, campaign_id="01NOSUCHCAMPAIGN")
    refused = await import_csv(client, officer, [*rows[:4], no_campaign], expect=422)
    assert [(e["row"], e["loc"][-1]) for e in refused["errors"]] == [(6, "campaign_id")]
    assert refused["created"] == 4 and refused["refused"] == 1
    assert await count_cases(app) == 0 and await outbox(app) == []
    checked = await import_csv(client, officer, rows, query="?dry_run=true")
    assert checked["created"] == 5 and await count_cases(app) == 0 and await outbox(app) == []
    assert (await import_csv(client, officer, rows))["created"] == 5
    assert await count_cases(app) == 5
    # Each chunk's events were written with it: filed, investigation started, decided, closed.
    cases = Counter(e["subject"] for e in await outbox(app) if e["subject"].startswith("case/"))
    assert sorted(cases.values()) == [4] * 5
    assert (await import_csv(client, officer, rows))["unchanged"] == 5


async def test_a_refused_job_lists_its_errors(app, client, officer):
    app.state.settings.import_job_rows = 1
    rows = [case_row(1, **CLOSED), case_row(2, filed="not a date")]
    resp = await client.post("/cases/import", content=csv_file(rows), headers={**officer, "Content-Type": "text/csv"})
    job = await finished_job(client, resp.headers["location"], officer)
    assert job["status"] == "failed"
    assert [(e["row"], e["loc"][-1]) for e in job["errors"]] == [(3, "filed_date")]
    assert await count_cases(app) == 0


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
async def test_the_template_imports_as_it_is(app, client, officer, fmt):
    resp = await client.get(f"/cases/import/template?format={fmt}", headers=officer)
    assert resp.status_code == 200
    media = XLSX_TYPE if fmt == "xlsx" else "text/csv"
    answer = await client.post("/cases/import", content=resp.content, headers={**officer, "Content-Type": media})
    assert answer.json()["created"] == 2, answer.text
    assert await count_cases(app) == 2


async def test_not_a_spreadsheet(client, officer):
    resp = await client.post("/cases/import", content=b"{}", headers={**officer, "Content-Type": "application/json"})
    assert resp.status_code == 415
    for query in ("", "?annotated=xlsx"):  # nothing to mark in a file that is no workbook
        broken = await client.post(
            f"/cases/import{query}", content=b"PK no zip", headers={**officer, "Content-Type": XLSX_TYPE}
        )
        assert broken.status_code == 422 and broken.json()["errors"][0]["loc"] == ["file"]


# ---------------------------------------------------------------- PUT /cases/by-number


def record(n: int, **steps) -> dict:
    return {
        "region": XILING,
        "case_number": f"宜西市监知立〔2024〕{n}号",
        "type": "trademark_infringement",
        "procedure": "administrative_penalty",
        "origin": "complaint",
        "respondent": {"name": "宜昌市某某商贸有限公司", "uscc": "91420502000000001G"},
        "handling_unit": "西陵区市场监管局",
        "filed_date": "2024-03-04",
        **steps,
    }


def by_number(n: int) -> str:
    return f"/cases/by-number/{XILING}/{quote(f'宜西市监知立〔2024〕{n}号')}"


async def test_put_by_number_creates_then_brings_the_case_forward(client, officer):
    created = await client.put(by_number(1), json=record(1), headers=officer)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/cases/{created.json()['id']}"
    same = await client.put(by_number(1), json=record(1), headers=officer)
    assert (same.status_code, same.headers["etag"]) == (200, created.headers["etag"])
    closed = await client.put(by_number(1), json=record(1, **CLOSED), headers=officer)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert closed.json()["version"] == 4


async def test_put_by_number_with_suspensions(client, officer):
    suspensions = [
        {"start": "2024-03-11", "end": "2024-03-21", "reason": "等待鉴定"},
        {"start": "2024-04-01", "reason": "等待无效宣告"},
    ]
    pushed = await client.put(by_number(1), json=record(1, suspensions=suspensions), headers=officer)
    assert pushed.status_code == 201, pushed.text
    case = pushed.json()
    assert (case["status"], case["due_date"], case["suspended_days"]) == ("suspended", None, 10)
    resumed = [*suspensions[:1], {**suspensions[1], "end": "2024-05-01"}]
    later = await client.put(by_number(1), json=record(1, suspensions=resumed), headers=officer)
    assert later.json()["due_date"] == "2024-07-12"  # 90 days from 2024-03-04 (06-02), and 10 + 30 days suspended


async def test_put_by_number_honours_if_match(client, officer):
    created = await client.put(by_number(1), json=record(1), headers=officer)
    stale = created.headers["etag"]
    await client.put(by_number(1), json=record(1, summary="更正"), headers={**officer, "If-Match": stale})
    refused = await client.put(by_number(1), json=record(1, **CLOSED), headers={**officer, "If-Match": stale})
    assert refused.status_code == 412
    missing = await client.put(by_number(2), json=record(2), headers={**officer, "If-Match": stale})
    assert missing.status_code == 412


async def test_put_by_number_refuses_what_the_rules_refuse(client, officer):
    await client.put(by_number(1), json=record(1, **CLOSED), headers=officer)
    withdrawn = await client.put(by_number(1), json=record(1, **CLOSED, withdrawn_date="2024-06-03"), headers=officer)
    assert withdrawn.status_code == 409 and withdrawn.json()["current_status"] == "closed"
    other = await client.put(by_number(1), json=record(2), headers=officer)
    assert other.status_code == 422 and other.json()["errors"][0]["loc"] == ["case_number"]
    elsewhere = await client.put(by_number(3), json=record(3), headers=auth("officer", ["321100"]))
    assert elsewhere.status_code == 403


async def test_decisions_imported_against_one_respondent_list_it_as_a_repeat_infringer(client, officer):
    await import_csv(client, officer, [case_row(1, **CLOSED), case_row(2, **{**CLOSED, "decided_date": "2024-04-03"})])
    listed = await client.get("/watchlist", params={"region": XILING, "as_of": "2024-07-01"}, headers=officer)
    [entry] = listed.json()["items"]
    assert (entry["uscc"], entry["listed_since"]) == ("91420502000000001G", "2024-05-20")
    corrected = [case_row(1, **CLOSED), {**case_row(2, **{**CLOSED, "decided_date": "2024-04-03"})}]
    corrected[1]["respondent_uscc"] = build_uscc(XILING, 2)
    assert (await import_csv(client, officer, corrected))["updated"] == 1
    relisted = await client.get("/watchlist", params={"region": XILING, "as_of": "2024-07-01"}, headers=officer)
    assert relisted.json()["items"] == []  # one decision each: neither respondent is listed
