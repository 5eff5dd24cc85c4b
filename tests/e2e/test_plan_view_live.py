"""Records posted through the gateway move the plan view, across the real broker and processes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from zhichan.clock import today
from zhichan.testing import auth, wait_for
from zhichan.uscc import build_uscc

pytestmark = pytest.mark.e2e

OFFICER = auth("officer", ["320300"])
YEAR = today().year
PLAN = f"""
format: zhichan.plan/v1
region: {{code: "320302", name: 鼓楼区, level: district, parent: "320300"}}
plan: {{key: gulou-live, title: 鼓楼区知识产权工作方案, issued_by: 鼓楼区市场监管局,
       start: {YEAR}-01-01, end: {YEAR}-12-31}}
indicators:
  - {{key: pledges, name: 质押融资累计, category: utilization, unit: 万元, measure: cumulative, direction: at_least,
     nature: expected, target: 1000, source: {{metric: financing.pledge_amount}}}}
  - {{key: cases, name: 立案商标侵权案件, category: protection, unit: 件, measure: cumulative, direction: at_least,
     nature: expected, target: 2,
     source: {{metric: enforcement.cases_filed, filters: {{type: [trademark_infringement]}}}}}}
"""


async def view(gateway) -> dict[str, dict]:
    resp = await gateway.get("/api/progress/plans/gulou-live")
    assert resp.status_code == 200, resp.text
    return {item["key"]: item for item in resp.json()["indicators"]}


async def test_a_pledge_and_cases_posted_through_the_gateway_move_the_plan_view(gateway):
    imported = await gateway.post(
        "/api/plans/import", content=PLAN.encode(), headers={**OFFICER, "Content-Type": "application/yaml"}
    )
    assert imported.status_code == 201, imported.text
    assert (await gateway.post("/api/plans/gulou-live/activate", headers=OFFICER)).status_code == 200

    async def published():
        return (await gateway.get("/api/progress/plans/gulou-live")).status_code == 200

    await wait_for(published, timeout=30, what="the plan in the gateway")
    before = await view(gateway)
    assert before["pledges"]["actual"] == "0" and before["cases"]["actual"] == "0"

    day = max(date(YEAR, 1, 1), today() - timedelta(days=1)).isoformat()
    pledge = await gateway.post(
        "/api/pledges",
        headers=OFFICER,
        json={
            "region": "320302",
            "registration_number": "Y-LIVE-1",
            "pledgor_name": "徐州某科技有限公司",
            "pledgor_uscc": build_uscc("320302", 4242),
            "pledgee": "中国银行徐州分行",
            "assets": [{"type": "patent", "number": "ZL2025LIVE1", "title": "一种散热装置"}],
            "loan_amount": "12345678.90",
            "registered_on": day,
            "loan_term_start": day,
            "loan_term_end": date(YEAR + 1, 12, 31).isoformat(),
            "guarantee_mode": "direct",
        },
    )
    assert pledge.status_code == 201, pledge.text
    for n in (1, 2):
        case = await gateway.post(
            "/api/cases",
            headers=OFFICER,
            json={
                "region": "320302",
                "case_number": f"徐鼓市监立〔{YEAR}〕{n}号",
                "type": "trademark_infringement",
                "procedure": "administrative_penalty",
                "origin": "complaint",
                "respondent": {"kind": "organization", "name": f"鼓楼商贸{n}", "uscc": build_uscc("320302", 77 + n)},
                "filed_date": day,
                "handling_unit": "稽查大队",
            },
        )
        assert case.status_code == 201, case.text

    async def moved():
        items = await view(gateway)
        return items["pledges"]["actual"] == "1234.56789" and items["cases"]["actual"] == "2"

    await wait_for(moved, timeout=30, what="the plan view to count the pledge and the cases")
    items = await view(gateway)
    assert Decimal(items["pledges"]["actual"]) == Decimal("1234.56789")  # 元 → 万元, exact
    assert items["cases"]["status"] == "achieved"


async def test_a_zone_defined_through_the_gateway_takes_a_pledge_at_once(gateway):
    zone = {"code": "320300-LIVEZONE", "name": "徐州某经济开发区", "level": "zone", "parent": "320300"}
    defined = await gateway.post("/api/regions", json=zone, headers=OFFICER)
    assert defined.status_code == 201, defined.text
    day = today().isoformat()
    # At once: the financing service asks the targets service rather than wait for the region's event.
    pledge = await gateway.post(
        "/api/pledges",
        headers=OFFICER,
        json={
            "region": zone["code"],
            "registration_number": "Y-ZONE-1",
            "pledgor_name": "徐州某开发区企业有限公司",
            "pledgor_uscc": build_uscc("320300", 4343),
            "pledgee": "江苏银行徐州分行",
            "assets": [{"type": "patent", "number": "ZL2025ZONE1", "title": "一种传感器"}],
            "loan_amount": "1000000.00",
            "registered_on": day,
            "loan_term_start": day,
            "loan_term_end": date(YEAR + 1, 12, 31).isoformat(),
            "guarantee_mode": "direct",
        },
    )
    assert pledge.status_code == 201, pledge.text
    assert pledge.json()["region"] == zone["code"]
