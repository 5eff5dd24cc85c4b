"""Campaigns from another system: POST /campaigns/import (CSV, xlsx, dry run, refusal,
idempotence, a row that would change a campaign, the job of a large file), its template, and the
cases that then name an imported campaign."""

import asyncio
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from services.enforcement.models import Campaign
from services.enforcement.tests.integration.conftest import events_match_their_contracts, outbox
from zhichan.tabular import XLSX_TYPE, records_csv
from zhichan.testing import auth

YICHANG, XILING = "420500", "420502"
CREATED = "zhichan.enforcement.campaign.created.v1"
HEADERS = {"region": "行政区划代码", "name": "行动名称", "start": "开始日期", "end": "结束日期", "focus": "重点领域"}


@pytest.fixture
def officer():
    return auth("officer", [YICHANG])


def campaign_row(name: str = "2024年知识产权执法“铁拳”行动", region: str = YICHANG, **changes: str) -> dict[str, str]:
    return {
        "region": region,
        "name": name,
        "start": "2024-03-01",
        "end": "2024-11-30",
        "focus": "商标侵权、假冒专利",
    } | changes


def as_csv(rows: list[dict]) -> bytes:
    return records_csv(rows)


async def import_csv(client, headers, rows, expect=200, query=""):
    resp = await client.post(
        f"/campaigns/import{query}", content=as_csv(rows), headers={**headers, "Content-Type": "text/csv"}
    )
    assert resp.status_code == expect, resp.text
    if expect == 422:
        assert resp.headers["content-type"] == "application/problem+json"
    return resp.json()


async def count_campaigns(app) -> int:
    async with app.state.session_factory() as session:
        return (await session.execute(select(func.count()).select_from(Campaign))).scalar_one()


async def campaigns_of(client, headers) -> dict[str, dict]:
    found = await client.get("/campaigns", params={"limit": 100}, headers=headers)
    return {c["name"]: c for c in found.json()["items"]}


async def test_an_imported_campaign_is_the_campaign_the_route_would_have_made(app, client, officer):
    answer = await import_csv(client, officer, [campaign_row(description="市局统一部署")])
    assert answer == {"created": 1, "updated": 0, "unchanged": 0, "refused": 0, "rows": 1, "dry_run": False}
    body = {**campaign_row("2024年“蓝天”专项行动"), "description": "市局统一部署"}
    posted = await client.post("/campaigns", json=body, headers=officer)
    assert posted.status_code == 201, posted.text
    found = await campaigns_of(client, officer)
    imported, created = found["2024年知识产权执法“铁拳”行动"], found["2024年“蓝天”专项行动"]
    skip = {"id", "name", "created_at", "updated_at"}
    assert {k: v for k, v in imported.items() if k not in skip} == {k: v for k, v in created.items() if k not in skip}
    assert (imported["start"], imported["version"], imported["created_by"]) == ("2024-03-01", 1, "test-officer")
    assert await events_match_their_contracts(app) == [CREATED, CREATED]
    events = await outbox(app)
    assert {k: v for k, v in events[0]["data"].items() if k not in skip} == {
        k: v for k, v in events[1]["data"].items() if k not in skip
    }


async def test_an_xlsx_upload_with_chinese_headers(client, officer):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(HEADERS.values()))
    sheet.append([YICHANG, "2024年知识产权执法“铁拳”行动", "2024/3/1", "2024年11月30日", "商标侵权"])
    out = io.BytesIO()
    workbook.save(out)
    resp = await client.post(
        "/campaigns/import", files={"file": ("专项行动.xlsx", out.getvalue(), XLSX_TYPE)}, headers=officer
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["created"] == 1
    assert (await campaigns_of(client, officer))["2024年知识产权执法“铁拳”行动"]["end"] == "2024-11-30"


async def test_a_dry_run_counts_and_stores_nothing(app, client, officer):
    answer = await import_csv(client, officer, [campaign_row(), campaign_row(region=XILING)], query="?dry_run=true")
    assert (answer["created"], answer["dry_run"]) == (2, True)
    assert await count_campaigns(app) == 0 and await outbox(app) == []


async def test_a_file_with_problems_is_refused_whole(app, client, officer):
    rows = [
        campaign_row(),
        campaign_row("蓝天行动", start="2024-02-30"),
        campaign_row("剑网行动", end="2024-02-01"),  # ends before it starts
        campaign_row(" 2024年知识产权执法“铁拳”行动"),  # the same campaign again (the name is stripped)
        campaign_row("龙腾行动", region="320311"),  # not the officer's region
        campaign_row("双打行动", region=XILING),
    ]
    problem = await import_csv(client, officer, rows, expect=422)
    assert [(e["row"], e["loc"][-1], e["column"]) for e in problem["errors"]] == [
        (3, "start", "开始日期"),
        (4, "end", "结束日期"),
        (5, "name", "行动名称"),
        (6, "region", "行政区划代码"),
    ]
    assert "outside your regions" in problem["errors"][3]["msg"]
    assert (problem["created"], problem["refused"]) == (2, 4)
    assert await count_campaigns(app) == 0 and await outbox(app) == []


async def test_importing_the_same_file_twice_changes_nothing(app, client, officer):
    rows = [campaign_row(description="市局统一部署"), campaign_row(region=XILING)]
    await import_csv(client, officer, rows)
    events = len(await outbox(app))
    again = await import_csv(client, officer, rows)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert len(await outbox(app)) == events == 2


async def test_a_campaign_created_by_the_route_is_found_by_its_region_and_name(app, client, officer):
    posted = await client.post("/campaigns", json=campaign_row(), headers=officer)
    assert posted.status_code == 201
    answer = await import_csv(client, officer, [campaign_row(), campaign_row("2024年“蓝天”专项行动")])
    assert (answer["created"], answer["unchanged"]) == (1, 1)
    assert await count_campaigns(app) == 2


async def test_a_row_that_would_change_a_campaign_is_refused_naming_the_column(app, client, officer):
    await import_csv(client, officer, [campaign_row()])
    events = len(await outbox(app))
    for change in ({"end": "2024-12-31"}, {"focus": "专利侵权"}, {"description": "补充说明"}):
        column = next(iter(change))
        refused = await import_csv(client, officer, [campaign_row(**change)], expect=422)
        assert [(e["row"], e["loc"][-1]) for e in refused["errors"]] == [(2, column)], refused
        assert "does not change once created" in refused["errors"][0]["msg"]
        assert (refused["updated"], refused["refused"]) == (0, 1)
    assert len(await outbox(app)) == events


async def test_a_large_file_is_a_job(app, client, officer):
    app.state.settings.import_job_rows = 2
    rows = [campaign_row(f"2024年第{n}批专项行动") for n in range(1, 6)]
    resp = await client.post("/campaigns/import", content=as_csv(rows), headers={**officer, "Content-Type": "text/csv"})
    assert resp.status_code == 202, resp.text
    location = resp.headers["location"]
    assert location == f"/campaigns/import/jobs/{resp.json()['id']}"
    for _ in range(200):
        job = (await client.get(location, headers=officer)).json()
        if job["status"] in ("succeeded", "failed"):
            break
        await asyncio.sleep(0.02)
    assert job["status"] == "succeeded", job
    assert job["result"]["created"] == 5 and await count_campaigns(app) == 5


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
async def test_the_template_imports_as_it_is(app, client, officer, fmt):
    resp = await client.get(f"/campaigns/import/template?format={fmt}", headers=officer)
    assert resp.status_code == 200
    media = XLSX_TYPE if fmt == "xlsx" else "text/csv"
    answer = await client.post("/campaigns/import", content=resp.content, headers={**officer, "Content-Type": media})
    assert answer.json()["created"] == 2, answer.text
    assert await count_campaigns(app) == 2
    again = await client.post("/campaigns/import", content=resp.content, headers={**officer, "Content-Type": media})
    assert again.json()["unchanged"] == 2


async def test_imported_cases_name_an_imported_campaign(client, officer):
    await import_csv(client, officer, [campaign_row()])
    campaign = (await campaigns_of(client, officer))["2024年知识产权执法“铁拳”行动"]
    case = {
        "region": XILING,
        "case_number": "宜西市监知立〔2024〕15号",
        "type": "商标侵权",
        "procedure": "行政处罚",
        "origin": "专项行动",
        "respondent_name": "宜昌市某某商贸有限公司",
        "respondent_uscc": "91420502000000001G",
        "handling_unit": "西陵区市场监管局",
        "campaign_id": campaign["id"],
        "filed_date": "2024-04-08",
    }
    resp = await client.post("/cases/import", content=as_csv([case]), headers={**officer, "Content-Type": "text/csv"})
    assert resp.status_code == 200 and resp.json()["created"] == 1, resp.text
    counted = (await client.get(f"/campaigns/{campaign['id']}", headers=officer)).json()
    assert counted["case_counts"]["total"] == 1
