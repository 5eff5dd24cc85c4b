#!/usr/bin/env python
"""Wait until a process's database is at the head of its migrations, then exit 0 (exit 1 at the
deadline). Kubernetes runs it as the init container of every replica: the migrate Job runs
``zhichan migrate`` once (Alembic has no lock, replicas must not race it), and no replica may
start on a schema older than its code — neither at the first deployment nor at an upgrade.

    zhichan-wait-for-schema <process> [--timeout SECONDS]

The database URL comes from ``<PROCESS>_DATABASE_URL``, as for ``zhichan serve``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from zhichan.cli import package_dir
from zhichan.db import make_engine
from zhichan.migrate import alembic_config
from zhichan.settings import platform_settings, process_settings
from zhichan.stack import PROCESSES


async def applied_heads(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_heads()))
    finally:
        await engine.dispose()


def schema_state(process: str) -> tuple[set[str], set[str] | None]:
    """(the heads of the code's migrations, the heads applied to the database or None if unreachable)"""
    url = process_settings(process).resolved_database_url(platform_settings())
    wanted = set(ScriptDirectory.from_config(alembic_config(package_dir(process), url)).get_heads())
    try:
        return wanted, asyncio.run(applied_heads(url))
    except (OSError, SQLAlchemyError):
        return wanted, None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="zhichan-wait-for-schema", description=__doc__.splitlines()[0])
    parser.add_argument("process", choices=PROCESSES)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait at most (default 600)")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between looks (default 2)")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.timeout
    while True:
        wanted, applied = schema_state(args.process)
        if applied == wanted:
            print(f"{args.process}: schema at {', '.join(sorted(wanted))}", flush=True)
            return 0
        if time.monotonic() >= deadline:
            found = "database unreachable" if applied is None else f"at {', '.join(sorted(applied)) or 'no revision'}"
            print(f"{args.process}: {found}, wanted {', '.join(sorted(wanted))}; is the migrate job done?", flush=True)
            return 1
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
