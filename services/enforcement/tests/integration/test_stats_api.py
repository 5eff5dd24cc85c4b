"""Stats and the overdue report on hand-made cases whose figures are worked out by hand."""

from datetime import date

import pytest

from services.enforcement.tests.integration.conftest import JINGKOU, RUNZHOU, file_case, run_steps
from zhichan.clock import today
from zhichan.testing import auth

DECIDE = {"outcome": "penalty_decision"}


@pytest.fixture
async def hand_made(client, officer) -> dict[str, dict]:
    """Penalty cases run 90 days; mediation 30. Names say what each is in the first half of 2025."""
    made = {}
    made["A"] = await file_case(client, officer, n=1, filed_date="2025-01-06")  # due 04-06, closed 03-01
    await run_steps(
        client,
        made["A"]["id"],
        officer,
        ("investigate", "2025-01-07", {}),
        ("decide", "2025-02-20", DECIDE),
        ("close", "2025-03-01", {}),
    )
    made["B"] = await file_case(client, officer, n=2, filed_date="2025-01-10")  # due 04-10, closed 05-01: late
    await run_steps(
        client,
        made["B"]["id"],
        officer,
        ("investigate", "2025-01-11", {}),
        ("decide", "2025-04-25", DECIDE),
        ("close", "2025-05-01", {}),
    )
    made["C"] = await file_case(client, officer, n=3, filed_date="2024-11-01")  # due 2025-01-30, open
    made["D"] = await file_case(client, officer, n=4, filed_date="2025-02-01")  # due 05-02, open
    await run_steps(client, made["D"]["id"], officer, ("investigate", "2025-02-05", {}))
    made["E"] = await file_case(client, officer, n=5, filed_date="2024-12-01")  # transferred in time
    await run_steps(client, made["E"]["id"], officer, ("transfer", "2025-01-15", {"to": "judiciary"}))
    made["F"] = await file_case(client, officer, n=6, filed_date="2024-10-01")  # closed before the window
    await run_steps(
        client,
        made["F"]["id"],
        officer,
        ("investigate", "2024-10-02", {}),
        ("decide", "2024-11-20", DECIDE),
        ("close", "2024-12-01", {}),
    )
    made["G"] = await file_case(  # mediation, due 03-12, closed 03-10
        client,
        officer,
        n=7,
        region=RUNZHOU,
        type="copyright",
        procedure="mediation",
        filed_date="2025-02-10",
        handling_unit="润州分局",
    )
    await run_steps(
        client,
        made["G"]["id"],
        officer,
        ("investigate", "2025-02-11", {}),
        ("decide", "2025-03-05", {"outcome": "mediation_agreement"}),
        ("close", "2025-03-10", {}),
    )
    made["H"] = await file_case(  # due 04-02, open
        client,
        officer,
        n=8,
        region=RUNZHOU,
        type="counterfeit_patent",
        filed_date="2025-01-02",
        handling_unit="润州分局",
    )
    return made


def counts(answer: dict) -> tuple:
    return (
        answer["filed"],
        answer["closed"],
        answer["closed_on_time"],
        answer["overdue_open"],
        answer["on_time_closure_rate"],
    )


async def test_first_half_of_2025(client, officer, hand_made):
    resp = await client.get(
        "/cases/stats", params={"region": "321100", "from": "2025-01-01", "to": "2025-06-30"}, headers=officer
    )
    assert resp.status_code == 200, resp.text
    stats = resp.json()
    assert (stats["from"], stats["to"], stats["region"]) == ("2025-01-01", "2025-06-30", "321100")
    # filed A B D G H; closed A B E G (A E G on time); open and overdue on 06-30: C D H → 3 ÷ (4 + 3)
    assert counts(stats) == (5, 4, 3, 3, "42.86")
    # penalty: filed A B D H; closed A B E (A E on time); overdue C D H → 2 ÷ 6
    assert counts(stats["by_procedure"]["administrative_penalty"]) == (4, 3, 2, 3, "33.33")
    assert counts(stats["by_procedure"]["mediation"]) == (1, 1, 1, 0, "100.00")
    assert counts(stats["by_procedure"]["administrative_adjudication"]) == (0, 0, 0, 0, None)
    assert counts(stats["by_type"]["trademark_infringement"]) == (3, 3, 2, 2, "40.00")
    assert counts(stats["by_type"]["counterfeit_patent"]) == (1, 0, 0, 1, "0.00")
    assert counts(stats["by_type"]["copyright"]) == (1, 1, 1, 0, "100.00")


async def test_first_quarter_and_one_district(client, officer, hand_made):
    q1 = await client.get(
        "/cases/stats", params={"region": "321100", "from": "2025-01-01", "to": "2025-03-31"}, headers=officer
    )
    # closed A E G, all on time; on 03-31 only C is overdue (B is due 04-10, H 04-02) → 3 ÷ 4
    assert counts(q1.json()) == (5, 3, 3, 1, "75.00")
    jingkou = await client.get(
        "/cases/stats", params={"region": JINGKOU, "from": "2025-01-01", "to": "2025-06-30"}, headers=officer
    )
    assert counts(jingkou.json()) == (3, 3, 2, 2, "40.00")
    runzhou_officer = auth("officer", [RUNZHOU])
    theirs = await client.get(
        "/cases/stats", params={"from": "2025-01-01", "to": "2025-06-30"}, headers=runzhou_officer
    )
    assert counts(theirs.json()) == (2, 1, 1, 1, "50.00")


async def test_the_window_defaults_to_this_year_up_to_today(client, officer, hand_made):
    stats = (await client.get("/cases/stats", headers=officer)).json()
    assert stats["from"] == date(today().year, 1, 1).isoformat() and stats["to"] == today().isoformat()
    assert counts(stats) == (0, 0, 0, 3, "0.00")  # C D H are still open and overdue


async def test_a_window_must_not_end_before_it_starts(client, officer):
    resp = await client.get("/cases/stats", params={"from": "2025-06-01", "to": "2025-05-01"}, headers=officer)
    assert resp.status_code == 422 and resp.json()["errors"][0]["loc"] == ["from"]


async def test_overdue_cases_per_handling_unit(client, officer, hand_made):
    resp = await client.get("/cases/overdue", params={"region": "321100", "as_of": "2025-06-30"}, headers=officer)
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert report["total"] == 3 and [u["handling_unit"] for u in report["units"]] == ["京口分局", "润州分局"]
    jingkou = report["units"][0]
    assert jingkou["count"] == 2
    assert [(c["id"], c["due_date"], c["days_overdue"], c["status"]) for c in jingkou["cases"]] == [
        (hand_made["C"]["id"], "2025-01-30", 151, "filed"),
        (hand_made["D"]["id"], "2025-05-02", 59, "investigating"),
    ]
    assert [(c["id"], c["days_overdue"]) for c in report["units"][1]["cases"]] == [(hand_made["H"]["id"], 89)]


async def test_overdue_as_it_stood_on_a_past_date(client, officer, hand_made):
    report = (await client.get("/cases/overdue", params={"as_of": "2025-04-20"}, headers=officer)).json()
    cases = {c["id"]: c for unit in report["units"] for c in unit["cases"]}
    # B was overdue on 04-20 while still being investigated; it was closed (late) on 05-01
    assert set(cases) == {hand_made[name]["id"] for name in ("B", "C", "H")}
    assert (
        cases[hand_made["B"]["id"]]["status"] == "investigating" and cases[hand_made["B"]["id"]]["days_overdue"] == 10
    )


async def test_overdue_today_defaults_and_scoping(client, officer, hand_made):
    report = (await client.get("/cases/overdue", headers=auth("officer", [RUNZHOU]))).json()
    assert report["as_of"] == today().isoformat() and report["total"] == 1
    assert report["units"][0]["cases"][0]["id"] == hand_made["H"]["id"]
