"""The migrations build exactly the tables the models describe, and undo them."""

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import services.enforcement.models  # noqa: F401 - the tables compared
from services.enforcement.tests.integration.conftest import PACKAGE_DIR
from zhichan import migrate

SERVICE_TABLES = {"enforcement_case", "campaign", "region_policy", "watchlist_entry"}
KERNEL_TABLES = {"outbox", "relay_lease", "idempotency_key"}


def tables(path: Path) -> set[str]:
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def drift(path: Path) -> list:
    """Differences between the migrated schema and this service's models (other services'
    models share the process-wide metadata and are left out)."""
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    finally:
        engine.dispose()

    def table_of(diff) -> str | None:
        item = diff[0] if isinstance(diff, list) else diff
        for part in item[1:]:
            name = getattr(part, "name", None) if isinstance(part, sa.Table) else getattr(part, "table", None)
            if isinstance(part, sa.Table):
                return name
            if name is not None:
                return name.name
            if isinstance(part, str) and part in SERVICE_TABLES | KERNEL_TABLES:
                return part
        return None

    return [d for d in diffs if table_of(d) in SERVICE_TABLES | KERNEL_TABLES]


def test_up_down_up(tmp_path):
    path = tmp_path / "enforcement.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(PACKAGE_DIR, url)
    assert tables(path) == SERVICE_TABLES | KERNEL_TABLES
    assert drift(path) == []
    migrate.downgrade(PACKAGE_DIR, url, "0001")
    assert tables(path) == KERNEL_TABLES
    migrate.upgrade(PACKAGE_DIR, url)
    assert tables(path) == SERVICE_TABLES | KERNEL_TABLES
    migrate.downgrade(PACKAGE_DIR, url, "base")
    assert tables(path) == set()
