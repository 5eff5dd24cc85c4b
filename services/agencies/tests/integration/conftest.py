import json

import pytest
from sqlalchemy import func, select

from services.agencies.app import create_app
from services.agencies.settings import AgenciesRules
from zhichan.events.outbox import OutboxEvent
from zhichan.testing import auth, running_app
from zhichan.uscc import build_uscc


@pytest.fixture
def start_app(tmp_path):
    """Starts the app on a fresh database, with the given supervision rules (default: configured)."""

    def start(rules: AgenciesRules | None = None):
        return running_app(lambda **kwargs: create_app(rules=rules, **kwargs), "agencies", tmp_path)

    return start


@pytest.fixture
async def app_client(start_app):
    async with start_app() as pair:
        yield pair


@pytest.fixture
def client(app_client):
    return app_client[1]


@pytest.fixture
def officer():
    return auth("officer", ["320311"])


def agency_body(serial: int = 1, region: str = "320311", **overrides) -> dict:
    body = {
        "name": f"徐州知信专利代理事务所{serial}",
        "uscc": build_uscc(region, serial),
        "region": region,
        "address": "徐州市泉山区解放南路1号",
        "service_types": ["patent_agency", "consulting"],
        "licence_numbers": [f"32{serial:03d}"],
        "offline": True,
        "in_cluster": False,
        "brand_level": "none",
    }
    body.update(overrides)
    return body


async def active_agency(client, headers, serial: int = 1, region: str = "320311", **overrides) -> dict:
    """An approved agency, filed (by default) early in 2023 so past years can be reported on."""
    body = agency_body(serial, region=region, **{"filed_on": "2023-01-05", **overrides})
    agency = (await client.post("/agencies", json=body, headers=headers)).json()
    approved = await client.post(f"/agencies/{agency['id']}/approve", json={"date": body["filed_on"]}, headers=headers)
    assert approved.status_code == 200, approved.text
    return approved.json()


async def outbox_types(app) -> list[str]:
    async with app.state.session_factory() as session:
        return list((await session.execute(select(OutboxEvent.type).order_by(OutboxEvent.id))).scalars())


async def outbox_envelopes(app, event_type: str | None = None) -> list[dict]:
    query = select(OutboxEvent).order_by(OutboxEvent.id)
    if event_type:
        query = query.where(OutboxEvent.type == event_type)
    async with app.state.session_factory() as session:
        return [json.loads(row.envelope) for row in (await session.execute(query)).scalars()]


async def count_rows(app, model) -> int:
    async with app.state.session_factory() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


def assert_problem(resp, status: int, field: str | None = None) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    problem = resp.json()
    if field is not None:
        assert any(field in [str(p) for p in e["loc"]] for e in problem["errors"]), problem
    return problem


async def collect_pages(client, path: str, headers: dict | None = None, **params) -> list[dict]:
    """Every item of a paginated list, following next_cursor."""
    items, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        resp = await client.get(path, params=query, headers=headers or {})
        assert resp.status_code == 200, resp.text
        page = resp.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


async def assert_each_refused(app, send, cases, model=None, status: int = 422) -> None:
    """Sends each bad request in turn: each must answer a problem naming its field and leave no
    row of ``model`` and no event behind."""
    events = await outbox_types(app)
    rows = await count_rows(app, model) if model is not None else None
    for payload, field in cases:
        resp = await send(payload)
        try:
            assert_problem(resp, status, field)
        except AssertionError as exc:
            raise AssertionError(f"{payload!r} → {exc}") from None
        assert await outbox_types(app) == events, f"{payload!r} left an event"
        if model is not None:
            assert await count_rows(app, model) == rows, f"{payload!r} left a row"
