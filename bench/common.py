"""What every benchmark shares: the machine, free ports, percentiles, child processes, PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432")
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list (NaN when empty)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(p / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def run_sync(coro):
    """Runs a coroutine to completion from sync code even when a loop is already running."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def git_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    dirty = " (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else ""
    return f"{git('rev-parse', '--short', 'HEAD')}{dirty}"


def postgres_version() -> str:
    import asyncpg

    async def ask() -> str:
        conn = await asyncpg.connect(plain_postgres(POSTGRES_SERVER) + "/postgres")
        try:
            return (await conn.fetchval("SHOW server_version")).split()[0]
        finally:
            await conn.close()

    try:
        return run_sync(ask())
    except (OSError, asyncpg.PostgresError) as exc:
        return f"unavailable ({exc.__class__.__name__})"


def machine() -> dict[str, str]:
    import sqlite3

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version(),
        "commit": git_commit(),
    }


def host_speed() -> dict[str, float]:
    """CPU cost of two fixed pieces of work, in µs: a pure-Python loop, and one call into
    aiosqlite's thread (a SELECT 1 there and back), the platform's commonest overhead. Taken at
    the start and the end of a run: this VM's speed drifts with its neighbours (seen here: the
    thread call at 44 µs, and at 67–86 µs half an hour later), and ratios taken in one run are
    only comparable across runs when these are."""
    import sqlite3  # noqa: F401 - aiosqlite needs it

    import aiosqlite

    started = time.process_time()
    total = 0
    for n in range(200_000):
        total += n % 7
    python_loop = (time.process_time() - started) * 1e6 / 200

    async def thread_calls() -> float:
        async with aiosqlite.connect(":memory:") as conn:
            for _ in range(200):
                await conn.execute("SELECT 1")
            started = time.process_time()
            for _ in range(2000):
                await conn.execute("SELECT 1")
            return (time.process_time() - started) * 1e6 / 2000

    return {"python_loop_1000_us": round(python_loop, 1), "thread_call_us": round(run_sync(thread_calls()), 1)}


def plain_postgres(server: str) -> str:
    return server.replace("postgresql+asyncpg://", "postgresql://").rstrip("/")


def create_postgres_database(name: str) -> str:
    """A fresh PostgreSQL database (dropped first if a crashed run left it); its SQLAlchemy URL."""
    _postgres([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'])
    return f"{POSTGRES_SERVER.rstrip('/')}/{name}"


def drop_postgres_database(name: str) -> None:
    _postgres([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])


def _postgres(statements: list[str]) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(plain_postgres(POSTGRES_SERVER) + "/postgres")
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    run_sync(run())


def wait_ready(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited with {proc.returncode}; see {log}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout}s; see {log}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_load(spec: dict, timeout: float) -> dict:
    """Runs the load client (``bench.load``) in a process of its own and returns its result."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.load", json.dumps(spec)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if out.returncode != 0:
        raise RuntimeError(f"load client failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout)
