"""Official statistics imported through the gateway compute a plan's creation goals, across the
real broker and processes: a statistic flow, a ratio of two statistics and a growth; and a
revision changes the view from its publication date on, not before."""

from __future__ import annotations

import pytest

from zhichan.testing import auth, wait_for

pytestmark = pytest.mark.e2e

OFFICER = auth("officer", ["420000"])
PLAN = """
format: zhichan.plan/v1
region: {code: "420500", name: 宜昌市, level: city, parent: "420000"}
plan: {key: yichang-statistics, title: 宜昌市知识产权“十四五”规划(统计指标), start: 2021-01-01, end: 2025-12-31}
indicators:
  - key: invention-patent-grants
    name: 年度发明专利授权量
    category: creation
    unit: 件
    measure: annual
    baseline: {year: 2020, value: 775}
    target: 1600
    trajectory: compound
    source: {metric: statistics.invention_grants}
  - key: high-value-invention-patents-per-10k
    name: 每万人口高价值发明专利拥有量
    category: creation
    unit: 件
    measure: stock
    baseline: {year: 2020, value: 2.81}
    target: 10
    source:
      ratio:
        numerator: {metric: statistics.valid_high_value_invention_patents}
        denominator: {metric: statistics.resident_population}
        per: 10000
  - key: registered-trademarks-growth
    name: 有效注册商标量年均增长
    category: creation
    unit: "%"
    measure: rate
    target: 8
    source: {growth: {metric: statistics.valid_trademarks}, over: year}
"""
HEADER = "地区代码,地区名称,统计指标,期间,数值,单位,来源,发布日期,备注\n"
RELEASES = HEADER + "\n".join(
    [
        "420500,宜昌市,resident_population,2024,401.7,万人,宜昌市2024年国民经济和社会发展统计公报,2025-03-20,",
        "420500,宜昌市,valid_high_value_invention_patents,2024,2810,件,国家知识产权局知识产权统计年报 2024,2025-01-25,",
        "420500,宜昌市,valid_trademarks,2023,66900,件,国家知识产权局商标统计年报 2023,2024-01-25,",
        "420500,宜昌市,valid_trademarks,2024,72600,件,国家知识产权局商标统计年报 2024,2025-01-25,",
        *(
            f"420500,宜昌市,invention_grants,2025-{m:02d},{v},件,统计月报 2025-{m:02d},2025-{m + 1:02d}-15,"
            for m, v in zip(range(1, 11), [118, 96, 131, 139, 136, 142, 135, 140, 138, 138], strict=True)
        ),
    ]
)
REVISION = HEADER + (
    "420500,宜昌市,invention_grants,2025-10,146,件,国家知识产权局统计月报 2025-11,2025-12-15,11月月报修订10月数据\n"
)


async def plan_view(gateway, as_of: str) -> dict[str, dict]:
    resp = await gateway.get("/api/progress/plans/yichang-statistics", params={"as_of": as_of})
    assert resp.status_code == 200, resp.text
    return {item["key"]: item for item in resp.json()["indicators"]}


async def import_csv(gateway, text: str) -> dict:
    resp = await gateway.post(
        "/api/statistics/import", content=text.encode(), headers={**OFFICER, "Content-Type": "text/csv"}
    )
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


async def test_statistics_compute_the_creation_goals_and_a_revision_counts_from_its_publication(gateway):
    imported = await gateway.post(
        "/api/plans/import", content=PLAN.encode(), headers={**OFFICER, "Content-Type": "application/yaml"}
    )
    assert imported.status_code == 201, imported.text
    assert (await gateway.post("/api/plans/yichang-statistics/activate", headers=OFFICER)).status_code == 200
    counts = await import_csv(gateway, RELEASES)
    assert counts["created"] == 14 and counts["unchanged"] == 0
    assert (await import_csv(gateway, RELEASES))["unchanged"] == 14  # the same file again changes nothing

    async def computed():
        resp = await gateway.get("/api/progress/plans/yichang-statistics", params={"as_of": "2025-12-01"})
        if resp.status_code != 200:
            return False
        grants = {i["key"]: i for i in resp.json()["indicators"]}["invention-patent-grants"]
        return grants["actual"] == "1313"

    await wait_for(computed, timeout=30, what="the releases in the gateway's plan view")
    before_revision = await plan_view(gateway, "2025-12-01")
    per_10k = before_revision["high-value-invention-patents-per-10k"]
    assert (per_10k["actual"], per_10k["actual_on"]) == ("7", "2024-12-31")  # 2,810 ÷ 4,017,000 × 10,000 = 6.995…
    growth = before_revision["registered-trademarks-growth"]
    assert growth["actual"] == "8.52"  # 72,600 ÷ 66,900 − 1
    grants = before_revision["invention-patent-grants"]
    assert (grants["actual"], grants["actual_on"]) == ("1313", "2025-10-31")  # January to October

    await import_csv(gateway, REVISION)

    async def revised():
        view = await plan_view(gateway, "2025-12-31")
        return view["invention-patent-grants"]["actual"] == "1321"

    await wait_for(revised, timeout=30, what="the revision in the gateway's plan view")
    assert (await plan_view(gateway, "2025-12-01"))["invention-patent-grants"]["actual"] == "1313"

    drilldown = (await plan_view(gateway, "2025-12-31"))["invention-patent-grants"]["drilldown"]
    rows = await gateway.get(drilldown[0], headers=OFFICER)
    assert rows.status_code == 200, rows.text
    october = [r for r in rows.json()["items"] if r["period"] == "2025-10"]
    assert sorted((r["value"], r["published_on"]) for r in october) == [("138", "2025-11-15"), ("146", "2025-12-15")]
    first, revision = sorted(october, key=lambda r: r["published_on"])
    assert first["revised_by"] == revision["id"] and revision["revises"] == first["id"]
