"""An office going live mid-plan: its cases of 2024 imported through the gateway (and a second
version of the file with changes), across the real broker and processes, move the gateway's
on-time closure rate as if each step had been recorded on its day."""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal
from urllib.parse import quote

import pytest

from zhichan.events.broker import free_port
from zhichan.stack import PROCESSES, Stack
from zhichan.testing import auth, csv_file, wait_for
from zhichan.uscc import build_uscc

pytestmark = pytest.mark.e2e

XILING = "420502"
OFFICER = auth("officer", ["420500"])
JOB_ROWS = 4  # a file of more rows is a job: the first version below is not, the second one is
RATE = "/api/progress/metrics/enforcement.on_time_closure_rate"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(
        var_dir=tmp_path_factory.mktemp("stack"),
        ports={name: free_port() for name in PROCESSES},
        extra_env={"ENFORCEMENT_IMPORT_JOB_ROWS": str(JOB_ROWS)},
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def row(n: int, filed: str, decided: str = "", closed: str = "", unit: str = "西陵区市场监管局") -> dict[str, str]:
    return {
        "行政区划代码": XILING,
        "立案号": f"宜西市监知立〔2024〕{n}号",
        "案件类型": "商标侵权",
        "程序": "行政处罚",  # 90 days from filing
        "案件来源": "投诉举报",
        "当事人名称": f"宜昌市某某商贸有限公司{n}",
        "当事人统一社会信用代码": build_uscc(XILING, n),
        "承办单位": unit,
        "立案日期": filed,
        "开始调查日期": filed,
        "决定日期": decided,
        "决定结果": "行政处罚决定" if decided else "",
        "罚款(元)": "20000" if decided else "",
        "结案日期": closed,
    }


FIRST = [
    row(1, "2024-01-08", "2024-03-01", "2024-03-10"),  # due 2024-04-07: on time
    row(2, "2024-01-08", "2024-05-10", "2024-05-20"),  # late
    row(3, "2024-02-01", "2024-04-01", "2024-04-15"),  # on time
    row(4, "2024-06-03"),  # open, overdue from 2024-09-02
]
SECOND = [
    FIRST[0],
    row(2, "2024-01-08", "2024-05-10", "2024-05-20", unit="伍家岗区市场监管局"),  # a correction
    FIRST[2],
    row(4, "2024-06-03", "2024-08-01", "2024-08-20"),  # closed since, on time
    row(5, "2024-10-08", "2024-11-10", "2024-11-20"),  # new, on time
]


def as_csv(rows: list[dict[str, str]]) -> bytes:
    return csv_file(rows, encoding="utf-8-sig")  # as Excel saves a CSV


async def run(command: list[str]) -> tuple[int, str]:
    """A command's exit code and output (stdout and stderr)."""
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode, out.decode()


async def rate(gateway, start: str, end: str) -> Decimal | None:
    resp = await gateway.get(RATE, params={"region": XILING, "from": start, "to": end}, headers=OFFICER)
    assert resp.status_code == 200, resp.text
    value = resp.json()["value"]
    return None if value is None else Decimal(value)


async def settles_at(gateway, expected: Decimal, start: str = "2024-01-01", end: str = "2024-12-31") -> None:
    async def reached():
        return await rate(gateway, start, end) == expected

    await wait_for(reached, timeout=30, what=f"the on-time rate {start}..{end} at {expected}")


async def test_cases_imported_through_the_gateway_move_the_on_time_rate(stack, gateway, tmp_path):
    template = await gateway.get("/api/cases/import/template", params={"format": "csv"}, headers=OFFICER)
    assert template.status_code == 200 and "立案号" in template.content.decode("utf-8-sig")

    checked = await gateway.post(
        "/api/cases/import?dry_run=true", content=as_csv(FIRST), headers={**OFFICER, "Content-Type": "text/csv"}
    )
    assert (checked.status_code, checked.json()["created"]) == (200, 4), checked.text
    imported = await gateway.post(
        "/api/cases/import", content=as_csv(FIRST), headers={**OFFICER, "Content-Type": "text/csv"}
    )
    assert imported.status_code == 200, imported.text
    assert (imported.json()["created"], imported.json()["dry_run"]) == (4, False)
    # 2 on time of 3 closed and 1 overdue at the year's end; by the end of June, 2 of 3 closed
    await settles_at(gateway, Decimal("50.00"))
    first_half = await rate(gateway, "2024-01-01", "2024-06-30")
    assert first_half == Decimal("66.67")

    # The second version is a job (more rows than the threshold), through the command line.
    second = tmp_path / "cases-v2.csv"
    second.write_bytes(as_csv(SECOND))
    command = [sys.executable, "-m", "zhichan.cli", "import-records", "cases", str(second), "--url", stack.gateway_url]
    code, out = await run(command)
    assert code == 0, out
    assert "1 created, 2 updated, 2 unchanged" in out, out
    assert "5/5 rows" in out  # the job's progress bar

    await settles_at(gateway, Decimal("80.00"))  # 4 on time of 5 closed, none overdue
    assert await rate(gateway, "2024-01-01", "2024-06-30") == first_half  # the past as it stood

    code, out = await run(command)
    assert "0 created, 0 updated, 5 unchanged" in out, out

    pushed = await gateway.put(
        f"/api/cases/by-number/{XILING}/{quote('宜西市监知立〔2024〕6号')}",
        headers=OFFICER,
        json={
            "region": XILING,
            "case_number": "宜西市监知立〔2024〕6号",
            "type": "trademark_infringement",
            "procedure": "administrative_penalty",
            "origin": "complaint",
            "respondent": {"name": "宜昌市某某商贸有限公司6", "uscc": build_uscc(XILING, 6)},
            "handling_unit": "西陵区市场监管局",
            "filed_date": "2024-03-01",
            "decided_date": "2024-08-01",
            "outcome": "penalty_decision",
            "closed_date": "2024-08-10",  # due 2024-05-30: late
        },
    )
    assert pushed.status_code == 201, pushed.text
    assert pushed.headers["location"] == f"/api/cases/{pushed.json()['id']}"
    await settles_at(gateway, Decimal("66.67"))  # 4 on time of 6 closed
