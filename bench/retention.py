"""The gateway's database size after a city's log, before and after retention.

Measured on the database ``zhichan gateway rebuild`` left (every event's id in the inbox, as a
live-consumed log leaves it too; the recent events already cut to the newest per region, which a
live-consumed log reaches at the first prune), then pruned as the gateway's task would once the
inbox retention has passed — ``GATEWAY_INBOX_RETENTION_DAYS`` after the rebuild, with no event
since — and finally VACUUMed. SQLite reuses the pages a prune frees for new rows, so the file
stops growing at the pruned size rather than shrinks; VACUUM gives the space back."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from datetime import timedelta
from pathlib import Path

from gateway.retention import prune_recent_events
from gateway.settings import GatewaySettings
from zhichan.clock import utcnow
from zhichan.db import make_engine, make_session_factory
from zhichan.events.retention import prune_inbox

TABLES = ("inbox", "recent_event", "aggregate_facts", "series_daily", "series_monthly")
MB = 1_000_000


def database_path(url: str) -> Path:
    if not url.startswith("sqlite"):
        raise ValueError(f"the retention benchmark measures a SQLite file, not {url}")
    return Path(url.split("///", 1)[1])


def sizes(path: Path) -> dict:
    """The file (and its WAL), the pages in use, the rows and the bytes of the tables that grow."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        rows = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in TABLES}  # noqa: S608
        try:  # the dbstat table, where SQLite was built with it: bytes per table and its indexes
            stat = dict(
                conn.execute(
                    "SELECT coalesce(m.tbl_name, s.name), sum(s.pgsize) FROM dbstat s "
                    "LEFT JOIN sqlite_master m ON m.name = s.name GROUP BY 1"
                ).fetchall()
            )
            table_mb = {t: round(stat.get(t, 0) / MB, 1) for t in TABLES}
        except sqlite3.OperationalError:
            table_mb = {}
    wal = path.with_name(path.name + "-wal")
    return {
        "file_mb": round((path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)) / MB, 1),
        "in_use_mb": round((pages - free) * page_size / MB, 1),
        "rows": rows,
        "table_mb": table_mb,
    }


async def _prune(url: str, settings: GatewaySettings) -> dict:
    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        started = time.perf_counter()
        # As the gateway's task would prune once the retention has passed with no event since.
        later = utcnow() + timedelta(days=settings.inbox_retention_days, hours=1)
        inbox = await prune_inbox(factory, timedelta(days=settings.inbox_retention_days), now=later)
        recent = await prune_recent_events(factory, settings.recent_events_per_region)
        return {"inbox": inbox, "recent_event": recent, "seconds": round(time.perf_counter() - started, 1)}
    finally:
        await engine.dispose()


def measure(url: str, settings: GatewaySettings) -> dict:
    """Sizes after the rebuild, after the prune, after VACUUM (the gateway stopped)."""
    path = database_path(url)
    _sql(path, "PRAGMA wal_checkpoint(TRUNCATE)")  # the WAL's pages written back: the file is the database
    before = sizes(path)
    pruned = asyncio.run(_prune(url, settings))
    _sql(path, "PRAGMA wal_checkpoint(TRUNCATE)")
    after = sizes(path)
    started = time.perf_counter()
    _sql(path, "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)")
    vacuum_seconds = round(time.perf_counter() - started, 1)
    return {
        "retention_days": settings.inbox_retention_days,
        "recent_events_per_region": settings.recent_events_per_region,
        "before": before,
        "pruned": pruned,
        "after_prune": after,
        "after_vacuum": sizes(path),
        "vacuum_seconds": vacuum_seconds,
    }


def _sql(path: Path, *statements: str) -> None:
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        for statement in statements:
            conn.execute(statement)
