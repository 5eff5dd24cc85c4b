import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

import services.enforcement
from services.enforcement.app import create_app
from services.enforcement.models import Case
from zhichan.events.outbox import OutboxEvent
from zhichan.testing import auth, running_app
from zhichan.uscc import build_uscc

ZHENJIANG, JINGKOU, RUNZHOU = "321100", "321102", "321111"
PACKAGE_DIR = Path(services.enforcement.__file__).parent


@pytest.fixture
async def app_client(tmp_path):
    async with running_app(create_app, "enforcement", tmp_path) as pair:
        yield pair


@pytest.fixture
def app(app_client):
    return app_client[0]


@pytest.fixture
def client(app_client):
    return app_client[1]


@pytest.fixture
def officer():
    """An officer of the city: sees and writes its districts too."""
    return auth("officer", [ZHENJIANG])


def company(serial: int = 1, region: str = JINGKOU, name: str | None = None) -> dict:
    return {"name": name or f"镇江市某某贸易有限公司{serial}", "uscc": build_uscc(region, serial)}


def case_body(n: int = 1, region: str = JINGKOU, **overrides) -> dict:
    body = {
        "region": region,
        "case_number": f"镇京市监知立〔2025〕{n}号",
        "type": "trademark_infringement",
        "procedure": "administrative_penalty",
        "origin": "complaint",
        "respondent": company(n, region),
        "complainant": {"name": "某某（中国）有限公司"},
        "filed_date": "2025-03-03",
        "handling_unit": "京口分局",
    }
    body.update(overrides)
    return body


async def file_case(client, headers, **overrides) -> dict:
    resp = await client.post("/cases", json=case_body(**overrides), headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def step(client, case_id: str, action: str, headers, expect: int = 200, **body) -> dict:
    resp = await client.post(f"/cases/{case_id}/{action}", json=body or None, headers=headers)
    assert resp.status_code == expect, (action, resp.text)
    return resp.json()


async def run_steps(client, case_id: str, headers, *steps: tuple[str, str, dict]) -> dict:
    answer = {}
    for action, on, body in steps:
        answer = await step(client, case_id, action, headers, date=on, **body)
    return answer


async def outbox(app) -> list[dict]:
    async with app.state.session_factory() as session:
        rows = (await session.execute(select(OutboxEvent).order_by(OutboxEvent.id))).scalars()
        return [json.loads(r.envelope) for r in rows]


async def count_cases(app) -> int:
    async with app.state.session_factory() as session:
        return (await session.execute(select(func.count()).select_from(Case))).scalar_one()


async def events_match_their_contracts(app) -> list[str]:
    """Every event in the outbox parses as the payload model its type names; returns the types."""
    from services.enforcement.contracts import EVENTS

    types = []
    for event in await outbox(app):
        model, _summary = EVENTS[event["type"]]
        model.model_validate(event["data"])
        types.append(event["type"])
    return types
