"""The migrations build exactly the tables the models describe, undo them, and bring the
indicators stored before ranges and trajectories along unchanged in meaning."""

import json
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import services.targets.models  # noqa: F401 - the tables compared
import zhichan.api.idempotency  # noqa: F401 - idempotency keys
import zhichan.events.consumer  # noqa: F401 - inbox and consumer positions
import zhichan.region_sync  # noqa: F401 - custom regions
from services.targets.tests.conftest import SERVICE_DIR
from zhichan import migrate

STATISTIC_TABLES = {"statistic_definition", "statistic_release"}
SERVICE_TABLES = {"plan", "indicator", "task", "progress_report", "round_submission", *STATISTIC_TABLES}
KERNEL_TABLES = {"outbox", "relay_lease", "idempotency_key", "inbox", "consumer_position", "custom_region"}
NEW_COLUMNS = {"target_max", "milestone_maxima", "trajectory"}


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


def indicator_columns(path: Path) -> set[str]:
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return {c["name"] for c in sa.inspect(conn).get_columns("indicator")}
    finally:
        engine.dispose()


def test_up_down_up(tmp_path):
    path = tmp_path / "targets.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(SERVICE_DIR, url)
    assert inspect(path) == (SERVICE_TABLES | KERNEL_TABLES, [])
    migrate.downgrade(SERVICE_DIR, url, "0005")
    assert inspect(path)[0] == (SERVICE_TABLES - {"round_submission"}) | KERNEL_TABLES
    migrate.downgrade(SERVICE_DIR, url, "0004")
    assert inspect(path)[0] == (SERVICE_TABLES - STATISTIC_TABLES - {"round_submission"}) | KERNEL_TABLES
    migrate.downgrade(SERVICE_DIR, url, "0002")
    assert not NEW_COLUMNS & indicator_columns(path)
    migrate.downgrade(SERVICE_DIR, url, "0001")
    assert inspect(path)[0] == {"outbox", "relay_lease", "idempotency_key"}
    migrate.upgrade(SERVICE_DIR, url)
    assert inspect(path) == (SERVICE_TABLES | KERNEL_TABLES, [])
    migrate.downgrade(SERVICE_DIR, url, "base")
    assert inspect(path)[0] == set()


def test_indicators_stored_before_are_single_figures_on_a_linear_path(tmp_path):
    path = tmp_path / "targets.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(SERVICE_DIR, url, "0002")
    now = "2026-11-24 10:00:00.000000"
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    'INSERT INTO plan (id, key, region, title, start, "end", status, regions, status_history,'
                    " version, created_at, updated_at) VALUES ('p1', 'zj', '321100', '方案', '2024-01-01',"
                    " '2026-12-31', 'draft', '[]', '[]', 1, :now, :now)"
                ),
                {"now": now},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO indicator (id, plan_id, key, position, name, category, unit, measure, direction,"
                    " nature, target, milestones, responsible, source_filters, version, created_at, updated_at)"
                    " VALUES ('i1', 'p1', 'patents', 0, '专利', 'creation', '件', 'stock', 'at_least', 'expected',"
                    " '850', :milestones, '[]', '{}', 1, :now, :now)"
                ),
                {"now": now, "milestones": json.dumps({"2024": "750"})},
            )
        migrate.upgrade(SERVICE_DIR, url)
        with engine.connect() as conn:
            row = conn.execute(
                sa.text("SELECT target, target_max, milestones, milestone_maxima, trajectory FROM indicator")
            ).one()
        assert (row.target, row.target_max, json.loads(row.milestones)) == ("850", None, {"2024": "750"})
        assert (json.loads(row.milestone_maxima), row.trajectory) == ({}, "linear")
        migrate.downgrade(SERVICE_DIR, url, "0002")
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT key, target FROM indicator")).one() == ("patents", "850")
    finally:
        engine.dispose()


def test_an_indicators_metric_and_filters_become_its_source_document_and_back(tmp_path):
    path = tmp_path / "targets.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(SERVICE_DIR, url, "0003")
    now = "2026-12-04 10:00:00.000000"
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    'INSERT INTO plan (id, key, region, title, start, "end", status, regions, status_history,'
                    " version, created_at, updated_at) VALUES ('p1', 'zj', '321100', '方案', '2024-01-01',"
                    " '2026-12-31', 'draft', '[]', '[]', 1, :now, :now)"
                ),
                {"now": now},
            )
            insert = sa.text(
                "INSERT INTO indicator (id, plan_id, key, position, name, category, unit, measure, direction,"
                " nature, target, milestones, milestone_maxima, trajectory, responsible, source_metric,"
                " source_filters, version, created_at, updated_at) VALUES (:id, 'p1', :id, 0, '指标', 'creation',"
                " '件', 'cumulative', 'at_least', 'expected', '500', '{}', '{}', 'linear', '[]', :metric, :filters,"
                " 1, :now, :now)"
            )
            filters = json.dumps({"type": ["transfer", "licence"]})
            licences = {"id": "licences", "metric": "financing.transaction_count", "filters": filters, "now": now}
            conn.execute(insert, licences)
            conn.execute(insert, {"id": "grants", "metric": None, "filters": "{}", "now": now})
        migrate.upgrade(SERVICE_DIR, url, "0004")
        with engine.connect() as conn:
            sources = dict(conn.execute(sa.text("SELECT key, source FROM indicator")).all())
        assert json.loads(sources["licences"]) == {
            "metric": "financing.transaction_count",
            "filters": {"type": ["transfer", "licence"]},
        }
        assert sources["grants"] is None  # reported
        migrate.downgrade(SERVICE_DIR, url, "0003")
        with engine.connect() as conn:
            rows = {r.key: r for r in conn.execute(sa.text("SELECT key, source_metric, source_filters FROM indicator"))}
        assert rows["licences"].source_metric == "financing.transaction_count"
        assert json.loads(rows["licences"].source_filters) == {"type": ["transfer", "licence"]}
        assert (rows["grants"].source_metric, json.loads(rows["grants"].source_filters)) == (None, {})
    finally:
        engine.dispose()
