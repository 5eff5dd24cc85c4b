"""An office going live mid-plan: its agencies, with years of filings, approvals, suspensions and
deregistrations, imported through the gateway (and again by the command line, as a job), across
the real broker and processes, count in the gateway's active agencies on each past day as if each
change had been recorded on its day."""

from __future__ import annotations

import asyncio
import sys

import pytest

from zhichan.events.broker import free_port
from zhichan.stack import PROCESSES, Stack
from zhichan.testing import auth, csv_file, wait_for
from zhichan.uscc import build_uscc

pytestmark = pytest.mark.e2e

QUANSHAN = "320311"
OFFICER = auth("officer", ["320300"])
JOB_ROWS = 2  # a file of more rows is a job
ACTIVE = "/api/progress/metrics/agencies.active_agencies"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(
        var_dir=tmp_path_factory.mktemp("stack"),
        ports={name: free_port() for name in PROCESSES},
        extra_env={"AGENCIES_IMPORT_JOB_ROWS": str(JOB_ROWS)},
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def row(n: int, filed: str, approved: str, **later: str) -> dict[str, str]:
    return {
        "行政区划代码": QUANSHAN,
        "统一社会信用代码": build_uscc(QUANSHAN, n),
        "机构名称": f"徐州知信专利代理事务所{n}",
        "服务类型": "专利代理、商标代理",
        "备案日期": filed,
        "审核通过日期": approved,
        "暂停日期": later.get("suspended", ""),
        "恢复日期": later.get("reinstated", ""),
        "注销日期": later.get("deregistered", ""),
    }


AGENCIES = [
    row(1, "2021-03-01", "2021-03-15"),
    row(2, "2021-05-01", "2021-06-01", suspended="2022-04-01", reinstated="2022-07-01"),
    row(3, "2020-01-10", "2020-02-01", deregistered="2023-01-10"),
]


def as_csv(rows: list[dict[str, str]]) -> bytes:
    return csv_file(rows, encoding="utf-8-sig")  # as Excel saves a CSV


async def active(gateway, as_of: str) -> int:
    resp = await gateway.get(ACTIVE, params={"region": "320300", "as_of": as_of}, headers=OFFICER)
    assert resp.status_code == 200, resp.text
    return int(resp.json()["value"])


async def settles_at(gateway, as_of: str, expected: int) -> None:
    async def reached():
        return await active(gateway, as_of) == expected

    await wait_for(reached, timeout=30, what=f"{expected} active agencies on {as_of}")


async def test_agencies_imported_through_the_gateway_count_on_their_days(stack, gateway, tmp_path):
    checked = await gateway.post(
        "/api/agencies/import?dry_run=true",
        content=as_csv(AGENCIES[:2]),
        headers={**OFFICER, "Content-Type": "text/csv"},
    )
    assert (checked.status_code, checked.json()["created"]) == (200, 2), checked.text
    imported = await gateway.post(
        "/api/agencies/import", content=as_csv(AGENCIES[:2]), headers={**OFFICER, "Content-Type": "text/csv"}
    )
    assert (imported.status_code, imported.json()["created"]) == (200, 2), imported.text
    await settles_at(gateway, "2021-12-31", 2)
    assert await active(gateway, "2022-05-01") == 1  # the second one suspended

    # The whole file by the command line: more rows than the threshold, so a job.
    path = tmp_path / "服务机构.csv"
    path.write_bytes(as_csv(AGENCIES))
    command = [sys.executable, "-m", "zhichan.cli", "import-records", "agencies", str(path), "--url", stack.gateway_url]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out = (await asyncio.wait_for(process.communicate(), timeout=120))[0].decode()
    assert process.returncode == 0, out
    assert "1 created, 0 updated, 2 unchanged" in out and "3/3 rows" in out, out

    await settles_at(gateway, "2021-12-31", 3)
    assert await active(gateway, "2020-12-31") == 1
    assert await active(gateway, "2022-05-01") == 2
    assert await active(gateway, "2023-12-31") == 2  # the third one deregistered

    uscc = build_uscc(QUANSHAN, 4)
    pushed = await gateway.put(
        f"/api/agencies/by-uscc/{uscc}",
        headers=OFFICER,
        json={
            "region": QUANSHAN,
            "uscc": uscc,
            "name": "徐州知信专利代理事务所4",
            "service_types": ["patent_agency"],
            "filed_on": "2023-11-01",
            "approved_on": "2024-01-02",
        },
    )
    assert pushed.status_code == 201, pushed.text
    assert pushed.headers["location"] == f"/api/agencies/{pushed.json()['id']}"
    await settles_at(gateway, "2024-06-30", 3)
    assert await active(gateway, "2023-12-31") == 2
