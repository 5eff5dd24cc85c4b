"""Official statistics through the API: the catalogue, releases imported from CSV and Excel (all
or none, idempotent, revised by later releases), listed as known on a day, and the template."""

import io

import pytest
from openpyxl import Workbook, load_workbook

from services.targets.service.statistics import statistic_catalogue
from services.targets.tests.integration.conftest import event_types, outbox
from zhichan.testing import auth

CSV = {"Content-Type": "text/csv"}
XLSX = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
HEADER = "地区代码,地区名称,统计指标,期间,数值,单位,来源,发布日期,备注"
OCTOBER = "420500,宜昌市,invention_grants,2025-10,1234,件,国家知识产权局统计月报 2025-10,2025-11-20,"
OCTOBER_REVISED = "420500,宜昌市,invention_grants,2025-10,1240,件,国家知识产权局统计月报 2025-11,2025-12-18,修订"
XILING = "420502,西陵区,invention_grants,2025-10,300,件,国家知识产权局统计月报 2025-10,2025-11-20,"
POPULATION = "420500,宜昌市,常住人口,2024,3914000,人,宜昌市统计公报,2025-03-20,年末"
TECH = {"name": "技术合同成交额", "unit": "亿元", "kind": "flow", "additive": True, "description": "科技局"}


def csv_file(*lines: str) -> bytes:
    return "\r\n".join([HEADER, *lines]).encode("utf-8-sig")


@pytest.fixture
def yichang():
    """An officer of 宜昌市 (420500), whose districts (西陵区 420502) lie in it."""
    return auth("officer", ["420500"])


@pytest.fixture
def admin():
    return auth("admin", [])


async def import_csv(client, headers, *lines: str, dry_run: bool = False):
    params = {"dry_run": "true"} if dry_run else {}
    return await client.post("/statistics/import", content=csv_file(*lines), headers={**headers, **CSV}, params=params)


async def imported(client, headers, *lines: str) -> dict:
    resp = await import_csv(client, headers, *lines)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def releases(client, headers, **query) -> list[dict]:
    resp = await client.get("/statistics", params=query, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()["items"]


# --- import --------------------------------------------------------------------------------------


async def test_a_csv_file_s_rows_become_releases_with_their_events(app_client, yichang):
    app, client = app_client
    counts = await imported(client, yichang, OCTOBER, POPULATION)
    assert counts == {"created": 2, "revised": 0, "unchanged": 0, "dry_run": False}
    population, grants = sorted(await releases(client, yichang), key=lambda r: r["statistic"] != "resident_population")
    assert (grants["period"], grants["period_kind"], grants["period_start"], grants["period_end"]) == (
        "2025-10",
        "month",
        "2025-10-01",
        "2025-10-31",
    )
    assert (grants["value"], grants["unit"], grants["revises"], grants["revised_by"]) == ("1234", "件", None, None)
    assert (population["value"], population["unit"], population["note"]) == ("391.4", "万人", "年末")
    assert population["reporter"] == "test-officer"
    events = await outbox(app)
    assert [e["type"] for e in events] == ["zhichan.targets.statistic_release.published.v1"] * 2
    assert {e["subject"] for e in events} == {f"statistic_release/{r['id']}" for r in (grants, population)}
    assert {e["data"]["value"] for e in events} == {"1234", "391.4"} and events[0]["region"] == "420500"


async def test_a_workbook_uploaded_as_a_multipart_file_imports_alike(app_client, yichang):
    _app, client = app_client
    book = Workbook()
    book.active.append(["region", "statistic", "period", "value", "unit", "source", "published_on"])
    book.active.append([420500, "发明专利授权量", "2025Q3", 3456, "件", "国家知识产权局统计月报", "2025-10-20"])
    out = io.BytesIO()
    book.save(out)
    resp = await client.post("/statistics/import", files={"file": ("releases.xlsx", out.getvalue())}, headers=yichang)
    assert resp.status_code == 200, resp.text
    assert resp.json()["created"] == 1
    (release,) = await releases(client, yichang)
    assert (release["statistic"], release["period"], release["value"]) == ("invention_grants", "2025Q3", "3456")


async def test_the_same_file_again_changes_nothing(app_client, yichang):
    app, client = app_client
    await imported(client, yichang, OCTOBER, POPULATION)
    again = await imported(client, yichang, OCTOBER, POPULATION)
    assert again == {"created": 0, "revised": 0, "unchanged": 2, "dry_run": False}
    assert len(await releases(client, yichang)) == 2 and len(await outbox(app)) == 2


async def test_a_dry_run_counts_and_stores_nothing(app_client, yichang):
    app, client = app_client
    await imported(client, yichang, OCTOBER)
    resp = await import_csv(client, yichang, OCTOBER, OCTOBER_REVISED, POPULATION, dry_run=True)
    assert resp.json() == {"created": 1, "revised": 1, "unchanged": 1, "dry_run": True}
    assert len(await releases(client, yichang)) == 1 and len(await outbox(app)) == 1


async def test_a_later_figure_revises_the_cell_s_latest_release_and_both_are_kept(app_client, yichang):
    _app, client = app_client
    await imported(client, yichang, OCTOBER)
    assert (await imported(client, yichang, OCTOBER_REVISED))["revised"] == 1
    # a file holding both, imported again, is recorded already
    assert (await imported(client, yichang, OCTOBER_REVISED, OCTOBER))["unchanged"] == 2
    first, revision = sorted(await releases(client, yichang), key=lambda r: r["published_on"])
    assert (revision["revises"], first["revised_by"], revision["revised_by"]) == (first["id"], revision["id"], None)
    assert (revision["value"], revision["note"]) == ("1240", "修订")


async def test_a_file_with_a_revision_and_what_it_revises_applies_them_in_publication_order(app_client, yichang):
    _app, client = app_client
    assert await imported(client, yichang, OCTOBER_REVISED, OCTOBER) == {
        "created": 1,
        "revised": 1,
        "unchanged": 0,
        "dry_run": False,
    }


async def test_a_refused_file_lists_every_problem_by_row_and_column_and_stores_nothing(app_client, yichang):
    app, client = app_client
    await imported(client, yichang, OCTOBER)
    resp = await import_csv(
        client,
        yichang,
        POPULATION,
        "420500,宜昌市,invention_grants,2025-10,1235,件,国家知识产权局统计月报 2025-10,2025-11-20,",  # same day
        "420500,宜昌市,invention_grants,2025-10,1230,件,快报,2025-11-01,",  # before the latest
        "320100,南京市,gdp,2025,1,亿元,统计公报,2025-03-01,",  # outside 宜昌市
        "420500,宜昌市,gdp,2025,1,件,统计公报,2025-13-01,",
    )
    assert resp.status_code == 422 and resp.headers["content-type"].startswith("application/problem+json")
    problem = resp.json()
    assert [e["loc"] for e in problem["errors"]] == [
        [3, "发布日期"],
        [4, "发布日期"],
        [5, "地区代码"],
        [6, "单位"],
        [6, "发布日期"],
    ]
    assert "recorded already, as 1234" in problem["errors"][0]["msg"]
    assert problem["detail"].startswith("5 problem(s) in the file, nothing stored: row 3, 发布日期:")
    assert len(await releases(client, yichang)) == 1 and len(await outbox(app)) == 1


async def test_a_file_that_is_not_one_is_refused_whole(app_client, yichang):
    _app, client = app_client
    resp = await client.post("/statistics/import", content=b"a,b\r\n1,2", headers={**yichang, **CSV})
    assert resp.status_code == 422
    assert [e["loc"] for e in resp.json()["errors"]][:2] == [[1, "a"], [1, "b"]]
    wrong_type = await client.post(
        "/statistics/import", content=b"{}", headers={**yichang, "Content-Type": "application/json"}
    )
    assert wrong_type.status_code == 415


async def test_only_officers_and_admins_import(app_client):
    _app, client = app_client
    for headers in (auth("auditor", ["420500"]), auth("department", ["420500"], department="统计局")):
        assert (await import_csv(client, headers, OCTOBER)).status_code == 403
    assert (await import_csv(client, auth("admin", []), OCTOBER)).status_code == 200


# --- list ----------------------------------------------------------------------------------------


async def test_the_list_filters_by_statistic_region_descendants_and_period(app_client, yichang):
    _app, client = app_client
    await imported(client, yichang, OCTOBER, XILING, POPULATION)
    grants = await releases(client, yichang, statistic="invention_grants")
    assert {r["region"] for r in grants} == {"420500", "420502"}
    assert {r["region"] for r in await releases(client, yichang, region="420500")} == {"420500"}
    assert len(await releases(client, yichang, region="420500", descendants="true", statistic="invention_grants")) == 2
    assert [r["region"] for r in await releases(client, yichang, region="420502")] == ["420502"]
    in_2024 = await releases(client, yichang, **{"from": "2024-06-01", "to": "2024-12-31"})
    assert [(r["statistic"], r["statistic_name"]) for r in in_2024] == [("resident_population", "常住人口")]
    assert len(await releases(client, yichang, **{"from": "2025-10-31"})) == 2
    assert await releases(client, auth("officer", ["320100"])) == []
    unknown = await client.get("/statistics", params={"statistic": "no_such_thing"}, headers=yichang)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["loc"] == ["statistic"]


async def test_published_by_shows_the_figures_as_known_on_that_day(app_client, yichang):
    _app, client = app_client
    await imported(client, yichang, OCTOBER, OCTOBER_REVISED)
    query = {"statistic": "invention_grants", "region": "420500", "descendants": "true"}
    before = await releases(client, yichang, **query, published_by="2025-12-01")
    assert [(r["value"], r["revised_by"]) for r in before] == [("1234", None)]
    assert await releases(client, yichang, **query, published_by="2025-11-19") == []
    after = await releases(client, yichang, **query, published_by="2025-12-31")
    assert sorted((r["value"], r["revised_by"] is not None) for r in after) == [("1234", True), ("1240", False)]
    current = await releases(client, yichang, **query, current="true")
    assert [r["value"] for r in current] == ["1240"]
    then = await releases(client, yichang, **query, current="true", published_by="2025-12-01")
    assert [r["value"] for r in then] == ["1234"]


async def test_the_list_pages_by_cursor(app_client, yichang):
    _app, client = app_client
    await imported(client, yichang, OCTOBER, XILING, POPULATION)
    first = await client.get("/statistics", params={"limit": 2}, headers=yichang)
    page = first.json()
    second = await client.get("/statistics", params={"limit": 2, "cursor": page["next_cursor"]}, headers=yichang)
    ids = [r["id"] for r in page["items"]] + [r["id"] for r in second.json()["items"]]
    assert len(set(ids)) == 3 and second.json()["next_cursor"] is None
    assert [r["period"] for r in page["items"]][0] == "2025-10"  # latest periods first


# --- the catalogue -------------------------------------------------------------------------------


async def test_the_catalogue_lists_the_built_in_statistics_to_anyone_signed_in(app_client):
    _app, client = app_client
    resp = await client.get("/statistics/catalogue", headers=auth("department", ["420500"], department="统计局"))
    assert resp.status_code == 200
    gdp = next(s for s in resp.json()["items"] if s["code"] == "gdp")
    assert (gdp["name"], gdp["unit"], gdp["kind"], gdp["additive"], gdp["built_in"]) == (
        "地区生产总值",
        "亿元",
        "flow",
        True,
        True,
    )
    assert (await client.get("/statistics/catalogue")).status_code == 401


async def test_an_admin_adds_a_statistic_that_releases_and_plans_then_name(app_client, admin, yichang):
    app, client = app_client
    resp = await client.put("/statistics/catalogue/tech_contracts", json=TECH, headers=admin)
    assert resp.status_code == 201, resp.text
    assert resp.headers["location"] == "/statistics/catalogue/tech_contracts"
    assert resp.headers["etag"] == '"tech_contracts.1"'
    assert (resp.json()["built_in"], resp.json()["version"]) == (False, 1)
    assert await event_types(app) == ["zhichan.targets.statistic.defined.v1"]
    same = await client.put("/statistics/catalogue/tech_contracts", json=TECH, headers=admin)
    assert (same.status_code, same.json()["version"]) == (200, 1) and len(await outbox(app)) == 1
    renamed = await client.put(
        "/statistics/catalogue/tech_contracts", json={**TECH, "name": "技术合同成交金额"}, headers=admin
    )
    assert (renamed.status_code, renamed.json()["version"]) == (200, 2)
    listed = (await client.get("/statistics/catalogue", headers=yichang)).json()["items"]
    assert next(s for s in listed if s["code"] == "tech_contracts")["name"] == "技术合同成交金额"
    assert (await imported(client, yichang, "420500,宜昌市,技术合同成交金额,2025,12.5,亿元,科技局,2025-03-01,"))[
        "created"
    ] == 1
    async with app.state.session_factory() as session:
        catalogue = await statistic_catalogue(session)
    assert catalogue["tech_contracts"].unit == "亿元" and "gdp" in catalogue


async def test_a_statistic_with_releases_keeps_its_unit_kind_and_additivity(app_client, admin, yichang):
    _app, client = app_client
    await client.put("/statistics/catalogue/tech_contracts", json=TECH, headers=admin)
    await imported(client, yichang, "420500,宜昌市,tech_contracts,2025,12.5,亿元,科技局,2025-03-01,")
    for change in ({"unit": "万元"}, {"kind": "stock"}, {"additive": False}):
        resp = await client.put("/statistics/catalogue/tech_contracts", json={**TECH, **change}, headers=admin)
        assert resp.status_code == 409, change
    described = await client.put(
        "/statistics/catalogue/tech_contracts", json={**TECH, "description": "科技局技术市场"}, headers=admin
    )
    assert described.status_code == 200


async def test_built_in_statistics_and_their_names_are_not_an_admin_s_to_change(app_client, admin):
    _app, client = app_client
    assert (await client.put("/statistics/catalogue/gdp", json=TECH, headers=admin)).status_code == 409
    taken = await client.put("/statistics/catalogue/gdp2", json={**TECH, "name": "地区生产总值"}, headers=admin)
    assert taken.status_code == 409
    await client.put("/statistics/catalogue/tech_contracts", json=TECH, headers=admin)
    twin = await client.put("/statistics/catalogue/tech_contracts_2", json=TECH, headers=admin)
    assert twin.status_code == 409


async def test_only_an_admin_defines_a_statistic_and_a_code_has_its_shape(app_client, admin, yichang):
    _app, client = app_client
    assert (await client.put("/statistics/catalogue/tech_contracts", json=TECH, headers=yichang)).status_code == 403
    bad = await client.put("/statistics/catalogue/Tech-Contracts", json=TECH, headers=admin)
    assert bad.status_code == 422
    long_unit = await client.put("/statistics/catalogue/tech", json={**TECH, "unit": "x" * 11}, headers=admin)
    assert long_unit.status_code == 422


# --- the template --------------------------------------------------------------------------------


async def test_the_template_comes_as_a_workbook_or_csv_and_imports_as_it_is(app_client, yichang):
    _app, client = app_client
    book = await client.get("/statistics/import/template", params={"format": "xlsx"}, headers=yichang)
    assert book.status_code == 200 and book.headers["content-type"] == XLSX["Content-Type"]
    sheet = load_workbook(io.BytesIO(book.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("地区代码", "地区名称", "统计指标", "期间", "数值", "单位", "来源", "发布日期", "备注")
    assert rows[1][:4] == ("420500", "宜昌市", "invention_grants", "2025-10")
    table = await client.get("/statistics/import/template", params={"format": "csv"}, headers=yichang)
    assert table.headers["content-type"].startswith("text/csv") and table.content.startswith(b"\xef\xbb\xbf")
    for template, headers in ((book.content, XLSX), (table.content, CSV)):
        resp = await client.post("/statistics/import", content=template, headers={**yichang, **headers})
        assert resp.status_code == 200, resp.text
    assert resp.json()["unchanged"] == 2


async def test_a_plan_binds_a_statistic_once_the_catalogue_has_it(app_client, admin):
    _app, client = app_client
    plan = "\n".join(
        [
            "format: zhichan.plan/v1",
            'region: {code: "420500", name: 宜昌市, level: city, parent: "420000"}',
            "plan: {key: yichang-tech, title: 宜昌市科技成果转化方案, start: 2025-01-01, end: 2026-12-31}",
            "indicators:",
            "  - {key: tech-contracts, name: 技术合同成交额, category: utilization, unit: 亿元, measure: annual,",
            "     target: 120, source: {metric: statistics.tech_contracts}}",
        ]
    ).encode()
    yaml = {**admin, "Content-Type": "application/yaml"}
    refused = await client.post("/plans/import", content=plan, headers=yaml)
    assert refused.status_code == 422 and "unknown statistic 'tech_contracts'" in refused.text
    assert (await client.put("/statistics/catalogue/tech_contracts", json=TECH, headers=admin)).status_code == 201
    imported = await client.post("/plans/import", content=plan, headers=yaml)
    assert imported.status_code == 201, imported.text
    assert imported.json()["indicators"][0]["source"] == {"metric": "statistics.tech_contracts", "filters": {}}
