"""An office going live mid-plan: its running campaigns imported through the gateway by the
command line, counted by the gateway on their start dates, then named by the cases imported after
them."""

from __future__ import annotations

import asyncio
import sys

import pytest

from zhichan.tabular import records_csv
from zhichan.testing import auth, wait_for

pytestmark = pytest.mark.e2e

YICHANG, XILING = "420500", "420502"
OFFICER = auth("officer", [YICHANG])
COUNT = "/api/progress/metrics/enforcement.campaigns"
CAMPAIGNS = [
    {
        "行政区划代码": YICHANG,
        "行动名称": "2024年知识产权执法“铁拳”行动",
        "开始日期": "2024-03-01",
        "结束日期": "2024-11-30",
        "重点领域": "商标侵权、假冒专利",
    },
    {
        "行政区划代码": XILING,
        "行动名称": "2024年西陵区“双打”专项行动",
        "开始日期": "2024-05-06",
        "结束日期": "2024-10-31",
        "重点领域": "侵犯知识产权和制售假冒伪劣商品",
    },
]


def as_csv(rows: list[dict]) -> bytes:
    return records_csv(rows, encoding="utf-8-sig")


async def run(command: list[str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode, out.decode()


async def count(gateway, start: str, end: str) -> int:
    resp = await gateway.get(COUNT, params={"region": YICHANG, "from": start, "to": end}, headers=OFFICER)
    assert resp.status_code == 200, resp.text
    return int(resp.json()["value"] or 0)


async def test_campaigns_imported_first_are_counted_and_named_by_cases(stack, gateway, tmp_path):
    path = tmp_path / "专项行动.csv"
    path.write_bytes(as_csv(CAMPAIGNS))
    command = [sys.executable, "-m", "zhichan.cli", "import-records", "campaigns", str(path)]
    command += ["--url", stack.gateway_url]
    code, out = await run(command)
    assert code == 0, out
    assert "2 created, 0 updated, 0 unchanged" in out, out

    async def counted() -> bool:
        return await count(gateway, "2024-01-01", "2024-12-31") == 2

    await wait_for(counted, timeout=30, what="both campaigns counted in 2024")
    assert await count(gateway, "2024-01-01", "2024-04-30") == 1  # counted on their start dates

    code, out = await run(command)
    assert "0 created, 0 updated, 2 unchanged" in out, out

    found = await gateway.get("/api/campaigns", params={"region": XILING}, headers=OFFICER)
    campaign = next(c for c in found.json()["items"] if c["region"] == XILING)
    case = {
        "行政区划代码": XILING,
        "立案号": "宜西市监知立〔2024〕31号",
        "案件类型": "商标侵权",
        "程序": "行政处罚",
        "案件来源": "专项行动",
        "当事人名称": "宜昌市某某商贸有限公司",
        "当事人统一社会信用代码": "91420502000000001G",
        "承办单位": "西陵区市场监管局",
        "专项行动编号": campaign["id"],
        "立案日期": "2024-06-03",
    }
    imported = await gateway.post(
        "/api/cases/import", content=as_csv([case]), headers={**OFFICER, "Content-Type": "text/csv"}
    )
    assert imported.status_code == 200 and imported.json()["created"] == 1, imported.text
    named = await gateway.get(f"/api/campaigns/{campaign['id']}", headers=OFFICER)
    assert named.json()["case_counts"]["total"] == 1
