"""Every refusal of bad input, through the app: a 422 problem naming the field, and nothing
written (no row, no event). The cases share one app, so each checks that the database is the
same after its request as before."""

from types import SimpleNamespace

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from services.financing.app import create_app
from services.financing.models import (
    InsurancePolicy,
    IpAsset,
    IpTransaction,
    MatchmakingEvent,
    Pledge,
    PledgeRiskCompensation,
    PledgeSubsidy,
)
from services.financing.tests.integration.conftest import (
    XUZHOU,
    asset,
    matchmaking_body,
    pledge_body,
    policy_body,
    transaction_body,
)
from zhichan.events.outbox import OutboxEvent
from zhichan.testing import auth, running_app

pytestmark = pytest.mark.asyncio(loop_scope="module")

TABLES = (Pledge, IpAsset, PledgeSubsidy, PledgeRiskCompensation, IpTransaction, InsurancePolicy, MatchmakingEvent)
OFFICER = auth("officer", [XUZHOU])


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(tmp_path_factory):
    async with running_app(create_app, "financing", tmp_path_factory.mktemp("refusals")) as (app, client):
        registered = (await client.post("/pledges", json=pledge_body(1), headers=OFFICER)).json()["id"]
        defaulted = (await client.post("/pledges", json=pledge_body(2), headers=OFFICER)).json()["id"]
        resp = await client.post(
            f"/pledges/{defaulted}/default", json={"date": "2025-08-01", "outstanding": "2000"}, headers=OFFICER
        )
        assert resp.status_code == 200, resp.text
        yield SimpleNamespace(app=app, client=client, registered=registered, defaulted=defaulted)


async def snapshot(app) -> dict[str, int]:
    async with app.state.session_factory() as session:
        counts = {}
        for model in (*TABLES, OutboxEvent):
            counts[model.__name__] = (await session.execute(select(func.count()).select_from(model))).scalar_one()
        versions = (await session.execute(select(func.sum(Pledge.version)))).scalar_one()
        return {**counts, "pledge versions": versions}


def case(path: str, body: dict, field: str, method: str = "POST"):
    return pytest.param(method, path, body, field, id=f"{method} {path.split('/')[-1]} {field}")


PLEDGE_CASES = [
    ({"loan_amount": "1000.001"}, "loan_amount"),
    ({"loan_amount": "0"}, "loan_amount"),
    ({"loan_amount": "0.00"}, "loan_amount"),
    ({"loan_amount": "-5.00"}, "loan_amount"),
    ({"loan_amount": 1000.5}, "loan_amount"),
    ({"loan_amount": "1e3x"}, "loan_amount"),
    ({"loan_amount": "NaN"}, "loan_amount"),
    ({"loan_amount": "100000000000.01"}, "loan_amount"),
    ({"valuation": "0.00"}, "valuation"),
    ({"valuation": "10.123"}, "valuation"),
    ({"loan_term_start": "2025-03-01", "loan_term_end": "2025-02-28"}, "loan_term_end"),
    ({"loan_term_start": "2025-03-01", "loan_term_end": "2025-03-01"}, "loan_term_end"),
    ({"registered_on": "2999-01-01"}, "registered_on"),
    ({"registered_on": "2025-02-30"}, "registered_on"),
    ({"pledgor_uscc": "91320311MA1R7J8H40"}, "pledgor_uscc"),
    ({"appraisal_agency_uscc": "not-a-uscc"}, "appraisal_agency_uscc"),
    ({"region": "999999"}, "region"),
    ({"assets": []}, "assets"),
    ({"assets": [asset("utility_model")]}, "assets"),
    ({"assets": [asset(), asset()]}, "assets"),
    ({"assets": [{"type": "patent", "number": " ", "title": "x"}]}, "assets"),
    ({"guarantee_mode": "handshake"}, "guarantee_mode"),
    ({"pledgee": "  "}, "pledgee"),
    ({"registration_number": ""}, "registration_number"),
    ({"unexpected": 1}, "unexpected"),
]
SUBSIDY = {"amount": "1000", "period_start": "2025-03-01", "period_end": "2025-12-31", "approving_body": "市局"}
CLAIM = {"claimed_on": "2025-09-01", "claim_amount": "1000", "paid_amount": "500"}
TRANSACTION_CASES = [
    ({"amount": "10.001"}, "amount"),
    ({"amount": "-1"}, "amount"),
    ({"contract_date": "2025-04-16", "recorded_on": "2025-04-15"}, "contract_date"),
    ({"recorded_on": "2999-01-01"}, "recorded_on"),
    ({"type": "gift"}, "type"),
    ({"grantor": {"name": "某公司", "uscc": "91320311MA1R7J8H40"}}, "grantor"),
    ({"grantee": {"name": ""}}, "grantee"),
    ({"assets": []}, "assets"),
    ({"assets": [asset(), asset()]}, "assets"),
    ({"region": "999999"}, "region"),
]
POLICY_CASES = [
    ({"insured_amount": "0"}, "insured_amount"),
    ({"premium": "-0.01"}, "premium"),
    ({"premium": "1.001"}, "premium"),
    ({"period_start": "2025-05-01", "period_end": "2025-04-30"}, "period_end"),
    ({"period_start": "2025-05-01", "period_end": "2025-05-01"}, "period_end"),
    ({"assets": []}, "assets"),
    ({"insured": {"name": "某公司", "uscc": "bad"}}, "insured"),
    ({"policy_number": " "}, "policy_number"),
]
MATCHMAKING_CASES = [
    ({"held_on": "2999-01-01"}, "held_on"),
    ({"enterprises_attending": -1}, "enterprises_attending"),
    ({"intended_amount": "1.001"}, "intended_amount"),
    ({"signed_amount": "-1"}, "signed_amount"),
    ({"title": ""}, "title"),
    ({"banks": ["中国银行", " "]}, "banks"),
]


@pytest.mark.parametrize(
    "method, path, body, field",
    [case("/pledges", pledge_body(99, **change), field) for change, field in PLEDGE_CASES]
    + [
        case("/pledges/{registered}/release", {"date": "2025-02-28"}, "date"),
        case("/pledges/{registered}/release", {"date": "2999-01-01"}, "date"),
        case("/pledges/{registered}/release", {"date": "yesterday"}, "date"),
        case("/pledges/{registered}/default", {"outstanding": "5000000.01"}, "outstanding"),
        case("/pledges/{registered}/default", {"outstanding": "0.00"}, "outstanding"),
        case("/pledges/{registered}/default", {"outstanding": "-1"}, "outstanding"),
        case("/pledges/{registered}/default", {"outstanding": "10.001"}, "outstanding"),
        case("/pledges/{registered}/default", {}, "outstanding"),
        case("/pledges/{registered}/default", {"outstanding": "100", "date": "2025-01-01"}, "date"),
        case("/pledges/{defaulted}/dispose", {"proceeds": "-0.01"}, "proceeds"),
        case("/pledges/{defaulted}/dispose", {"proceeds": "1.005"}, "proceeds"),
        case("/pledges/{defaulted}/dispose", {}, "proceeds"),
        case("/pledges/{defaulted}/dispose", {"proceeds": "1", "date": "2025-07-31"}, "date"),
        case("/pledges/{registered}/subsidies", {**SUBSIDY, "amount": "0"}, "amount"),
        case("/pledges/{registered}/subsidies", {**SUBSIDY, "amount": "1.111"}, "amount"),
        case("/pledges/{registered}/subsidies", {**SUBSIDY, "period_end": "2025-02-28"}, "period_end"),
        case("/pledges/{registered}/subsidies", {**SUBSIDY, "approving_body": ""}, "approving_body"),
        case("/pledges/{defaulted}/risk-compensations", {**CLAIM, "claim_amount": "2000.01"}, "claim_amount"),
        case("/pledges/{defaulted}/risk-compensations", {**CLAIM, "claim_amount": "0"}, "claim_amount"),
        case("/pledges/{defaulted}/risk-compensations", {**CLAIM, "paid_amount": "1000.01"}, "paid_amount"),
        case("/pledges/{defaulted}/risk-compensations", {**CLAIM, "paid_amount": "-1"}, "paid_amount"),
        case("/pledges/{defaulted}/risk-compensations", {**CLAIM, "claimed_on": "2025-07-31"}, "claimed_on"),
        case("/pledges/{defaulted}/risk-compensations", {**CLAIM, "claimed_on": "2999-01-01"}, "claimed_on"),
    ]
    + [case("/transactions", transaction_body(99, **change), field) for change, field in TRANSACTION_CASES]
    + [case("/insurance-policies", policy_body(99, **change), field) for change, field in POLICY_CASES]
    + [case("/matchmaking-events", matchmaking_body(**change), field) for change, field in MATCHMAKING_CASES]
    + [
        case("/pledges", {"min_amount": "1.001"}, "min_amount", "GET"),
        case("/pledges", {"max_amount": "abc"}, "max_amount", "GET"),
        case("/pledges", {"region": "999999"}, "region", "GET"),
        case("/pledges", {"kind": "joint"}, "kind", "GET"),
        case("/pledges", {"status": "lost"}, "status", "GET"),
        case("/pledges", {"asset_type": "utility_model"}, "asset_type", "GET"),
        case("/pledges", {"pledgor_uscc": "91320311MA1R7J8H40"}, "pledgor_uscc", "GET"),
        case("/pledges", {"cursor": "%%%"}, "cursor", "GET"),
        case("/pledges", {"limit": "0"}, "limit", "GET"),
        case("/pledges", {"registered_from": "2025-13-01"}, "registered_from", "GET"),
        case("/transactions", {"type": "gift"}, "type", "GET"),
        case("/transactions", {"region": "999999"}, "region", "GET"),
        case("/insurance-policies", {"asset_type": "plant_variety"}, "asset_type", "GET"),
        case("/matchmaking-events", {"held_from": "soon"}, "held_from", "GET"),
        case("/financing/summary", {"from": "2025-07-01", "to": "2025-06-30"}, "from", "GET"),
        case("/financing/summary", {"region": "999999"}, "region", "GET"),
        case("/financing/summary", {"to": "2025-06-31"}, "to", "GET"),
    ],
)
async def test_bad_input_is_a_problem_naming_the_field_and_changes_nothing(shared, method, path, body, field):
    before = await snapshot(shared.app)
    url = path.format(registered=shared.registered, defaulted=shared.defaulted)
    if method == "POST":
        resp = await shared.client.post(url, json=body, headers=OFFICER)
    else:
        resp = await shared.client.get(url, params=body, headers=OFFICER)
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    problem = resp.json()
    assert problem["status"] == 422 and problem["title"] == "Validation failed"
    assert any(e["loc"] and e["loc"][0] == field for e in problem["errors"]), problem
    assert await snapshot(shared.app) == before
