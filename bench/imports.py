"""Import of records: ``POST /cases/import`` of a CSV file of N cases (half closed in 2024 with
their decision, half just filed) on SQLite, against a bare insert of the same cases' rows into
the same table — no parsing, no validation, no state machine, no events, one ``executemany`` per
2,000 rows. In process (the enforcement app through httpx's ASGI transport): what is measured is
the import's own work, not HTTP.

``python -m bench.imports --rows 100000`` prints the seconds and rows/s of each side and their
ratio; the import is timed twice, the second time every row ``unchanged``. ``--relay`` runs the
service's relay against an embedded broker and times how long after the import's commit every
event it wrote was published. ``ZHICHAN_TEST_POSTGRES`` (a server URL) runs both sides on PostgreSQL. Then the process's
peak resident memory (the file, its rows and one chunk's cases and events at a time: compare
two sizes of file to see what grows with it) and the host's load average."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import logging
import os
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, insert, select

from bench.common import host_speed, machine
from services.enforcement.app import create_app
from services.enforcement.models import Case
from zhichan.clock import utcnow
from zhichan.events.broker import EmbeddedBroker, ensure_topics
from zhichan.events.outbox import OutboxEvent
from zhichan.ids import new_id
from zhichan.testing import auth, database_url, platform_for_tests, running_app, wait_for
from zhichan.uscc import build_uscc

REGION = "420502"
CHUNK = 2000
RULE = {
    "procedure": "administrative_penalty",
    "base_amount": 90,
    "base_unit": "days",
    "extension_amount": 30,
    "extension_unit": "days",
    "source_region": None,
    "effective_from": None,
}


def case_rows(count: int) -> list[dict[str, str]]:
    rows = []
    for n in range(count):
        row = {
            "region": REGION,
            "case_number": f"宜西市监知立〔2024〕{n}号",
            "type": "商标侵权",
            "procedure": "行政处罚",
            "origin": "投诉举报",
            "respondent_name": f"宜昌市某某商贸有限公司{n}",
            "respondent_uscc": build_uscc(REGION, n + 1),  # one case each: no watch list to work out
            "handling_unit": "西陵区市场监管局",
            "filed_date": "2024-03-04",
            "decided_date": "",
            "outcome": "",
            "closed_date": "",
        }
        if n % 2:
            row |= {"decided_date": "2024-05-20", "outcome": "dismissed", "closed_date": "2024-05-31"}
        rows.append(row)
    return rows


def as_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def bare_row(row: dict[str, str]) -> dict:
    """The case's row built straight from the file's, with what it would hold after the import."""
    now = utcnow()
    closed = bool(row["closed_date"])
    return {
        "id": new_id(),
        "region": row["region"],
        "case_number": row["case_number"],
        "case_type": "trademark_infringement",
        "procedure": "administrative_penalty",
        "origin": "complaint",
        "respondent_kind": "organization",
        "respondent_name": row["respondent_name"],
        "respondent_uscc": row["respondent_uscc"],
        "filed_date": date.fromisoformat(row["filed_date"]),
        "handling_unit": row["handling_unit"],
        "status": "closed" if closed else "filed",
        "deadline_rule": RULE,
        "suspensions": [],
        "due_date": date(2024, 6, 2),
        "outcome": "dismissed" if closed else None,
        "decided_date": date(2024, 5, 20) if closed else None,
        "closed_date": date(2024, 5, 31) if closed else None,
        "closed_on_time": True if closed else None,
        "timeline": [{"action": "file", "status": "filed", "date": row["filed_date"], "at": now.isoformat()}],
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


async def time_import(raw: bytes, rows: int, tmp: Path, broker: str | None) -> tuple[float, float, float | None]:
    """The import's seconds, the second import's, and (with a broker) how long after the first
    one's commit its relay took to publish every event it wrote."""
    bootstrap = broker or "127.0.0.1:1"
    async with running_app(create_app, "enforcement", tmp, bootstrap=bootstrap, relay=broker is not None) as (
        app,
        client,
    ):
        app.state.settings.import_job_rows = rows  # in the request: the same work a job does, timed directly
        app.state.settings.max_body_bytes = len(raw) + 1
        headers = {**auth("officer", ["420500"]), "Content-Type": "text/csv"}
        seconds = []
        published = None
        for _ in range(2):
            start = time.perf_counter()
            resp = await client.post("/cases/import", content=raw, headers=headers, timeout=None)
            seconds.append(time.perf_counter() - start)
            assert resp.status_code == 200, resp.text[:500]
            if broker is not None and published is None:
                committed = time.perf_counter()

                async def drained() -> bool:
                    return await unsent(app) == 0

                await wait_for(drained, timeout=3600, interval=0.1, what="every event published")
                published = time.perf_counter() - committed
        return seconds[0], seconds[1], published


async def unsent(app) -> int:
    async with app.state.session_factory() as session:
        query = select(func.count()).select_from(OutboxEvent).where(OutboxEvent.sent_at.is_(None))
        return (await session.execute(query)).scalar_one()


async def time_bare(rows: list[dict[str, str]], tmp: Path) -> float:
    async with database_url(tmp, "enforcement", migrated=True) as url:
        from zhichan.db import make_engine

        engine = make_engine(url)
        try:
            start = time.perf_counter()
            for i in range(0, len(rows), CHUNK):
                async with engine.begin() as conn:
                    await conn.execute(insert(Case), [bare_row(r) for r in rows[i : i + CHUNK]])
            return time.perf_counter() - start
        finally:
            await engine.dispose()


async def main(count: int, relay: bool) -> None:
    logging.disable(logging.INFO)
    rows = case_rows(count)
    raw = as_csv(rows)
    with tempfile.TemporaryDirectory() as bare_dir, tempfile.TemporaryDirectory() as import_dir:
        bare = await time_bare(rows, Path(bare_dir))
        before = peak_rss_mb()
        broker = EmbeddedBroker() if relay else None
        if broker is not None:
            broker.start()
            await ensure_topics(platform_for_tests(Path(import_dir), broker.bootstrap))
        try:
            first, again, published = await time_import(raw, count, Path(import_dir), broker and broker.bootstrap)
        finally:
            if broker is not None:
                broker.stop()
    print(f"host: {machine()} {host_speed()}")
    print(f"{count:,} rows, {len(raw) / 1e6:.1f} MB of CSV")
    print(f"bare insert      {bare:8.1f} s  {count / bare:9,.0f} rows/s")
    print(f"import (created) {first:8.1f} s  {count / first:9,.0f} rows/s  {bare / first:6.1%} of bare")
    print(f"import (again)   {again:8.1f} s  {count / again:9,.0f} rows/s  {bare / again:6.1%} of bare")
    if published is not None:
        print(f"relay: every event of the import published {published:.1f} s after its commit")
    print(f"peak RSS {before:,.0f} MB before the import, {peak_rss_mb():,.0f} MB after")
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--relay", action="store_true", help="publish to an embedded broker and time it")
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.relay))
