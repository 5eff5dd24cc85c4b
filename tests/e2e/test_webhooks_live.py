"""A municipal system that does not speak Kafka, on the real broker and processes: it subscribes
a URL through the gateway, an office files a case, and the receiver gets the case's event signed
per Standard Webhooks, verified with the reference library as the receiver would."""

from __future__ import annotations

import json

import pytest
from standardwebhooks import Webhook

from gateway.tests.webhook_receiver import running_receiver
from zhichan.testing import auth, wait_for
from zhichan.uscc import build_uscc

pytestmark = pytest.mark.e2e

ZHENJIANG, JINGKOU = "321100", "321102"
OFFICER = auth("officer", [ZHENJIANG], sub="zj-case-system")
CASE = (
    "行政区划代码,立案号,案件类型,程序,案件来源,当事人名称,当事人统一社会信用代码,承办单位,立案日期\n"
    f"{JINGKOU},镇京市监知立〔2026〕7号,商标侵权,行政处罚,投诉举报,镇江某某商贸有限公司,{build_uscc(JINGKOU, 7)},"
    "京口区市场监管局,2026-11-02\n"
)


async def test_a_filed_case_reaches_a_subscribed_receiver_signed(stack, gateway):
    async with running_receiver() as receiver:
        subscribed = await gateway.post(
            "/api/webhooks",
            json={"url": receiver.url, "event_types": ["zhichan.enforcement.case.*"], "description": "镇江市执法平台"},
            headers=OFFICER,
        )
        assert subscribed.status_code == 201, subscribed.text
        hook = subscribed.json()

        imported = await gateway.post(
            "/api/cases/import", content=CASE.encode(), headers={**OFFICER, "Content-Type": "text/csv"}
        )
        assert imported.status_code == 200 and imported.json()["created"] == 1, imported.text

        await wait_for(lambda: _received(receiver), timeout=30, what="the case's event delivered")
        headers, body = receiver.received[0]
        event = Webhook(hook["secret"]).verify(body, headers)
        assert event["type"] == "zhichan.enforcement.case.filed.v1"
        assert event["region"] == JINGKOU and event["data"]["case_number"] == "镇京市监知立〔2026〕7号"
        assert json.loads(body) == event

        async def logged() -> list:
            found = await gateway.get(f"/api/webhooks/{hook['id']}/deliveries", headers=OFFICER)
            return [d for d in found.json()["items"] if d["status"] == "succeeded"]

        [delivery] = await wait_for(logged, timeout=10, what="the delivery logged")
        assert delivery["id"] == headers["webhook-id"] and delivery["event_id"] == event["id"]


async def _received(receiver) -> bool:
    return len(receiver.received) >= 1
