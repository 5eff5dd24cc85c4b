"""Plans through the API: import in every format, refusals, reading, export, lifecycle."""

import copy
import io
import json

import pytest
from openpyxl import load_workbook

from services.targets import plan_document, planfile
from services.targets.service import plans
from services.targets.tests.integration.conftest import (
    PLAN,
    YAML,
    as_yaml,
    event_types,
    import_plan,
    imported,
    outbox,
    row_counts,
)
from services.targets.tests.unit.test_plan_document import plan_file
from zhichan.regions import registry
from zhichan.testing import auth

NOTHING = {"plan": 0, "indicator": 0, "task": 0, "progress_report": 0, "custom_region": 0, "outbox": 0}


async def test_first_import_is_201_with_the_whole_plan_and_its_events(app_client, officer):
    app, client = app_client
    resp = await import_plan(client, officer)
    assert resp.status_code == 201, resp.text
    plan = resp.json()
    assert resp.headers["location"] == f"/plans/{PLAN}" and resp.headers["etag"] == f'"{PLAN}.1"'
    assert (plan["status"], plan["region"], plan["region_name"], plan["version"]) == (
        "draft",
        "321100-ETDZ",
        "镇江经济技术开发区",
        1,
    )
    patents, pledges = plan["indicators"]
    assert patents["milestones"] == {"2024": "750", "2025": "800", "2026": "850"} and patents["target"] == "850"
    assert pledges["source"] == {"metric": "financing.pledge_amount", "filters": {}} and not pledges["accepts_reports"]
    task = plan["tasks"][0]
    assert (task["key"], task["due"], task["indicators"], task["status"]) == (
        "matchmaking",
        "2026-12-31",
        ["pledges"],
        "planned",
    )
    region_event, plan_event = await outbox(app)
    assert region_event["type"] == "zhichan.targets.region.defined.v1"
    assert region_event["data"]["code"] == "321100-ETDZ" and "321100-ETDZ" in registry()
    assert plan_event["type"] == "zhichan.targets.plan.imported.v1"
    assert plan_event["subject"] == f"plan/{PLAN}" and plan_event["region"] == "321100-ETDZ"
    assert plan_event["aggregateversion"] == 1
    data = plan_event["data"]
    assert [i["key"] for i in data["indicators"]] == ["patents", "pledges"] and len(data["tasks"]) == 1
    assert data["indicators"][0]["milestones"] == patents["milestones"] and data["start"] == "2024-01-01"


async def test_the_same_file_again_is_200_and_changes_nothing(app_client, officer):
    app, client = app_client
    await imported(client, officer)
    again = await import_plan(client, officer)
    assert again.status_code == 200 and again.json()["version"] == 1
    assert len(await outbox(app)) == 2


async def test_a_changed_file_updates_the_plan_by_key(app_client, officer):
    app, client = app_client
    first = await imported(client, officer)
    document = plan_file()
    document["indicators"] = [
        {**document["indicators"][0], "target": 900, "milestones": {2024: 760, 2025: 820, 2026: 900}},
        {
            "key": "trained",
            "name": "培训人次",
            "category": "talent",
            "unit": "人次",
            "measure": "cumulative",
            "target": 1200,
        },
    ]
    document["tasks"] = [{"key": "training", "title": "年度培训计划"}]
    resp = await import_plan(client, officer, document)
    assert resp.status_code == 200
    plan = resp.json()
    assert plan["id"] == first["id"] and plan["version"] == 2 and resp.headers["etag"] == f'"{PLAN}.2"'
    assert [(i["key"], i["version"], i["target"]) for i in plan["indicators"]] == [
        ("patents", 2, "900"),
        ("trained", 1, "1200"),
    ]
    assert [t["key"] for t in plan["tasks"]] == ["training"]
    assert (await event_types(app))[-1] == "zhichan.targets.plan.updated.v1"
    assert (await row_counts(app))["indicator"] == 2


async def test_json_workbook_and_multipart_imports(client, officer):
    document = plan_file()
    as_json = await client.post(
        "/plans/import", content=json.dumps(document), headers={**officer, "Content-Type": "application/json"}
    )
    assert as_json.status_code == 201, as_json.text
    workbook = (await client.get(f"/plans/{PLAN}/export", params={"format": "xlsx"}, headers=officer)).content
    as_xlsx = await client.post(
        "/plans/import", content=workbook, headers={**officer, "Content-Type": planfile.XLSX_TYPE}
    )
    assert as_xlsx.status_code == 200 and as_xlsx.json()["version"] == 1
    upload = await client.post(
        "/plans/import",
        files={
            "file": ("plan.yaml", as_yaml(plan_file(plan={**document["plan"], "key": "zj-2"})), "application/x-yaml")
        },
        headers=officer,
    )
    assert upload.status_code == 201 and upload.json()["key"] == "zj-2"
    by_name = await client.post(
        "/plans/import",
        files={"file": ("plan.xlsx", workbook, "application/octet-stream")},
        headers=officer,
    )
    assert by_name.status_code == 200


async def test_a_bad_file_lists_every_problem_and_stores_nothing(app_client, officer):
    app, client = app_client
    document = copy.deepcopy(plan_file())
    document["indicators"][0]["milestones"] = {2024: 750, 2025: 700, 2027: 900}
    document["indicators"][1]["unit"] = "件"
    document["indicators"][1]["source"] = {"metric": "financing.pledge_amount", "filters": {"colour": "red"}}
    document["indicators"].append({**document["indicators"][0], "nickname": "x"})
    resp = await import_plan(client, officer, document)
    assert resp.status_code == 422 and resp.headers["content-type"] == "application/problem+json"
    problem = resp.json()
    assert {e["path"] for e in problem["errors"]} == {
        "indicators[0].milestones.2025",
        "indicators[0].milestones.2027",
        "indicators[1].source",
        "indicators[1].source.filters.colour",
        "indicators[2].nickname",
        "indicators[2].milestones.2025",
        "indicators[2].milestones.2027",
        "indicators[2].key",
    }
    assert ["indicators", 0, "milestones", "2027"] in [e["loc"] for e in problem["errors"]]
    assert problem["detail"].startswith("8 problem(s) in the plan file")
    assert await row_counts(app) == NOTHING and "321100-ETDZ" not in registry()


@pytest.mark.parametrize(
    "body, media, reason",
    [
        (b"format: [unclosed", "application/yaml", "not YAML"),
        (b"{not json", "application/json", "not JSON"),
        (b"- just\n- a list\n", "application/yaml", "expected a mapping"),
        (b"PK\x03\x04 broken", planfile.XLSX_TYPE, "not an Excel workbook"),
    ],
)
async def test_unreadable_files_are_422(app_client, officer, body, media, reason):
    app, client = app_client
    resp = await client.post("/plans/import", content=body, headers={**officer, "Content-Type": media})
    assert resp.status_code == 422 and reason in resp.json()["errors"][0]["msg"]
    assert await row_counts(app) == NOTHING


async def test_a_workbook_without_a_sheet_or_column_names_it(app_client, officer):
    app, client = app_client
    await imported(client, officer)
    raw = (await client.get(f"/plans/{PLAN}/export", params={"format": "xlsx"}, headers=officer)).content
    workbook = load_workbook(io.BytesIO(raw))
    workbook.remove(workbook["tasks"])
    workbook["indicators"].delete_cols(planfile.INDICATOR_COLUMNS.index("target") + 1)
    out = io.BytesIO()
    workbook.save(out)
    resp = await client.post(
        "/plans/import", content=out.getvalue(), headers={**officer, "Content-Type": planfile.XLSX_TYPE}
    )
    assert resp.status_code == 422
    assert {e["msg"] for e in resp.json()["errors"]} == {
        "the workbook has no sheet 'tasks'",
        "sheet 'indicators' has no column 'target'",
    }


async def test_uploads_over_5_mb_are_413(app_client, officer):
    app, client = app_client
    big = b"# " + b"x" * (5 * 1024 * 1024) + b"\n"
    raw = await client.post("/plans/import", content=big, headers={**officer, **YAML})
    assert raw.status_code == 413 and raw.headers["content-type"] == "application/problem+json"
    upload = await client.post("/plans/import", files={"file": ("plan.yaml", big, "application/yaml")}, headers=officer)
    assert upload.status_code == 413

    async def chunks():  # no Content-Length: the limit holds while reading
        for _ in range(6):
            yield b"#" * (1024 * 1024)

    streamed = await client.post("/plans/import", content=chunks(), headers={**officer, **YAML})
    assert streamed.status_code == 413
    assert await row_counts(app) == NOTHING


async def test_media_types_and_multipart_fields(client, officer):
    text = await client.post("/plans/import", content=b"x", headers={**officer, "Content-Type": "text/plain"})
    assert text.status_code == 415
    unknown = await client.post("/plans/import", files={"file": ("plan.txt", b"x", "text/plain")}, headers=officer)
    assert unknown.status_code == 415
    no_file = await client.post(
        "/plans/import", files={"other": ("plan.yaml", b"x", "application/yaml")}, headers=officer
    )
    assert no_file.status_code == 422 and no_file.json()["errors"][0]["loc"] == ["file"]


async def test_who_may_import(app_client):
    app, client = app_client
    assert (await import_plan(client, {})).status_code == 401
    assert (await import_plan(client, auth("auditor", ["321100"]))).status_code == 403
    assert (await import_plan(client, auth("department", ["321100"], department="经开区市场监管局"))).status_code == 403
    assert (await import_plan(client, auth("officer", ["420500"]))).status_code == 403
    assert await row_counts(app) == NOTHING
    assert (await import_plan(client, auth("officer", ["320000"]))).status_code == 201


async def test_a_plan_keeps_its_region(client, officer):
    await imported(client, officer)
    moved = plan_file(region={"code": "321102", "name": "京口区", "level": "district", "parent": "321100"})
    resp = await import_plan(client, officer, moved)
    assert resp.status_code == 409 and "321100-ETDZ" in resp.json()["detail"]


async def test_a_key_of_another_regions_draft_is_taken(client, officer):
    await imported(client, officer)
    yichang = plan_file(region={"code": "420500", "name": "宜昌市", "level": "city", "parent": "420000"})
    taken = await import_plan(client, auth("officer", ["420500"]), yichang)
    assert taken.status_code == 409 and taken.json()["detail"] == f"the key {PLAN} is already taken; choose another key"
    assert "321100" not in taken.text and "region" not in taken.json()["detail"]  # nothing of the draft it hit


async def test_lifecycle_activate_then_close(app_client, officer):
    app, client = app_client
    await imported(client, officer)
    activated = await client.post(f"/plans/{PLAN}/activate", headers=officer)
    assert activated.status_code == 200 and activated.json()["status"] == "active"
    assert [h["status"] for h in activated.json()["status_history"]] == ["draft", "active"]
    assert (await client.post(f"/plans/{PLAN}/activate", headers=officer)).status_code == 409
    closed = await client.post(f"/plans/{PLAN}/close", headers=officer)
    assert closed.status_code == 200 and closed.json()["version"] == 3
    again = await client.post(f"/plans/{PLAN}/close", headers=officer)
    assert again.status_code == 409 and again.json()["current_status"] == "closed"
    assert (await event_types(app))[-2:] == ["zhichan.targets.plan.activated.v1", "zhichan.targets.plan.closed.v1"]
    reimport = await import_plan(client, officer, plan_file(tasks=[]))
    assert reimport.status_code == 409 and "closed" in reimport.json()["detail"]


async def test_closing_a_draft_and_acting_elsewhere_are_refused(client, officer):
    await imported(client, officer)
    assert (await client.post(f"/plans/{PLAN}/close", headers=officer)).status_code == 409
    assert (await client.post(f"/plans/{PLAN}/activate", headers=auth("officer", ["420500"]))).status_code == 404
    assert (await client.post(f"/plans/{PLAN}/activate", headers=auth("auditor", ["321100"]))).status_code == 403
    assert (await client.post("/plans/nothing/activate", headers=officer)).status_code == 404


async def _three_plans(client):
    officer = auth("officer", ["321100", "420500"])
    await imported(client, officer)  # 321100-ETDZ, 2024..2026, draft
    yichang = plan_file(
        region={"code": "420500", "name": "宜昌市", "level": "city", "parent": "420000"},
        plan={"key": "yc-2021", "title": "宜昌规划", "start": "2021-01-01", "end": "2025-12-31"},
        indicators=[],
        tasks=[],
    )
    await imported(client, officer, yichang)
    await client.post("/plans/yc-2021/activate", headers=officer)
    mid_year = plan_file(
        region={"code": "420502", "name": "西陵区", "level": "district", "parent": "420500"},
        plan={"key": "xl-2023", "title": "西陵方案", "start": "2023-07-01", "end": "2025-06-30"},
        indicators=[],
        tasks=[],
    )
    await imported(client, officer, mid_year)
    return officer


async def test_list_filters(client):
    officer = await _three_plans(client)

    async def keys(**params):
        resp = await client.get("/plans", params=params, headers=officer)
        assert resp.status_code == 200, resp.text
        return [p["key"] for p in resp.json()["items"]]

    assert await keys() == ["xl-2023", "yc-2021", PLAN]
    assert await keys(region="420500") == ["xl-2023", "yc-2021"]
    assert await keys(region="320000") == [PLAN]
    assert await keys(status="active") == ["yc-2021"]
    assert await keys(period="2021") == ["yc-2021"]
    assert await keys(period="2025-08-01") == ["yc-2021", PLAN]
    assert await keys(period="2021..2023") == ["xl-2023", "yc-2021"]
    assert await keys(period="2026-2027") == [PLAN]
    assert (await client.get("/plans", params={"period": "soon"}, headers=officer)).status_code == 422
    assert (await client.get("/plans", params={"region": "999999"}, headers=officer)).status_code == 422
    summary = (await client.get("/plans", params={"region": "320000"}, headers=officer)).json()["items"][0]
    assert (summary["indicator_count"], summary["task_count"], summary["region_name"]) == (2, 1, "镇江经济技术开发区")


async def test_list_pages_with_a_cursor(client):
    officer = await _three_plans(client)
    first = (await client.get("/plans", params={"limit": 2}, headers=officer)).json()
    rest = (await client.get("/plans", params={"limit": 2, "cursor": first["next_cursor"]}, headers=officer)).json()
    assert [p["key"] for p in first["items"] + rest["items"]] == ["xl-2023", "yc-2021", PLAN]
    assert rest["next_cursor"] is None


async def test_drafts_are_seen_in_their_region_published_plans_by_everyone(client):
    await _three_plans(client)
    assert [p["key"] for p in (await client.get("/plans")).json()["items"]] == ["yc-2021"]
    xuzhou = auth("officer", ["320300"])
    assert [p["key"] for p in (await client.get("/plans", headers=xuzhou)).json()["items"]] == ["yc-2021"]
    assert (await client.get(f"/plans/{PLAN}", headers=xuzhou)).status_code == 404
    assert (await client.get(f"/plans/{PLAN}")).status_code == 404
    assert (await client.get("/plans/yc-2021")).status_code == 200
    assert (await client.get(f"/plans/{PLAN}/export", headers=xuzhou)).status_code == 404
    zhenjiang = auth("auditor", ["320000"])
    assert len((await client.get("/plans", headers=zhenjiang)).json()["items"]) == 2
    assert (await client.get("/plans", headers=auth("admin"))).json()["items"][0]["key"] == "xl-2023"


async def test_get_one_plan_with_its_etag(client, officer):
    await imported(client, officer)
    resp = await client.get(f"/plans/{PLAN}", headers=officer)
    assert resp.status_code == 200 and resp.headers["etag"] == f'"{PLAN}.1"'
    assert [i["key"] for i in resp.json()["indicators"]] == ["patents", "pledges"]
    assert (await client.get("/plans/unknown", headers=officer)).status_code == 404


@pytest.mark.parametrize(
    "fmt, media", [("yaml", "application/yaml"), ("json", "application/json"), ("xlsx", planfile.XLSX_TYPE)]
)
async def test_export_imports_as_the_same_plan(app_client, officer, fmt, media):
    app, client = app_client
    await imported(client, officer)
    exported = await client.get(f"/plans/{PLAN}/export", params={"format": fmt}, headers=officer)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith(media)
    assert exported.headers["content-disposition"] == f'attachment; filename="{PLAN}.{fmt}"'
    again = await client.post("/plans/import", content=exported.content, headers={**officer, "Content-Type": media})
    assert again.status_code == 200 and again.json()["version"] == 1
    assert len(await outbox(app)) == 2


async def test_export_round_trip_yaml_json_xlsx_yaml(client, officer):
    await imported(client, officer)
    first = (await client.get(f"/plans/{PLAN}/export", headers=officer)).content
    for fmt, media in (("json", "application/json"), ("xlsx", planfile.XLSX_TYPE), ("yaml", "application/yaml")):
        raw = (await client.get(f"/plans/{PLAN}/export", params={"format": fmt}, headers=officer)).content
        assert (
            await client.post("/plans/import", content=raw, headers={**officer, "Content-Type": media})
        ).status_code == 200
    assert (await client.get(f"/plans/{PLAN}/export", headers=officer)).content == first
    assert (await client.get(f"/plans/{PLAN}/export", params={"format": "pdf"}, headers=officer)).status_code == 422


async def test_idempotency_key_on_import(app_client, officer):
    app, client = app_client
    headers = {**officer, **YAML, "Idempotency-Key": "import-1"}
    first = await client.post("/plans/import", content=as_yaml(plan_file()), headers=headers)
    second = await client.post("/plans/import", content=as_yaml(plan_file()), headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers.get("idempotent-replayed") == "true"


async def test_no_new_plan_is_made_for_a_withdrawn_region_nor_a_new_region_placed_in_one(app_client):
    app, client = app_client
    officer = auth("officer", ["320600"])
    old = {"code": "320602", "name": "崇川区", "level": "district", "parent": "320600"}
    refused = await import_plan(client, officer, region=old)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["loc"] == ["region", "code"]
    assert "withdrawn in 2020; use 320613 崇川区" in refused.json()["errors"][0]["msg"]
    zone = {"code": "320602-HTZ", "name": "崇川高新区", "level": "zone", "parent": "320602"}
    refused = await import_plan(client, officer, region=zone)
    assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["region", "parent"]
    assert await row_counts(app) == NOTHING
    current = await import_plan(client, officer, region={**old, "code": "320613"})
    assert current.status_code == 201, current.text


def test_a_plan_made_while_its_region_was_in_use_is_still_imported_again():
    document = plan_file(region={"code": "320602", "name": "崇川区", "level": "district", "parent": "320600"})
    doc = plan_document.read_plan(document, registry())
    assert plans._withdrawn_problems(doc, new_plan=False) == []
    assert [p.path for p in plans._withdrawn_problems(doc, new_plan=True)] == [("region", "code")]


async def test_a_plan_file_cannot_bring_in_another_citys_zone(app_client):
    """The rule of POST /regions holds for the regions a plan file introduces."""
    app, client = app_client
    quanshan = auth("officer", ["320311"])
    foreign = {"code": "321100-ETDZ", "name": "镇江经济技术开发区", "level": "zone", "parent": "320311"}
    refused = await import_plan(client, quanshan, region=foreign)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["loc"] == ["region", "code"]
    under = {"code": "320311-ZZ", "name": "园中园", "level": "zone", "parent": "321100-ETDZ"}
    refused = await import_plan(client, quanshan, region=under, regions=[foreign])
    assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["regions", 0, "code"]
    district = auth("officer", ["321102"])  # inside 镇江市, but 321100's codes are the city's
    in_district = {**foreign, "parent": "321102"}
    assert (await import_plan(client, district, region=in_district)).status_code == 403
    county = {"code": "321199", "name": "新设县", "level": "county", "parent": "321100"}
    assert (await import_plan(client, auth("officer", ["321100"]), region=county)).status_code == 403
    assert await row_counts(app) == NOTHING and "321100-ETDZ" not in registry()
    assert (await import_plan(client, auth("officer", ["321100"]), region=in_district)).status_code == 201
