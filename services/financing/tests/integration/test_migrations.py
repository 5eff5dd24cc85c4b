"""The migrations build exactly the tables the models describe, and undo them."""

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import services.financing
import services.financing.models  # noqa: F401 - the tables compared
import zhichan.events.consumer  # noqa: F401 - inbox and consumer positions
import zhichan.region_sync  # noqa: F401 - custom regions
from zhichan import migrate

PACKAGE_DIR = Path(services.financing.__file__).parent
SERVICE_TABLES = {
    "pledge",
    "ip_asset",
    "pledge_subsidy",
    "pledge_risk_compensation",
    "ip_transaction",
    "insurance_policy",
    "matchmaking_event",
}
KERNEL_TABLES = {"outbox", "relay_lease", "idempotency_key", "inbox", "consumer_position", "custom_region"}


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


def test_up_down_up(tmp_path):
    path = tmp_path / "financing.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(PACKAGE_DIR, url)
    assert inspect(path) == (SERVICE_TABLES | KERNEL_TABLES, [])
    migrate.downgrade(PACKAGE_DIR, url, "0001")
    assert inspect(path)[0] == {"outbox", "relay_lease", "idempotency_key"}
    migrate.upgrade(PACKAGE_DIR, url)
    assert inspect(path) == (SERVICE_TABLES | KERNEL_TABLES, [])
    migrate.downgrade(PACKAGE_DIR, url, "base")
    assert inspect(path)[0] == set()
