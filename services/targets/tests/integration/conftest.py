"""The targets API tests share one app (see ../conftest.py) whose tables are emptied per test."""

import json
from pathlib import Path

import pytest
import pytest_asyncio
import yaml
from sqlalchemy import func, select, text

from services.targets.models import Indicator, Plan, ProgressReport, Task
from services.targets.tests.conftest import service
from services.targets.tests.unit.test_plan_document import plan_file
from zhichan.events.outbox import OutboxEvent
from zhichan.region_sync import CustomRegion
from zhichan.testing import auth

DEMO_PLANS = Path(__file__).parents[4] / "demo" / "plans"
YAML = {"Content-Type": "application/yaml"}
PLAN = "zj-2024"  # the key of plan_file()


# Emptied before each test, children before parents.
TABLES = (
    "statistic_release",
    "statistic_definition",
    "progress_report",
    "round_submission",
    "indicator",
    "task",
    "plan",
    "custom_region",
    "outbox",
    "idempotency_key",
)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def shared_app(migrated_template, tmp_path_factory):
    async with service(migrated_template, tmp_path_factory.mktemp("targets")) as pair:
        yield pair


@pytest_asyncio.fixture(loop_scope="session")
async def app_client(shared_app):
    """The shared app, its database emptied: each test starts from nothing."""
    app, _client = shared_app
    async with app.state.session_factory() as session:
        for table in TABLES:
            await session.execute(text(f"DELETE FROM {table}"))
        await session.commit()
    return shared_app


@pytest.fixture
def client(app_client):
    return app_client[1]


@pytest.fixture
def officer():
    """An officer of 镇江市: the zone of plan_file() lies in it."""
    return auth("officer", ["321100"])


class _PlainDumper(yaml.SafeDumper):
    """Writes a shared object twice rather than as an alias: plan files take no aliases."""

    def ignore_aliases(self, data) -> bool:
        return True


def as_yaml(document: dict) -> bytes:
    return yaml.dump(document, Dumper=_PlainDumper, allow_unicode=True, sort_keys=False).encode()


async def import_plan(client, headers, document: dict | None = None, **changes):
    body = as_yaml(document or plan_file(**changes))
    return await client.post("/plans/import", content=body, headers={**headers, **YAML})


async def imported(client, headers, document: dict | None = None, **changes) -> dict:
    resp = await import_plan(client, headers, document, **changes)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


async def outbox(app) -> list[dict]:
    """The events written so far: their envelopes, in order."""
    async with app.state.session_factory() as session:
        rows = (await session.execute(select(OutboxEvent).order_by(OutboxEvent.id))).scalars()
        return [json.loads(r.envelope) for r in rows]


async def event_types(app) -> list[str]:
    return [e["type"] for e in await outbox(app)]


async def row_counts(app) -> dict[str, int]:
    async with app.state.session_factory() as session:
        counts = {}
        for model in (Plan, Indicator, Task, ProgressReport, CustomRegion, OutboxEvent):
            counts[model.__tablename__] = (await session.execute(select(func.count()).select_from(model))).scalar_one()
        return counts
