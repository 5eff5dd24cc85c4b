import json

import pytest
from sqlalchemy import func, select

from services.financing.app import create_app
from services.financing.contracts import EVENTS
from zhichan.events.outbox import OutboxEvent
from zhichan.testing import auth, csv_file, running_app
from zhichan.uscc import build_uscc

XUZHOU, QUANSHAN, GULOU = "320300", "320311", "320302"  # 徐州市 and two of its districts
FUZHOU_GULOU = "350102"  # 福州市鼓楼区, another province


@pytest.fixture
async def app_client(tmp_path):
    async with running_app(create_app, "financing", tmp_path) as pair:
        yield pair


@pytest.fixture
def client(app_client):
    return app_client[1]


@pytest.fixture
def officer():
    return auth("officer", [XUZHOU])


@pytest.fixture
def admin():
    return auth("admin")


def asset(type_: str = "patent", number: str = "ZL202310000001.1", title: str = "一种锂电池隔膜") -> dict:
    return {"type": type_, "number": number, "title": title}


def pledge_body(serial: int = 1, region: str = QUANSHAN, **overrides) -> dict:
    body = {
        "region": region,
        "registration_number": f"Y2025{serial:06d}",
        "pledgor_name": f"徐州某某新材料有限公司{serial}",
        "pledgor_uscc": build_uscc(region, serial),
        "pledgee": "中国银行徐州分行",
        "assets": [asset(number=f"ZL2023100{serial:05d}.1")],
        "loan_amount": "5000000.00",
        "registered_on": "2025-03-01",
        "loan_term_start": "2025-03-01",
        "loan_term_end": "2026-02-28",
        "guarantee_mode": "direct",
        "valuation": "8000000.00",
        "appraisal_agency_uscc": build_uscc("320311", 900),
    }
    body.update(overrides)
    return body


def party(name: str, region: str = QUANSHAN, serial: int = 500) -> dict:
    return {"name": name, "uscc": build_uscc(region, serial)}


def transaction_body(serial: int = 1, region: str = QUANSHAN, **overrides) -> dict:
    body = {
        "region": region,
        "type": "licence",
        "record_number": f"X2025{serial:06d}",
        "grantor": party("徐州工程学院", region, 600 + serial),
        "grantee": party(f"徐州某某装备有限公司{serial}", region, 700 + serial),
        "assets": [asset(number=f"ZL2022100{serial:05d}.X"), asset("patent", f"ZL2022200{serial:05d}.3")],
        "amount": "300000.00",
        "contract_date": "2025-04-01",
        "recorded_on": "2025-04-15",
    }
    body.update(overrides)
    return body


def policy_body(serial: int = 1, region: str = QUANSHAN, **overrides) -> dict:
    body = {
        "region": region,
        "policy_number": f"PICC2025{serial:06d}",
        "insurer": "中国人民财产保险股份有限公司徐州市分公司",
        "insured": party(f"徐州某某科技有限公司{serial}", region, 800 + serial),
        "assets": [asset(number=f"ZL2021100{serial:05d}.5"), asset("trademark", f"{30000000 + serial}", "某某")],
        "insured_amount": "1000000.00",
        "premium": "12000.00",
        "period_start": "2025-05-01",
        "period_end": "2026-04-30",
    }
    body.update(overrides)
    return body


def matchmaking_body(region: str = QUANSHAN, **overrides) -> dict:
    body = {
        "region": region,
        "title": "知识产权质押融资银企对接会",
        "held_on": "2025-06-18",
        "organiser": "徐州市市场监督管理局",
        "banks": ["中国银行徐州分行", "江苏银行徐州分行"],
        "enterprises_attending": 42,
        "intended_amount": "120000000.00",
        "signed_amount": "35000000.50",
    }
    body.update(overrides)
    return body


async def outbox_rows(app) -> list[OutboxEvent]:
    async with app.state.session_factory() as session:
        return list((await session.execute(select(OutboxEvent).order_by(OutboxEvent.id))).scalars())


async def count_rows(app, model) -> int:
    async with app.state.session_factory() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def events_match_their_contracts(app) -> list[dict]:
    """Every event in the outbox parses as the payload its type names; answers the envelopes."""
    envelopes = [json.loads(row.envelope) for row in await outbox_rows(app)]
    for envelope in envelopes:
        EVENTS[envelope["type"]][0].model_validate(envelope["data"])
    return envelopes


async def import_csv(client, headers, records: str, rows: list[dict], expect: int = 200, query: str = "") -> dict:
    """The answer to an import of ``rows`` as a CSV file, asserted to be ``expect``."""
    resp = await client.post(
        f"/{records}/import{query}", content=csv_file(rows), headers={**headers, "Content-Type": "text/csv"}
    )
    assert resp.status_code == expect, resp.text
    return resp.json()
