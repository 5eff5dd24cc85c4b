"""The three seed plans shipped under demo/plans: they import cleanly and round-trip."""

import pytest
import yaml

from services.targets import planfile
from services.targets.tests.integration.conftest import DEMO_PLANS, YAML, outbox
from zhichan.testing import auth

FILES = sorted(DEMO_PLANS.glob("*.yaml"))
MEDIA = {"yaml": "application/yaml", "json": "application/json", "xlsx": planfile.XLSX_TYPE}


def test_the_three_seed_plans_are_shipped():
    assert [f.name for f in FILES] == [
        "nanjiang-2021-2025.yaml",
        "yichang-2021-2025.yaml",
        "zhenjiang-etdz-2024-2026.yaml",
    ]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
async def test_a_seed_plan_imports_and_round_trips_yaml_json_xlsx_yaml(app_client, path):
    app, client = app_client
    admin = auth("admin")
    source = path.read_bytes()
    created = await client.post("/plans/import", content=source, headers={**admin, **YAML})
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    events = len(await outbox(app))
    first = (await client.get(f"/plans/{key}/export", headers=admin)).content
    for fmt in ("json", "xlsx", "yaml"):
        exported = (await client.get(f"/plans/{key}/export", params={"format": fmt}, headers=admin)).content
        again = await client.post("/plans/import", content=exported, headers={**admin, "Content-Type": MEDIA[fmt]})
        assert again.status_code == 200 and again.json()["version"] == 1, again.text
    assert (await client.get(f"/plans/{key}/export", headers=admin)).content == first
    assert len(await outbox(app)) == events  # nothing changed, nothing published
    assert _without_comments(yaml.safe_load(first)) == _without_comments(yaml.safe_load(source))


def _without_comments(document: dict) -> dict:
    """The file as data, with the defaults an export writes out (nature, direction, source)."""
    for indicator in document["indicators"]:
        indicator.setdefault("direction", "at_least")
        indicator.setdefault("nature", "expected")
        indicator.setdefault("source", "reported")
    return document


async def test_the_seed_plans_as_the_issue_describes_them(client):
    admin = auth("admin")
    for path in FILES:
        await client.post("/plans/import", content=path.read_bytes(), headers={**admin, **YAML})
    zhenjiang = (await client.get("/plans/zhenjiang-etdz-2024-2026", headers=admin)).json()
    assert zhenjiang["region"] == "321100-ETDZ" and zhenjiang["end"] == "2026-12-31"
    by_key = {i["key"]: i for i in zhenjiang["indicators"]}
    assert by_key["high-value-invention-patents"]["milestones"] == {"2024": "750", "2025": "800", "2026": "850"}
    assert by_key["pledge-financing"]["source"]["metric"] == "financing.pledge_amount"
    assert by_key["on-time-closure"]["source"]["metric"] == "enforcement.on_time_closure_rate"
    assert by_key["offline-service-agencies"]["source"] == {
        "metric": "agencies.active_agencies",
        "filters": {"offline": True},
    }
    events = by_key["pledge-matchmaking-events"]  # “举办知识产权质押对接活动1—2场” each year
    assert (events["target"], events["target_max"]) == ("1", "2")
    assert events["milestone_maxima"] == {"2024": "2", "2025": "2", "2026": "2"}
    meetings = by_key["ip-special-meetings"]  # 1—2次, 2次, 1—2次
    assert meetings["milestones"] == {"2024": "1", "2025": "2", "2026": "1"}
    assert meetings["milestone_maxima"] == {"2024": "2", "2026": "2"}
    yichang = {i["key"]: i for i in (await client.get("/plans/yichang-2021-2025", headers=admin)).json()["indicators"]}
    assert yichang["high-value-invention-patents-per-10k"]["baseline"] == {"year": 2020, "value": "2.81"}
    grants = yichang["invention-patent-grants"]  # “年均增长15%,达到1600件”
    assert (grants["trajectory"], grants["baseline"]["value"], grants["target"]) == ("compound", "775", "1600")
    assert yichang["pledge-financing-registered"]["trajectory"] == "linear"
    pledges = yichang["pledge-financing-registered"]
    assert (pledges["unit"], pledges["measure"], pledges["target"], pledges["baseline"]["value"]) == (
        "亿元",
        "annual",
        "40",
        "17.3",
    )
    nanjiang = (await client.get("/plans/nanjiang-2021-2025", headers=admin)).json()
    assert nanjiang["region"] == "511922"
    projects = next(i for i in nanjiang["indicators"] if i["key"] == "patent-industrialisation-projects")
    assert (projects["target"], projects["target_max"]) == ("8", "10")  # “实施专利产业化项目8-10项”
    pledge = next(t for t in nanjiang["tasks"] if t["key"] == "ip-utilization")
    assert pledge["responsible"] == [
        "县市场监管局",
        "人民银行南江县支行",
        "县教科体局",
        "县农业农村局",
        "县林业局",
        "县经信局",
    ]
