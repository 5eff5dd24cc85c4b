"""Issue 20's alerts on the real broker and processes: an office imports a case already past its
deadline; the gateway raises its alert, publishes it on zhichan.alerts, reads it back as any event
and delivers it to a subscribed webhook, signed; the alert is listed and acknowledged."""

from __future__ import annotations

import pytest
from standardwebhooks import Webhook

from gateway.tests.webhook_receiver import running_receiver
from zhichan.testing import auth, wait_for
from zhichan.uscc import build_uscc

pytestmark = pytest.mark.e2e

ZHENJIANG, DANTU = "321100", "321112"
OFFICER = auth("officer", [ZHENJIANG], sub="zj-alerts")
CASE_NUMBER = "镇丹市监知立〔2026〕12号"
OVERDUE_CASE = (
    "行政区划代码,立案号,案件类型,程序,案件来源,当事人名称,当事人统一社会信用代码,承办单位,立案日期\n"
    f"{DANTU},{CASE_NUMBER},假冒专利,行政处罚,检查发现,镇江某某电器有限公司,{build_uscc(DANTU, 12)},"
    "丹徒区市场监管局,2026-03-02\n"
)


async def test_an_overdue_case_alerts_a_webhook(stack, gateway):
    async with running_receiver() as receiver:
        subscribed = await gateway.post(
            "/api/webhooks", json={"url": receiver.url, "event_types": ["zhichan.alerts.*"]}, headers=OFFICER
        )
        assert subscribed.status_code == 201, subscribed.text
        secret = subscribed.json()["secret"]
        imported = await gateway.post(
            "/api/cases/import", content=OVERDUE_CASE.encode(), headers={**OFFICER, "Content-Type": "text/csv"}
        )
        assert imported.status_code == 200 and imported.json()["created"] == 1, imported.text

        async def delivered() -> bool:
            return len(receiver.received) >= 1

        await wait_for(delivered, timeout=30, what="the overdue case's alert delivered")
        headers, body = receiver.received[0]
        event = Webhook(secret).verify(body, headers)
        assert event["type"] == "zhichan.alerts.alert.raised.v1" and event["region"] == DANTU
        alert = event["data"]
        assert alert["kind"] == "case_overdue" and CASE_NUMBER in alert["title"]
        assert alert["responsible"] == ["丹徒区市场监管局"]

    listed = await gateway.get("/api/alerts", params={"region": DANTU}, headers=OFFICER)
    assert [a["id"] for a in listed.json()["items"]] == [alert["id"]]
    case = await gateway.get(alert["link"], headers=OFFICER)
    assert case.status_code == 200 and case.json()["case_number"] == CASE_NUMBER
    acknowledged = await gateway.post(f"/api/alerts/{alert['id']}/acknowledge", headers=OFFICER)
    assert acknowledged.status_code == 200 and acknowledged.json()["acknowledged_by"] == "zj-alerts"
