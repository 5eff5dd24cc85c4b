"""Write path: POST /agencies on the agencies service (validation, auth, idempotency middleware,
row + outbox in one transaction, relay publishing to the broker) against ``bench.bare`` inserting
the same row with no checks — same database kind, same table, same preloaded rows, same load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import insert

from bench import bodies
from bench.bare import agency_row
from bench.common import (
    ROOT,
    create_postgres_database,
    drop_postgres_database,
    free_port,
    percentile,
    run_load,
    run_sync,
    stop,
    wait_ready,
)
from services.agencies.models import Agency
from zhichan import migrate
from zhichan.db import make_engine
from zhichan.stack import Stack

AGENCIES_DIR = ROOT / "services" / "agencies"
PRELOAD_SERIAL = 10_000_000  # preloaded agencies' USCC serials; the load's start at 1


def prepare_database(kind: str, name: str, var_dir: Path, rows: int) -> str:
    """A fresh database of ``kind`` with the agencies schema and ``rows`` agencies already filed."""
    if kind == "sqlite":
        path = var_dir / f"{name}.db"
        for leftover in var_dir.glob(f"{name}.db*"):
            leftover.unlink()
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = create_postgres_database(name)
    migrate.upgrade(AGENCIES_DIR, url)

    async def preload() -> None:
        engine = make_engine(url)
        try:
            async with engine.begin() as conn:
                for start in range(0, rows, 5000):
                    batch = range(PRELOAD_SERIAL + start, PRELOAD_SERIAL + min(rows, start + 5000))
                    await conn.execute(insert(Agency), [agency_row(bodies.agency(n)) for n in batch])
        finally:
            await engine.dispose()

    if rows:
        run_sync(preload())
    return url


def discard_database(kind: str, name: str, var_dir: Path) -> None:
    if kind == "postgresql":
        drop_postgres_database(name)
    else:
        for leftover in var_dir.glob(f"{name}.db*"):
            leftover.unlink()


def load(url: str, concurrency: int, seconds: float) -> dict:
    result = run_load(
        {
            "mode": "closed",
            "url": url,
            "kind": "agency",
            "concurrency": concurrency,
            "seconds": seconds,
            "serial_start": 1,
        },
        timeout=seconds + 120,
    )
    lat = result["latencies_ms"]
    return {
        "rps": result["ok"] / result["seconds"],
        "p50": percentile(lat, 50),
        "p99": percentile(lat, 99),
        "ok": result["ok"],
        "errors": sum(v for k, v in result["statuses"].items() if k != "201"),
        "failures": result["failures"],
    }


def measure(stack: Stack, kind: str, rows: int, concurrency: int, seconds: float) -> dict:
    """One point: the service and the bare app, each on a fresh database holding ``rows`` agencies."""
    var_dir = stack.var_dir
    service_db, bare_db = f"bench_agencies_{kind}", f"bench_bare_{kind}"
    service_url = prepare_database(kind, service_db, var_dir, rows)
    stack.extra_env["AGENCIES_DATABASE_URL"] = service_url
    stack.start_process("agencies", port=free_port())
    try:
        stack.wait_ready(["agencies"])
        service = load(f"{stack.url('agencies')}/agencies", concurrency, seconds)
    finally:
        stack.stop_process("agencies")
        discard_database(kind, service_db, var_dir)

    bare_url = prepare_database(kind, bare_db, var_dir, rows)
    port = free_port()
    log_path = var_dir / "logs" / "bare.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.bare", bare_url, str(port)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", proc, log_path)
        bare = load(f"http://127.0.0.1:{port}/agencies", concurrency, seconds)
    finally:
        stop(proc)
        discard_database(kind, bare_db, var_dir)
    return {
        "database": kind,
        "rows": rows,
        "concurrency": concurrency,
        "seconds": seconds,
        "service": service,
        "bare": bare,
    }
