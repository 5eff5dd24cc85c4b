"""Transactions, insurance policies and matchmaking events from another system: POST
/<records>/import of each (created, unchanged, refused, dry run, the job of a large file), their
templates, and the events they write."""

import pytest

from services.financing.models import InsurancePolicy, IpTransaction, MatchmakingEvent
from services.financing.tests.integration.conftest import (
    QUANSHAN,
    count_rows,
    events_match_their_contracts,
    import_csv,
    outbox_rows,
)
from zhichan import record_import
from zhichan.tabular import XLSX_TYPE
from zhichan.testing import auth, csv_file, finished_job
from zhichan.uscc import build_uscc


def transaction_row(n: int, **changes: str) -> dict[str, str]:
    return {
        "region": QUANSHAN,
        "type": "许可",
        "record_number": f"2023320000{n:06d}",
        "grantor_name": "中国矿业大学",
        "grantee_name": f"徐州某某重型机械有限公司{n}",
        "grantee_uscc": build_uscc(QUANSHAN, n),
        "asset_types": "专利；专利",
        "asset_numbers": f"ZL2019109{n:05d}.3；ZL2019209{n:05d}.1",
        "asset_titles": "一种矿用液压支架的控制方法；一种支架, 及其底座",  # a comma within a title
        "amount": "600000",
        "contract_date": "2023-05-10",
        "recorded_on": "2023-06-02",
        **changes,
    }


def policy_row(n: int, **changes: str) -> dict[str, str]:
    return {
        "region": QUANSHAN,
        "policy_number": f"PICC2023320311{n:06d}",
        "insurer": "中国人民财产保险股份有限公司徐州市分公司",
        "insured_name": f"徐州某某光电科技有限公司{n}",
        "asset_types": "trademark",
        "asset_numbers": f"{23456000 + n}",
        "asset_titles": "某某红",
        "insured_amount": "500000.00",
        "premium": "6000",
        "period_start": "2024-03-01",
        "period_end": "2025-02-28",
        **changes,
    }


def event_row(n: int, **changes: str) -> dict[str, str]:
    return {
        "region": QUANSHAN,
        "title": f"知识产权质押融资银企对接会（第{n}期）",
        "held_on": "2023-09-21",
        "organiser": "徐州市市场监督管理局",
        "banks": "中国银行徐州分行、江苏银行徐州分行、中国银行徐州分行",
        "enterprises_attending": "56",
        "intended_amount": "150000000",
        "signed_amount": "48600000.00",
        **changes,
    }


KINDS = {
    "transactions": (transaction_row, IpTransaction, "transaction.recorded", {"amount": "700000"}, "amount"),
    "insurance-policies": (policy_row, InsurancePolicy, "insurance_policy.recorded", {"premium": "1"}, "premium"),
    "matchmaking-events": (event_row, MatchmakingEvent, "matchmaking_event.recorded", {"signed_amount": "1"},
                           "signed_amount"),
}  # fmt: skip
REFUSED = {
    "transactions": ({"contract_date": "2023-06-03"}, "contract_date"),  # after its recording
    "insurance-policies": ({"asset_types": "专利；商标"}, "asset_types"),  # two types for one number
    "matchmaking-events": ({"held_on": "2099-01-01"}, "held_on"),  # in the future
}


@pytest.fixture
def officer():
    return auth("officer", ["320300"])


@pytest.mark.parametrize("records", list(KINDS))
async def test_rows_are_recorded_once_as_the_routes_record_them(app_client, officer, records):
    app, client = app_client
    row, model, event, _change, _column = KINDS[records]
    answer = await import_csv(client, officer, records, [row(1), row(2)])
    assert answer == {"created": 2, "updated": 0, "unchanged": 0, "refused": 0, "rows": 2, "dry_run": False}
    again = await import_csv(client, officer, records, [row(1), row(2), row(3)])
    assert (again["created"], again["unchanged"]) == (1, 2)
    assert await count_rows(app, model) == 3
    envelopes = await events_match_their_contracts(app)
    assert [e["type"] for e in envelopes] == [f"zhichan.financing.{event}.v1"] * 3
    listed = (await client.get(f"/{records}", headers=officer)).json()["items"]
    assert len(listed) == 3


async def test_what_an_imported_row_holds(app_client, officer):
    app, client = app_client
    await import_csv(client, officer, "transactions", [transaction_row(1)])
    await import_csv(client, officer, "matchmaking-events", [event_row(1)])
    [transaction] = (await client.get("/transactions", headers=officer)).json()["items"]
    assert (transaction["type"], transaction["amount"], transaction["patent_count"]) == ("licence", "600000.00", 2)
    assert transaction["grantor"] == {"name": "中国矿业大学", "uscc": None}
    assert transaction["assets"][1]["title"] == "一种支架, 及其底座"
    [event] = (await client.get("/matchmaking-events", headers=officer)).json()["items"]
    assert event["banks"] == ["中国银行徐州分行", "江苏银行徐州分行"] and event["enterprises_attending"] == 56


@pytest.mark.parametrize("records", list(KINDS))
async def test_a_row_that_says_otherwise_of_a_record_here_is_refused(app_client, officer, records):
    app, client = app_client
    row, model, _event, change, column = KINDS[records]
    await import_csv(client, officer, records, [row(1)])
    problem = await import_csv(client, officer, records, [row(2), row(1, **change)], expect=422)
    assert [(e["row"], e["loc"][-1]) for e in problem["errors"]] == [(3, column)]
    assert "does not change" in problem["errors"][0]["msg"]
    assert (problem["created"], problem["refused"]) == (1, 1)
    assert await count_rows(app, model) == 1 and len(await outbox_rows(app)) == 1


@pytest.mark.parametrize("records", list(KINDS))
async def test_a_file_with_problems_is_refused_whole_and_a_dry_run_stores_nothing(app_client, officer, records):
    app, client = app_client
    row, model, *_ = KINDS[records]
    cells, column = REFUSED[records]
    problem = await import_csv(client, officer, records, [row(1), row(2, **cells), row(1)], expect=422)
    key = {"transactions": "record_number", "insurance-policies": "policy_number"}.get(records, "title")
    assert [(e["row"], e["loc"][-1]) for e in problem["errors"]] == [(3, column), (4, key)]
    assert all(e["column"] for e in problem["errors"])
    checked = await import_csv(client, officer, records, [row(1), row(2)], query="?dry_run=true")
    assert (checked["created"], checked["dry_run"]) == (2, True)
    assert await count_rows(app, model) == 0 and await outbox_rows(app) == []


@pytest.mark.parametrize("records", list(KINDS))
async def test_a_large_file_is_a_job(app_client, officer, monkeypatch, records):
    app, client = app_client
    row, model, *_ = KINDS[records]
    app.state.settings.import_job_rows = 2
    monkeypatch.setattr(record_import, "ROWS_PER_CHUNK", 2)
    resp = await client.post(
        f"/{records}/import", content=csv_file([row(n) for n in range(1, 6)]),
        headers={**officer, "Content-Type": "text/csv"},
    )  # fmt: skip
    assert resp.status_code == 202, resp.text
    location = resp.headers["location"]
    assert location == f"/{records}/import/jobs/{resp.json()['id']}"
    job = await finished_job(client, location, officer)
    assert job["status"] == "succeeded", job
    assert (job["rows"], job["done"], job["result"]["created"]) == (5, 5, 5)
    assert await count_rows(app, model) == 5


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("records", list(KINDS))
async def test_the_template_imports_as_it_is(app_client, records, fmt):
    app, client = app_client
    officer = auth("officer", ["320300", "420500", "321100"])
    resp = await client.get(f"/{records}/import/template?format={fmt}", headers=officer)
    assert resp.status_code == 200
    media = XLSX_TYPE if fmt == "xlsx" else "text/csv"
    answer = await client.post(f"/{records}/import", content=resp.content, headers={**officer, "Content-Type": media})
    assert answer.json()["created"] == 2, answer.text
    assert await count_rows(app, KINDS[records][1]) == 2
