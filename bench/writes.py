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


# Each side's load runs in slices, in the order service, bare, bare, service, service, … The
# host's speed drifts within minutes (bench.common.host_speed: one call into SQLite's thread took
# 44 µs in one hour and 86 in another); loading one side and then the other put that drift into
# the ratio: the same code read 63 % and 76 % on SQLite, 96 % and 70 % on PostgreSQL, in one run.
SLICES_PER_SIDE = 4
SLICE_SERIALS = 1_000_000  # each slice files agencies from its own range of USCC serials


def load_slice(url: str, concurrency: int, seconds: float, serial_start: int) -> dict:
    return run_load(
        {
            "mode": "closed",
            "url": url,
            "kind": "agency",
            "concurrency": concurrency,
            "seconds": seconds,
            "serial_start": serial_start,
        },
        timeout=seconds + 120,
    )


def combined(slices: list[dict]) -> dict:
    """One side's figures over all its slices."""
    latencies = [ms for s in slices for ms in s["latencies_ms"]]
    ok = sum(s["ok"] for s in slices)
    return {
        "rps": ok / sum(s["seconds"] for s in slices),
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "ok": ok,
        "errors": sum(v for s in slices for k, v in s["statuses"].items() if k != "201"),
        "failures": [f for s in slices for f in s["failures"]],
        "slices_rps": [round(s["ok"] / s["seconds"], 1) for s in slices],
    }


def measure(stack: Stack, kind: str, rows: int, concurrency: int, seconds: float) -> dict:
    """One point: the service and the bare app, each on a fresh database holding ``rows``
    agencies, both running, loaded in turns (``SLICES_PER_SIDE``) for ``seconds`` each in all."""
    var_dir = stack.var_dir
    service_db, bare_db = f"bench_agencies_{kind}", f"bench_bare_{kind}"
    service_url = prepare_database(kind, service_db, var_dir, rows)
    bare_url = prepare_database(kind, bare_db, var_dir, rows)
    stack.extra_env["AGENCIES_DATABASE_URL"] = service_url
    bare_port = free_port()
    log_path = var_dir / "logs" / "bare.log"
    bare_proc = None
    try:
        stack.start_process("agencies", port=free_port())
        with open(log_path, "ab") as log:
            bare_proc = subprocess.Popen(
                [sys.executable, "-m", "bench.bare", bare_url, str(bare_port)],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        stack.wait_ready(["agencies"])
        wait_ready(f"http://127.0.0.1:{bare_port}/readyz", bare_proc, log_path)
        urls = {"service": f"{stack.url('agencies')}/agencies", "bare": f"http://127.0.0.1:{bare_port}/agencies"}
        order = [side for i in range(SLICES_PER_SIDE) for side in (("service", "bare"), ("bare", "service"))[i % 2]]
        slices: dict[str, list[dict]] = {"service": [], "bare": []}
        for i, side in enumerate(order):
            slices[side].append(
                load_slice(urls[side], concurrency, seconds / SLICES_PER_SIDE, serial_start=1 + i * SLICE_SERIALS)
            )
    finally:
        stack.stop_process("agencies")
        if bare_proc is not None:
            stop(bare_proc)
        discard_database(kind, service_db, var_dir)
        discard_database(kind, bare_db, var_dir)
    return {
        "database": kind,
        "rows": rows,
        "concurrency": concurrency,
        "seconds": seconds,
        "slices_per_side": SLICES_PER_SIDE,
        "service": combined(slices["service"]),
        "bare": combined(slices["bare"]),
    }
