"""Pledges from another system: POST /pledges/import (xlsx, CSV, dry run, refusal, idempotence,
changes of status taken later, the job of a large file), its template, and PUT /pledges/by-number."""

import pytest

from services.financing.models import IpAsset, Pledge
from services.financing.service.pledge_import import COLUMNS
from services.financing.tests.integration.conftest import (
    QUANSHAN,
    XUZHOU,
    count_rows,
    events_match_their_contracts,
    import_csv,
    outbox_rows,
    pledge_body,
)
from zhichan import record_import
from zhichan.tabular import XLSX_TYPE
from zhichan.testing import auth, csv_file, finished_job, xlsx_file
from zhichan.uscc import build_uscc

HEADER = {c.code: c.header for c in COLUMNS}


def pledge_row(n: int, registered: str = "2023-04-12", **later: str) -> dict[str, str]:
    return {
        "region": QUANSHAN,
        "registration_number": f"Y2023320000{n:03d}",
        "pledgor_name": f"徐州某某新材料有限公司{n}",
        "pledgor_uscc": build_uscc(QUANSHAN, n),
        "pledgee": "中国银行徐州分行",
        "asset_types": "专利",
        "asset_numbers": f"ZL2021100{n:05d}.1；ZL2021200{n:05d}.2",
        "asset_titles": "一种锂电池隔膜；一种隔膜涂布装置",
        "loan_amount": "5000000",
        "registered_on": registered,
        "loan_term_start": registered,
        "loan_term_end": "2024-04-11",
        "guarantee_mode": "直接质押",
        **later,
    }


RELEASED = {"released_on": "2024-04-08"}
DEFAULTED = {"defaulted_on": "2024-05-01", "outstanding_at_default": "1800000.00"}
DISPOSED = {**DEFAULTED, "disposed_on": "2024-09-20", "disposal_proceeds": "1250000.00"}


async def import_pledges(client, headers, rows, expect=200, query=""):
    return await import_csv(client, headers, "pledges", rows, expect, query)


async def pledge_of(client, headers, n: int) -> dict:
    found = await client.get("/pledges", params={"region": QUANSHAN, "limit": 100}, headers=headers)
    return next(p for p in found.json()["items"] if p["registration_number"] == f"Y2023320000{n:03d}")


def comparable(pledge: dict) -> dict:
    """A pledge's state without what differs between two records of the same history."""
    skip = {"id", "registration_number", "created_at", "updated_at"}
    history = [{k: v for k, v in s.items() if k not in ("at", "actor")} for s in pledge["status_history"]]
    return {**{k: v for k, v in pledge.items() if k not in skip}, "status_history": history}


async def test_an_imported_pledge_is_the_pledge_the_routes_would_have_made(app_client, officer):
    app, client = app_client
    answer = await import_pledges(client, officer, [pledge_row(1, **DISPOSED)])
    assert answer == {"created": 1, "updated": 0, "unchanged": 0, "refused": 0, "rows": 1, "dry_run": False}
    imported = await pledge_of(client, officer, 1)

    row = pledge_row(1)
    body = pledge_body(
        region=QUANSHAN,
        registration_number="Y2023320000099",
        **{k: row[k] for k in ("pledgor_name", "pledgor_uscc", "pledgee")},
        assets=[
            {"type": "patent", "number": "ZL202110000001.1", "title": "一种锂电池隔膜"},
            {"type": "patent", "number": "ZL202120000001.2", "title": "一种隔膜涂布装置"},
        ],
        loan_amount="5000000.00",
        registered_on="2023-04-12",
        loan_term_start="2023-04-12",
        loan_term_end="2024-04-11",
        valuation=None,
        appraisal_agency_uscc=None,
    )
    walked = (await client.post("/pledges", json=body, headers=officer)).json()
    await client.post(f"/pledges/{walked['id']}/default", json={"date": "2024-05-01", "outstanding": "1800000.00"},
                      headers=officer)  # fmt: skip
    walked = await client.post(
        f"/pledges/{walked['id']}/dispose", json={"date": "2024-09-20", "proceeds": "1250000.00"}, headers=officer
    )
    assert comparable(imported) == comparable(walked.json())
    assert imported["version"] == 3 and imported["status"] == "disposed" and imported["kind"] == "portfolio"
    envelopes = await events_match_their_contracts(app)
    assert [e["type"].split(".")[3] for e in envelopes] == ["registered", "defaulted", "disposed"] * 2
    history = [(s["status"], s["on"]) for s in envelopes[2]["data"]["status_history"]]
    assert history == [("registered", "2023-04-12"), ("defaulted", "2024-05-01"), ("disposed", "2024-09-20")]


async def test_an_xlsx_upload_with_chinese_headers(app_client, officer):
    app, client = app_client
    raw = xlsx_file([pledge_row(1, **RELEASED), pledge_row(2)], HEADER)
    resp = await client.post("/pledges/import", files={"file": ("质押.xlsx", raw, XLSX_TYPE)}, headers=officer)
    assert resp.status_code == 200, resp.text
    assert resp.json()["created"] == 2
    released = await pledge_of(client, officer, 1)
    assert (released["status"], released["released_on"], released["outstanding_balance"]) == (
        "released",
        "2024-04-08",
        "0.00",
    )
    assert (await pledge_of(client, officer, 2))["outstanding_balance"] == "5000000.00"
    assert await count_rows(app, IpAsset) == 4


async def test_a_dry_run_counts_and_stores_nothing(app_client, officer):
    app, client = app_client
    answer = await import_pledges(client, officer, [pledge_row(1, **DISPOSED), pledge_row(2)], query="?dry_run=true")
    assert (answer["created"], answer["dry_run"]) == (2, True)
    assert await count_rows(app, Pledge) == 0 and await outbox_rows(app) == []


async def test_a_file_with_problems_is_refused_whole(app_client, officer):
    app, client = app_client
    rows = [
        pledge_row(1, **RELEASED),
        {**pledge_row(2), "registered_on": "2023-02-30"},
        pledge_row(3, **RELEASED, **DEFAULTED),  # a released pledge does not default: the state machine refuses
        {**pledge_row(4), "asset_titles": "一种锂电池隔膜"},  # two numbers, one title
        pledge_row(5, defaulted_on="2024-05-01"),  # a default without the principal outstanding
        pledge_row(1),  # the same pledge again
    ]
    problem = await import_pledges(client, officer, rows, expect=422)
    assert [(e["row"], e["loc"][-1]) for e in problem["errors"]] == [
        (3, "registered_on"),
        (4, "defaulted_on"),
        (5, "asset_titles"),
        (6, "outstanding_at_default"),
        (7, "registration_number"),
    ]
    assert problem["errors"][0]["column"] == "登记日期"
    assert "cannot default a pledge that is released" in problem["errors"][1]["msg"]
    assert (problem["created"], problem["refused"]) == (1, 5)
    assert await count_rows(app, Pledge) == 0 and await outbox_rows(app) == []


async def test_importing_the_same_file_twice_changes_nothing(app_client, officer):
    app, client = app_client
    rows = [pledge_row(1, **DISPOSED), pledge_row(2, **RELEASED), pledge_row(3)]
    await import_pledges(client, officer, rows)
    events = len(await outbox_rows(app))
    again = await import_pledges(client, officer, rows)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert len(await outbox_rows(app)) == events


async def test_a_change_of_status_later_is_taken_on_its_date(app_client, officer):
    app, client = app_client
    await import_pledges(client, officer, [pledge_row(1), pledge_row(2, **DEFAULTED)])
    answer = await import_pledges(client, officer, [pledge_row(1, **RELEASED), pledge_row(2, **DISPOSED)])
    assert (answer["updated"], answer["unchanged"]) == (2, 0)
    released, disposed = await pledge_of(client, officer, 1), await pledge_of(client, officer, 2)
    assert (released["status"], released["released_on"], released["version"]) == ("released", "2024-04-08", 2)
    assert (disposed["status"], disposed["disposal_proceeds"]) == ("disposed", "1250000.00")
    types = [e["type"].split(".")[3] for e in await events_match_their_contracts(app)]
    assert types == ["registered", "registered", "defaulted", "released", "disposed"]


async def test_what_the_rules_refuse_of_a_pledge_here_is_a_row_error(app_client, officer):
    app, client = app_client
    await import_pledges(client, officer, [pledge_row(1, **RELEASED)])
    await import_pledges(client, officer, [pledge_row(2, **DEFAULTED)])
    events = len(await outbox_rows(app))
    moved = await import_pledges(client, officer, [pledge_row(1, released_on="2024-04-09")], expect=422)
    assert moved["errors"][0]["loc"][-1] == "released_on"
    assert "became released on 2024-04-08" in moved["errors"][0]["msg"]
    other_figure = {**DEFAULTED, "outstanding_at_default": "1700000"}
    refigured = await import_pledges(client, officer, [pledge_row(2, **other_figure)], expect=422)
    assert refigured["errors"][0]["loc"][-1] == "outstanding_at_default"
    assert "with outstanding_at_default 1800000.00" in refigured["errors"][0]["msg"]
    bigger = await import_pledges(
        client, officer, [{**pledge_row(1, **RELEASED), "loan_amount": "6000000"}], expect=422
    )
    assert bigger["errors"][0]["loc"][-1] == "loan_amount"
    other_rights = await import_pledges(
        client, officer, [{**pledge_row(1, **RELEASED), "asset_titles": "甲；乙"}], expect=422
    )
    assert other_rights["errors"][0]["loc"][-1] == "asset_numbers"
    elsewhere = await import_pledges(client, auth("officer", ["420500"]), [{**pledge_row(1), "region": "420502"}], 422)
    assert elsewhere["errors"][0]["loc"][-1] == "registration_number"
    assert "already recorded" in elsewhere["errors"][0]["msg"] and QUANSHAN not in elsewhere["errors"][0]["msg"]
    assert len(await outbox_rows(app)) == events


async def test_a_large_file_is_a_job(app_client, officer, monkeypatch):
    app, client = app_client
    app.state.settings.import_job_rows = 2
    monkeypatch.setattr(record_import, "ROWS_PER_CHUNK", 2)
    rows = [pledge_row(n, **RELEASED) for n in range(1, 6)]
    resp = await client.post("/pledges/import", content=csv_file(rows), headers={**officer, "Content-Type": "text/csv"})
    assert resp.status_code == 202, resp.text
    location = resp.headers["location"]
    assert location == f"/pledges/import/jobs/{resp.json()['id']}"
    job = await finished_job(client, location, officer)
    assert job["status"] == "succeeded", job
    assert (job["rows"], job["phase"], job["done"], job["result"]["created"]) == (5, "checking", 5, 5)
    assert await count_rows(app, Pledge) == 5 and len(await outbox_rows(app)) == 10


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
async def test_the_template_imports_as_it_is(app_client, fmt):
    app, client = app_client
    officer = auth("officer", ["420500", "321100"])
    resp = await client.get(f"/pledges/import/template?format={fmt}", headers=officer)
    assert resp.status_code == 200
    media = XLSX_TYPE if fmt == "xlsx" else "text/csv"
    answer = await client.post("/pledges/import", content=resp.content, headers={**officer, "Content-Type": media})
    assert answer.json()["created"] == 2, answer.text
    assert await count_rows(app, Pledge) == 2


# ---------------------------------------------------------------- PUT /pledges/by-number


def record(n: int, **changes) -> dict:
    body = pledge_body(n, registration_number=f"Y2023320000{n:03d}", registered_on="2023-04-12",
                       loan_term_start="2023-04-12", loan_term_end="2024-04-11")  # fmt: skip
    return {**body, **changes}


async def test_put_by_number_registers_then_brings_the_pledge_forward(app_client, officer):
    app, client = app_client
    path = "/pledges/by-number/Y2023320000001"
    created = await client.put(path, json=record(1), headers=officer)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/pledges/{created.json()['id']}"
    same = await client.put(path, json=record(1), headers=officer)
    assert (same.status_code, same.headers["etag"]) == (200, created.headers["etag"])
    released = await client.put(path, json=record(1, released_on="2024-04-08"), headers=officer)
    assert released.status_code == 200 and released.json()["status"] == "released"
    types = [e["type"].split(".")[3] for e in await events_match_their_contracts(app)]
    assert types == ["registered", "released"]


async def test_put_by_number_honours_if_match_and_the_rules(client, officer):
    path = "/pledges/by-number/Y2023320000001"
    created = await client.put(path, json=record(1), headers=officer)
    stale = created.headers["etag"]
    defaulted = record(1, defaulted_on="2024-05-01", outstanding_at_default="1800000.00")
    moved = await client.put(path, json=defaulted, headers={**officer, "If-Match": stale})
    assert moved.status_code == 200
    refused = await client.put(path, json=record(1, **DISPOSED), headers={**officer, "If-Match": stale})
    assert refused.status_code == 412
    other = "/pledges/by-number/Y2023320000002"
    assert (await client.put(other, json=record(2), headers={**officer, "If-Match": stale})).status_code == 412
    released = await client.put(path, json={**defaulted, "released_on": "2024-06-01"}, headers=officer)
    assert released.status_code == 409 and released.json()["current_status"] == "defaulted"
    mismatch = await client.put(path, json=record(2), headers=officer)
    assert mismatch.status_code == 422 and mismatch.json()["errors"][0]["loc"] == ["registration_number"]
    elsewhere = await client.put(other, json=record(2), headers=auth("officer", ["420500"]))
    assert elsewhere.status_code == 403
    assert (await client.get("/pledges", headers=auth("officer", [XUZHOU]))).json()["items"][0]["status"] == "defaulted"
