"""Agencies from another system: POST /agencies/import (xlsx, CSV, dry run, refusal, idempotence,
updates, the job of a large file), its template, and PUT /agencies/by-uscc."""

import io

import pytest
from openpyxl import load_workbook

from services.agencies.models import Agency
from services.agencies.tests.integration.conftest import agency_body, count_rows, outbox_envelopes, outbox_types
from zhichan import record_import
from zhichan.tabular import XLSX_TYPE
from zhichan.testing import auth, csv_file, finished_job, xlsx_file
from zhichan.uscc import build_uscc

XUZHOU, QUANSHAN = "320300", "320311"
CHINESE = {"region": "行政区划代码", "uscc": "统一社会信用代码", "name": "机构名称", "filed_on": "备案日期"}


def agency_row(n: int, filed: str = "2021-03-01", **changes: str) -> dict[str, str]:
    return {
        "region": QUANSHAN,
        "uscc": build_uscc(QUANSHAN, n),
        "name": f"徐州知信专利代理事务所{n}",
        "service_types": "专利代理、consulting",
        "offline": "是",
        "filed_on": filed,
        **changes,
    }


APPROVED = {"approved_on": "2021-03-15"}
HISTORY = {**APPROVED, "suspended_on": "2022-04-01", "reinstated_on": "2022-07-01", "deregistered_on": "2024-01-10"}


async def import_csv(client, headers, rows, expect=200, query=""):
    resp = await client.post(
        f"/agencies/import{query}", content=csv_file(rows), headers={**headers, "Content-Type": "text/csv"}
    )
    assert resp.status_code == expect, resp.text
    return resp.json()


async def agency_of(client, headers, n: int) -> dict:
    found = await client.get("/agencies", params={"region": QUANSHAN, "limit": 100}, headers=headers)
    return next(a for a in found.json()["items"] if a["uscc"] == build_uscc(QUANSHAN, n))


def comparable(agency: dict) -> dict:
    """An agency's state without what differs between two records of the same history."""
    skip = {"id", "uscc", "name", "licence_numbers", "address", "created_at", "updated_at"}
    history = [{k: v for k, v in s.items() if k not in ("at", "actor")} for s in agency["status_history"]]
    return {**{k: v for k, v in agency.items() if k not in skip}, "status_history": history}


async def test_an_imported_agency_is_the_agency_the_routes_would_have_made(app_client, officer):
    app, client = app_client
    answer = await import_csv(client, officer, [agency_row(1, **HISTORY)])
    assert answer == {"created": 1, "updated": 0, "unchanged": 0, "refused": 0, "rows": 1, "dry_run": False}
    imported = await agency_of(client, officer, 1)

    body = agency_body(2, service_types=["patent_agency", "consulting"], filed_on="2021-03-01")
    agency = (await client.post("/agencies", json=body, headers=officer)).json()
    for action, on in (("approve", "2021-03-15"), ("suspend", "2022-04-01"), ("reinstate", "2022-07-01")):
        await client.post(f"/agencies/{agency['id']}/{action}", json={"date": on}, headers=officer)
    walked = await client.post(f"/agencies/{agency['id']}/deregister", json={"date": "2024-01-10"}, headers=officer)
    assert comparable(imported) == comparable(walked.json())
    assert imported["version"] == 5
    types = [t.split(".")[3] for t in await outbox_types(app)]
    assert types == ["filed", "approved", "suspended", "reinstated", "deregistered"] * 2


async def test_an_xlsx_upload_with_chinese_headers(client, officer):
    raw = xlsx_file([agency_row(1, **APPROVED), agency_row(2)], CHINESE)
    resp = await client.post("/agencies/import", files={"file": ("机构.xlsx", raw, XLSX_TYPE)}, headers=officer)
    assert resp.status_code == 200, resp.text
    assert resp.json()["created"] == 2
    assert (await agency_of(client, officer, 1))["status"] == "active"
    filed = await agency_of(client, officer, 2)
    assert (filed["status"], filed["service_types"], filed["offline"]) == (
        "filed",
        ["patent_agency", "consulting"],
        True,
    )


async def test_a_dry_run_counts_and_stores_nothing(app_client, officer):
    app, client = app_client
    answer = await import_csv(client, officer, [agency_row(1, **HISTORY), agency_row(2)], query="?dry_run=true")
    assert (answer["created"], answer["dry_run"]) == (2, True)
    assert await count_rows(app, Agency) == 0 and await outbox_types(app) == []


async def test_a_file_with_problems_is_refused_whole(app_client, officer):
    app, client = app_client
    rows = [
        agency_row(1, **APPROVED),
        agency_row(2, filed="2021-02-30"),
        agency_row(3, suspended_on="2022-04-01"),  # suspended while only filed: the state machine refuses
        {**agency_row(4), "service_types": "炒股"},
        agency_row(1),  # the same agency again
    ]
    problem = await import_csv(client, officer, rows, expect=422)
    assert [(e["row"], e["loc"][-1]) for e in problem["errors"]] == [
        (3, "filed_on"),
        (4, "suspended_on"),
        (5, "service_types"),
        (6, "uscc"),
    ]
    assert problem["errors"][0]["column"] == "备案日期"
    assert "cannot suspend an agency that is filed" in problem["errors"][1]["msg"]
    assert (problem["created"], problem["refused"]) == (1, 4)
    assert await count_rows(app, Agency) == 0 and await outbox_types(app) == []


async def test_a_refusal_as_the_workbook_with_the_bad_cells_marked(client, officer):
    raw = xlsx_file([agency_row(1), agency_row(2, filed="2021-02-30")], CHINESE)
    resp = await client.post(
        "/agencies/import?annotated=xlsx", content=raw, headers={**officer, "Content-Type": XLSX_TYPE}
    )
    assert resp.status_code == 422 and resp.headers["content-type"] == XLSX_TYPE
    sheet = load_workbook(io.BytesIO(resp.content)).active
    bad = sheet.cell(3, list(agency_row(2)).index("filed_on") + 1)
    assert "not a date" in bad.comment.text


async def test_importing_the_same_file_twice_changes_nothing(app_client, officer):
    app, client = app_client
    rows = [agency_row(1, **HISTORY), agency_row(2, **APPROVED)]
    await import_csv(client, officer, rows)
    events = len(await outbox_types(app))
    again = await import_csv(client, officer, rows)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert len(await outbox_types(app)) == events


async def test_a_changed_row_updates_the_agency_through_the_state_machine(app_client, officer):
    app, client = app_client
    await import_csv(client, officer, [agency_row(1), agency_row(2, **APPROVED)])
    later = [agency_row(1, **APPROVED), {**agency_row(2, **APPROVED), "name": "徐州知信知识产权代理有限公司"}]
    answer = await import_csv(client, officer, later)
    assert (answer["updated"], answer["unchanged"]) == (2, 0)
    assert (await agency_of(client, officer, 1))["status"] == "active"
    assert (await agency_of(client, officer, 2))["name"] == "徐州知信知识产权代理有限公司"
    types = [t.split(".")[3] for t in await outbox_types(app)]
    assert types[-2:] == ["approved", "updated"]


async def test_a_change_the_rules_refuse_is_a_row_error(app_client, officer):
    app, client = app_client
    await import_csv(client, officer, [agency_row(1, **HISTORY)])
    events = len(await outbox_types(app))
    moved = await import_csv(client, officer, [agency_row(1, **{**HISTORY, "approved_on": "2021-03-16"})], expect=422)
    assert moved["errors"][0]["loc"][-1] == "approved_on"
    assert "became active on 2021-03-15" in moved["errors"][0]["msg"]
    branded = await import_csv(client, officer, [agency_row(1, **HISTORY, brand_level="省级品牌机构")], expect=422)
    assert branded["errors"][0]["loc"][-1] == "brand_level"
    assert len(await outbox_types(app)) == events


async def test_a_deregistered_uscc_filed_again_is_a_second_agency(app_client, officer):
    app, client = app_client
    rows = [agency_row(1, **HISTORY)]
    await import_csv(client, officer, rows)
    refiled = await import_csv(client, officer, [agency_row(1, filed="2024-03-01")])
    assert refiled["created"] == 1 and await count_rows(app, Agency) == 2
    assert (await import_csv(client, officer, rows))["unchanged"] == 1
    moved = await import_csv(client, officer, [agency_row(1, filed="2024-03-02")], expect=422)
    assert moved["errors"][0]["loc"][-1] == "filed_on"


async def test_imported_events_carry_the_business_dates(app_client, officer):
    app, client = app_client
    await import_csv(client, officer, [agency_row(1, **HISTORY)])
    [last] = await outbox_envelopes(app, "zhichan.agencies.agency.deregistered.v1")
    history = [(s["status"], s["on"]) for s in last["data"]["status_history"]]
    assert history == [
        ("filed", "2021-03-01"),
        ("active", "2021-03-15"),
        ("suspended", "2022-04-01"),
        ("active", "2022-07-01"),
        ("deregistered", "2024-01-10"),
    ]


async def test_a_large_file_is_a_job(app_client, officer, monkeypatch):
    app, client = app_client
    app.state.settings.import_job_rows = 2
    monkeypatch.setattr(record_import, "ROWS_PER_CHUNK", 2)
    rows = [agency_row(n, **APPROVED) for n in range(1, 6)]
    resp = await client.post(
        "/agencies/import", content=csv_file(rows), headers={**officer, "Content-Type": "text/csv"}
    )
    assert resp.status_code == 202, resp.text
    location = resp.headers["location"]
    assert location == f"/agencies/import/jobs/{resp.json()['id']}"
    job = await finished_job(client, location, officer)
    assert job["status"] == "succeeded", job
    assert (job["rows"], job["phase"], job["done"], job["result"]["created"]) == (5, "checking", 5, 5)
    assert await count_rows(app, Agency) == 5
    someone_else = await client.get(location, headers=auth("officer", [QUANSHAN], sub="another-officer"))
    assert someone_else.status_code == 404


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
async def test_the_template_imports_as_it_is(app_client, fmt):
    app, client = app_client
    officer = auth("officer", [XUZHOU])
    resp = await client.get(f"/agencies/import/template?format={fmt}", headers=officer)
    assert resp.status_code == 200
    media = XLSX_TYPE if fmt == "xlsx" else "text/csv"
    answer = await client.post("/agencies/import", content=resp.content, headers={**officer, "Content-Type": media})
    assert answer.json()["created"] == 2, answer.text
    assert await count_rows(app, Agency) == 2


# ---------------------------------------------------------------- PUT /agencies/by-uscc


def record(n: int, **changes) -> dict:
    return {**agency_body(n), "service_types": ["patent_agency"], "filed_on": "2021-03-01", **changes}


async def test_put_by_uscc_creates_then_brings_the_agency_forward(client, officer):
    path = f"/agencies/by-uscc/{build_uscc(QUANSHAN, 1)}"
    created = await client.put(path, json=record(1), headers=officer)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/agencies/{created.json()['id']}"
    same = await client.put(path, json=record(1), headers=officer)
    assert (same.status_code, same.headers["etag"]) == (200, created.headers["etag"])
    approved = await client.put(path, json=record(1, approved_on="2021-03-15"), headers=officer)
    assert approved.status_code == 200 and approved.json()["status"] == "active"


async def test_put_by_uscc_honours_if_match_and_the_rules(client, officer):
    path = f"/agencies/by-uscc/{build_uscc(QUANSHAN, 1)}"
    created = await client.put(path, json=record(1), headers=officer)
    stale = created.headers["etag"]
    await client.put(path, json=record(1, address="徐州市云龙区"), headers={**officer, "If-Match": stale})
    refused = await client.put(path, json=record(1, approved_on="2021-03-15"), headers={**officer, "If-Match": stale})
    assert refused.status_code == 412
    other = f"/agencies/by-uscc/{build_uscc(QUANSHAN, 2)}"
    assert (await client.put(other, json=record(2), headers={**officer, "If-Match": stale})).status_code == 412
    suspended = await client.put(path, json=record(1, suspended_on="2022-01-01"), headers=officer)
    assert suspended.status_code == 409 and suspended.json()["current_status"] == "filed"
    mismatch = await client.put(path, json=record(2), headers=officer)
    assert mismatch.status_code == 422 and mismatch.json()["errors"][0]["loc"] == ["uscc"]
    elsewhere = await client.put(other, json=record(2), headers=auth("officer", ["420500"]))
    assert elsewhere.status_code == 403
