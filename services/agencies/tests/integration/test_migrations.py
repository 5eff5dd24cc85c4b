"""The migrations build exactly the tables the models describe, undo them, and keep the complaints
stored before a complaint recorded the years its deadline was counted with."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import httpx
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import services.agencies
import services.agencies.models  # noqa: F401 - the tables compared
import zhichan.events.consumer  # noqa: F401 - inbox and consumer positions
import zhichan.region_sync  # noqa: F401 - custom regions
from services.agencies.app import create_app
from services.agencies.settings import AgenciesRules
from services.agencies.tests.integration.conftest import active_agency
from services.agencies.tests.unit.test_provisional_deadlines import BEFORE_2027, WITH_2027
from zhichan import migrate
from zhichan.settings import process_settings
from zhichan.testing import auth, platform_for_tests

PACKAGE_DIR = Path(services.agencies.__file__).parent
SERVICE_TABLES = {
    "agency",
    "practitioner",
    "annual_report",
    "complaint",
    "credit_entry",
    "inspection_draw",
    "inspection",
    "evaluation",
}
KERNEL_TABLES = {"outbox", "relay_lease", "idempotency_key", "inbox", "consumer_position", "custom_region"}
OFFICER = auth("officer", ["320311"])


def inspect(path: Path) -> tuple[set[str], list]:
    """The tables in the database, and how they differ from this service's models (the
    process-wide metadata also holds other services' tables, which are left out)."""
    ours = sa.MetaData()
    for name in SERVICE_TABLES | KERNEL_TABLES:
        SQLModel.metadata.tables[name].to_metadata(ours)
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
            return tables, compare_metadata(MigrationContext.configure(conn), ours)
    finally:
        engine.dispose()


def complaint_columns(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[1] for row in conn.execute("PRAGMA table_info(complaint)")}


def test_up_down_up(tmp_path):
    path = tmp_path / "agencies.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(PACKAGE_DIR, url)
    assert inspect(path) == (SERVICE_TABLES | KERNEL_TABLES, [])
    migrate.downgrade(PACKAGE_DIR, url, "0003")
    assert "deadline_known_through" not in complaint_columns(path)
    migrate.upgrade(PACKAGE_DIR, url)
    assert inspect(path) == (SERVICE_TABLES | KERNEL_TABLES, [])
    migrate.downgrade(PACKAGE_DIR, url, "base")
    assert inspect(path)[0] == set()


async def test_a_provisional_complaint_stored_before_the_upgrade_is_counted_again(tmp_path):
    """Received (and stored) by the release before 0004, which did not record the calendar's last
    year: after the upgrade the column is null, and a calendar that knows 2027 counts it again."""
    path = tmp_path / "agencies.db"
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(migrate.upgrade, PACKAGE_DIR, url)

    def app(calendar):
        return create_app(
            rules=AgenciesRules(complaint_handling_working_days=60),
            calendar=calendar,
            settings=process_settings("agencies", database_url=url, relay_enabled=False, migrate_on_start=False),
            platform=platform_for_tests(tmp_path),
        )

    old = app(BEFORE_2027)
    async with old.router.lifespan_context(old):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=old), base_url="http://test") as client:
            agency = await active_agency(client, OFFICER)
            body = {"agency_id": agency["id"], "channel": "letter", "received_on": "2026-12-01", "content": "虚假宣传"}
            complaint = (await client.post("/complaints", json=body, headers=OFFICER)).json()
    assert (complaint["deadline"], complaint["deadline_provisional"]) == ("2027-02-23", True)

    await asyncio.to_thread(migrate.downgrade, PACKAGE_DIR, url, "0003")  # as the previous release stored it
    await asyncio.to_thread(migrate.upgrade, PACKAGE_DIR, url)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT deadline, deadline_known_through FROM complaint").fetchall() == [
            ("2027-02-23", None)
        ]

    new = app(WITH_2027)
    async with new.router.lifespan_context(new):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=new), base_url="http://test") as client:
            moved = (await client.get(f"/complaints/{complaint['id']}", headers=OFFICER)).json()
    assert (moved["deadline"], moved["deadline_provisional"], moved["deadline_known_through"]) == (
        "2027-03-02",
        False,
        2027,
    )
