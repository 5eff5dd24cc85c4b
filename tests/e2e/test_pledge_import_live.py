"""An office going live mid-plan: its pledges, registered over years and since released, defaulted
or disposed of, imported through the gateway (and again by the command line, as a job), across the
real broker and processes, count in the gateway's pledge figures of each past window as if each
had been registered on its day; the service's balance on a past day follows their changes."""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal

import pytest

from zhichan.events.broker import free_port
from zhichan.stack import PROCESSES, Stack
from zhichan.testing import auth, csv_file, wait_for
from zhichan.uscc import build_uscc

pytestmark = pytest.mark.e2e

XILING = "420502"  # 宜昌市西陵区
OFFICER = auth("officer", ["420500"])
JOB_ROWS = 2  # a file of more rows is a job
METRICS = "/api/progress/metrics/financing."


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(
        var_dir=tmp_path_factory.mktemp("stack"),
        ports={name: free_port() for name in PROCESSES},
        extra_env={"FINANCING_IMPORT_JOB_ROWS": str(JOB_ROWS)},
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def row(n: int, registered: str, amount: str, **later: str) -> dict[str, str]:
    return {
        "行政区划代码": XILING,
        "登记号": f"Y2022420000{n:03d}",
        "出质人": f"宜昌某某新材料科技有限公司{n}",
        "出质人统一社会信用代码": build_uscc(XILING, n),
        "质权人": "中国银行宜昌分行",
        "知识产权类型": "专利",
        "知识产权号": f"ZL2021100{n:05d}.1",
        "知识产权名称": "一种磷酸铁锂正极材料的制备方法",
        "贷款金额(元)": amount,
        "登记日期": registered,
        "贷款起始日": registered,
        "贷款到期日": "2025-12-31",
        "担保方式": "直接质押",
        "注销日期": later.get("released", ""),
        "违约日期": later.get("defaulted", ""),
        "违约时未偿本金(元)": later.get("outstanding", ""),
    }


PLEDGES = [
    row(1, "2022-03-01", "5000000", released="2023-02-28"),
    row(2, "2022-09-15", "3000000.50", defaulted="2023-10-01", outstanding="1800000"),
    row(3, "2023-04-12", "2000000"),
]


async def flow(gateway, metric: str, year: int) -> str:
    window = {"region": "420500", "from": f"{year}-01-01", "to": f"{year}-12-31"}
    resp = await gateway.get(f"{METRICS}{metric}", params=window, headers=OFFICER)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["value"])


async def settles_at(gateway, metric: str, year: int, expected: str) -> None:
    async def reached():
        return await flow(gateway, metric, year) == expected

    await wait_for(reached, timeout=30, what=f"{metric} {expected} in {year}")


async def outstanding_at(gateway, day: str) -> str:
    resp = await gateway.get("/api/financing/summary", params={"region": "420500", "to": day}, headers=OFFICER)
    assert resp.status_code == 200, resp.text
    return resp.json()["pledges"]["outstanding_at_to"]["yuan"]


async def test_pledges_imported_through_the_gateway_count_in_their_windows(stack, gateway, tmp_path):
    first_two = csv_file(PLEDGES[:2], encoding="utf-8-sig")  # as Excel saves a CSV
    checked = await gateway.post(
        "/api/pledges/import?dry_run=true",
        content=first_two,
        headers={**OFFICER, "Content-Type": "text/csv"},
    )
    assert (checked.status_code, checked.json()["created"]) == (200, 2), checked.text
    imported = await gateway.post(
        "/api/pledges/import",
        content=first_two,
        headers={**OFFICER, "Content-Type": "text/csv"},
    )
    assert (imported.status_code, imported.json()["created"]) == (200, 2), imported.text
    await settles_at(gateway, "pledge_count", 2022, "2")
    assert Decimal(await flow(gateway, "pledge_amount", 2022)) == Decimal("8000000.50")
    assert await flow(gateway, "pledge_count", 2023) == "0"

    # The whole file by the command line: more rows than the threshold, so a job.
    path = tmp_path / "质押登记.csv"
    path.write_bytes(csv_file(PLEDGES, encoding="utf-8-sig"))
    command = [sys.executable, "-m", "zhichan.cli", "import-records", "pledges", str(path), "--url", stack.gateway_url]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out = (await asyncio.wait_for(process.communicate(), timeout=120))[0].decode()
    assert process.returncode == 0, out
    assert "1 created, 0 updated, 2 unchanged" in out and "3/3 rows" in out, out

    await settles_at(gateway, "pledge_count", 2023, "1")
    assert await flow(gateway, "pledge_count", 2022) == "2"
    assert await flow(gateway, "pledged_patents", 2023) == "1"
    # The balance on past days, by the business dates of the changes imported.
    assert Decimal(await outstanding_at(gateway, "2022-12-31")) == Decimal("8000000.50")
    assert Decimal(await outstanding_at(gateway, "2023-06-30")) == Decimal("5000000.50")  # the first released
    assert Decimal(await outstanding_at(gateway, "2023-12-31")) == Decimal("3800000")  # the second defaulted

    number = "Y2022420000004"
    body = {
        "region": XILING,
        "registration_number": number,
        "pledgor_name": "宜昌某某电气有限公司",
        "pledgor_uscc": build_uscc(XILING, 4),
        "pledgee": "湖北银行宜昌分行",
        "assets": [{"type": "trademark", "number": "23456789", "title": "某某"}],
        "loan_amount": "1000000.00",
        "registered_on": "2023-11-01",
        "loan_term_start": "2023-11-01",
        "loan_term_end": "2024-10-31",
        "guarantee_mode": "direct",
    }
    pushed = await gateway.put(f"/api/pledges/by-number/{number}", headers=OFFICER, json=body)
    assert pushed.status_code == 201, pushed.text
    assert pushed.headers["location"] == f"/api/pledges/{pushed.json()['id']}"
    await settles_at(gateway, "pledge_count", 2023, "2")
    released = await gateway.put(
        f"/api/pledges/by-number/{number}",
        headers={**OFFICER, "If-Match": pushed.headers["etag"]},
        json={**body, "released_on": "2024-01-31"},
    )
    assert (released.status_code, released.json()["status"]) == (200, "released"), released.text
