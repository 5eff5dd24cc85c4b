"""The plan progress view, fed with real targets events and hand-made domain events, compared
with values computed by hand from the rules in DOMAIN.md."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from gateway.projections import apply_events
from gateway.tests.events import agency_event, agency_state, case_event, case_state, pledge_event, pledge_state
from services.targets.app import create_app as create_targets
from zhichan.events.envelope import Envelope
from zhichan.events.outbox import OutboxEvent
from zhichan.testing import auth, running_app

ADMIN = auth("admin")
PLAN = """
format: zhichan.plan/v1
region: {code: "320311", name: 泉山区, level: district, parent: "320300"}
plan: {key: quanshan-2025-2026, title: 泉山区知识产权工作方案, issued_by: 泉山区市场监管局,
       start: 2025-01-01, end: 2026-12-31}
indicators:
  - {key: pledges, name: 质押融资累计, category: utilization, unit: 亿元, measure: cumulative, direction: at_least,
     nature: expected, target: 2, milestones: {2025: 1, 2026: 2}, source: {metric: financing.pledge_amount}}
  - {key: cases, name: 立案商标侵权案件, category: protection, unit: 件, measure: cumulative, direction: at_least,
     nature: expected, target: 20, milestones: {2025: 10, 2026: 20},
     source: {metric: enforcement.cases_filed, filters: {type: [trademark_infringement]}}}
  - {key: on-time, name: 按期结案率, category: protection, unit: "%", measure: rate, direction: at_least,
     nature: binding, target: 90, source: {metric: enforcement.on_time_closure_rate}}
  - {key: agencies, name: 线下服务机构, category: service, unit: 家, measure: stock, direction: at_least,
     nature: expected, target: 10, source: {metric: agencies.active_agencies, filters: {offline: true}}}
  - {key: patents, name: 高价值发明专利拥有量, category: creation, unit: 件, measure: stock, direction: at_least,
     nature: expected, target: 100, baseline: {year: 2024, value: 50}, responsible: [区市场监管局], source: reported}
  - {key: pledges-a-year, name: 每年质押登记笔数, category: utilization, unit: 件, measure: annual, direction: at_least,
     nature: expected, target: 2, source: {metric: financing.pledge_count}}
tasks:
  - {key: overdue-task, title: 建立知识产权服务站, responsible: [区市场监管局], due: 2025-03-31}
  - {key: later-task, title: 举办质押对接会, responsible: [区财政局], due: 2026-06-30}
"""
AS_OF = "2025-07-01"  # 182 days of 2025 have passed (31+28+31+30+31+30+1)


def case(
    n: int,
    filed: str,
    *,
    closed: str | None = None,
    on_time: bool | None = None,
    overdue: list[tuple[str, str | None]] = (),
    version: int = 1,
) -> Envelope:
    state = case_state(f"C{n}", filed, closed=closed, on_time=on_time, overdue=overdue, version=version)
    return case_event(state)


def pledge(n: int, registered: str, amount: str) -> Envelope:
    return pledge_event(pledge_state(f"P{n}", registered, amount))


def agency(n: int, approved: str, offline: bool = True, deregistered: str | None = None) -> Envelope:
    history = [("filed", "2024-01-01"), ("active", approved)]
    if deregistered is not None:
        history.append(("deregistered", deregistered))
    return agency_event(agency_state(f"A{n}", history, offline=offline))


@pytest.fixture
async def targets_events(tmp_path):
    """The plan's real events: imported, activated, and two reports (one correcting the other)."""
    async with running_app(create_targets, "targets", tmp_path) as (app, client):
        officer = auth("officer", ["320311"])
        imported = await client.post(
            "/plans/import", content=PLAN.encode(), headers={**officer, "Content-Type": "application/yaml"}
        )
        assert imported.status_code == 201, imported.text
        assert (await client.post("/plans/quanshan-2025-2026/activate", headers=officer)).status_code == 200
        url = "/plans/quanshan-2025-2026/indicators/patents/reports"
        first = await client.post(url, json={"as_of": "2025-06-30", "value": "60"}, headers=officer)
        assert first.status_code == 201, first.text
        fixed = await client.post(
            url,
            json={"as_of": "2025-06-30", "value": "70", "supersedes": first.json()["id"], "note": "更正"},
            headers=officer,
        )
        assert fixed.status_code == 201, fixed.text
        async with app.state.session_factory() as session:
            rows = (await session.execute(select(OutboxEvent).order_by(OutboxEvent.id))).scalars().all()
        return [Envelope.from_json(row.envelope) for row in rows]


async def feed(app, envelopes) -> None:
    async with app.state.session_factory() as session:
        for e in envelopes:
            await apply_events(session, [e])  # a fetch of one, as the live consumer may
        await session.commit()


@pytest.fixture
async def fed(app_client, targets_events):
    app, client = app_client
    await feed(app, targets_events)
    await feed(
        app,
        [
            pledge(1, "2025-03-01", "30000000.00"),
            pledge(2, "2025-06-01", "20000000.00"),
            pledge(3, "2025-07-02", "99000000.00"),  # after the date: not counted
            pledge(4, "2024-12-31", "50000000.00"),  # before the plan: not counted
            *[case(n, "2025-02-01", closed="2025-03-01", on_time=True) for n in range(1, 10)],
            case(10, "2025-02-01", closed="2025-06-01", on_time=False, overdue=[("2025-05-03", "2025-05-31")]),
            agency(1, "2024-06-01"),
            agency(2, "2024-11-30"),
            agency(3, "2025-02-01"),
            agency(4, "2025-05-01"),
            agency(5, "2025-07-01"),
            agency(6, "2025-03-01", offline=False),
        ],
    )
    return app, client


def by_key(view: dict) -> dict[str, dict]:
    return {item["key"]: item for item in view["indicators"]}


async def test_each_indicator_matches_the_hand_computed_values(fed):
    _app, client = fed
    resp = await client.get("/api/progress/plans/quanshan-2025-2026", params={"as_of": AS_OF})
    assert resp.status_code == 200, resp.text  # published plans are public
    items = by_key(resp.json())

    # cumulative: 0.3 + 0.2 亿元 = 0.5; expected 1 × 182/365 = 0.49863… → on track
    pledges = items["pledges"]
    assert Decimal(pledges["actual"]) == Decimal("0.5")
    assert Decimal(pledges["expected"]) == Decimal(182) / Decimal(365)
    assert pledges["status"] == "on_track" and pledges["milestone_this_year"] == "1"
    assert pledges["drilldown"] == ["/api/pledges?region=320311&registered_from=2025-01-01&registered_to=2025-07-01"]

    # cumulative with a filter: 10 trademark cases; expected 10 × 182/365 = 4.986 → on track
    assert (items["cases"]["actual"], items["cases"]["status"]) == ("10", "on_track")

    # rate: 9 closed on time ÷ (10 closed + 0 overdue open) = 90% ≥ 90 → on track (achieved only
    # once the plan has ended), with the evidence behind it
    assert (items["on-time"]["actual"], items["on-time"]["status"]) == ("90", "on_track")
    assert items["on-time"]["actual_parts"] == {"numerator": 9, "denominator": 10, "unit": "件"}
    assert items["pledges"]["actual_parts"] is None

    # annual: 2 pledges in 2025 by 1 July; expected 2 × 182/365; the year is in progress
    yearly = items["pledges-a-year"]
    assert (yearly["actual"], yearly["status"]) == ("2", "on_track")
    assert [(y["year"], y["actual"], y["verdict"]) for y in yearly["years"]] == [(2025, "2", "in_progress")]

    # stock, observed baseline: 2 offline agencies active on 2024-12-31; on 2025-07-01 five;
    # expected 2 + (10 − 2) × 182/730 = 3.99452… → on track
    agencies = items["agencies"]
    assert agencies["actual"] == "5" and agencies["trajectory_start"] == "2" and agencies["baseline_observed"]
    assert Decimal(agencies["expected"]) == 2 + Decimal(8) * Decimal(182) / Decimal(730)
    assert agencies["status"] == "on_track"

    # reported stock: the correction (70) replaces the first report (60);
    # expected 50 + 50 × 182/730 = 62.47 → 70 on track
    patents = items["patents"]
    assert patents["actual"] == "70" and patents["status"] == "on_track"
    assert patents["drilldown"] == ["/api/plans/quanshan-2025-2026/indicators/patents/reports"]

    tasks = resp.json()["tasks"]
    assert tasks["counts"]["planned"] == 2
    assert [t["key"] for t in tasks["overdue"]] == ["overdue-task"]


async def test_an_annual_is_judged_year_by_year_at_the_plan_end(fed):
    _app, client = fed
    items = by_key((await client.get("/api/progress/plans/quanshan-2025-2026", params={"as_of": "2026-12-31"})).json())
    # 2025: three pledges (1 Mar, 1 Jun, 2 Jul) ≥ 2, met; 2026: none, missed → behind, not on pace
    yearly = items["pledges-a-year"]
    assert [(y["year"], y["figure"], y["actual"], y["verdict"]) for y in yearly["years"]] == [
        (2025, "2", "3", "met"),
        (2026, "2", "0", "missed"),
    ]
    assert yearly["status"] == "behind"
    # the rate is settled now that the plan has ended: 90 % ≥ 90 → achieved
    assert items["on-time"]["status"] == "achieved"


async def test_the_past_answers_what_was_true_then(fed):
    _app, client = fed
    items = by_key((await client.get("/api/progress/plans/quanshan-2025-2026", params={"as_of": "2025-03-31"})).json())
    # 0.3 亿元 by 31 March; expected 90/365 = 0.2466 → on track; the report of 30 June not yet made
    assert items["pledges"]["actual"] == "0.3"
    assert items["patents"]["status"] == "no_data"
    before = by_key((await client.get("/api/progress/plans/quanshan-2025-2026", params={"as_of": "2024-12-01"})).json())
    assert {i["status"] for i in before.values()} == {"not_started"}


async def test_a_closed_case_and_a_deregistered_agency_move_their_metrics(fed):
    app, client = fed
    # case 11 is filed and goes overdue, still open: the rate drops to 9 ÷ (10 + 1) = 81.82% → at risk
    await feed(app, [case(11, "2025-01-05", overdue=[("2025-04-05", None)])])
    items = by_key((await client.get("/api/progress/plans/quanshan-2025-2026", params={"as_of": AS_OF})).json())
    assert items["on-time"]["actual"] == "81.82" and items["on-time"]["status"] == "at_risk"
    # it is closed late in June: 9 ÷ 11 = 81.82% still; as of July it is no longer overdue-open
    await feed(
        app,
        [case(11, "2025-01-05", closed="2025-06-20", on_time=False, overdue=[("2025-04-05", "2025-06-19")], version=2)],
    )
    items = by_key((await client.get("/api/progress/plans/quanshan-2025-2026", params={"as_of": AS_OF})).json())
    assert items["on-time"]["actual"] == "81.82" and items["cases"]["actual"] == "11"
    # an agency deregistered on 2025-06-15 no longer counts from that day
    await feed(app, [agency(4, "2025-05-01", deregistered="2025-06-15")])
    items = by_key((await client.get("/api/progress/plans/quanshan-2025-2026", params={"as_of": AS_OF})).json())
    assert items["agencies"]["actual"] == "4"


async def test_series_xlsx_overview_and_scorecard(fed):
    _app, client = fed
    series = await client.get(
        "/api/progress/plans/quanshan-2025-2026/indicators/pledges/series", params={"as_of": AS_OF, "interval": "month"}
    )
    points = series.json()["points"]
    assert [p["date"] for p in points][:2] == ["2025-01-31", "2025-02-28"] and points[-1]["date"] == AS_OF
    assert [p["actual"] for p in points][:3] == ["0", "0", "0.3"]

    workbook = await client.get("/api/progress/plans/quanshan-2025-2026", params={"as_of": AS_OF, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(workbook.content))["指标进度"]
    names = [row[0] for row in sheet.iter_rows(min_row=5, values_only=True)]
    assert names == [
        "质押融资累计",
        "立案商标侵权案件",
        "按期结案率",
        "线下服务机构",
        "高价值发明专利拥有量",
        "每年质押登记笔数",
    ]

    book = load_workbook(io.BytesIO(workbook.content))
    years = [row[:2] + row[-1:] for row in book["年度判定"].iter_rows(min_row=2, values_only=True)]
    assert years == [("每年质押登记笔数", 2025, "进行中")]

    overview = (await client.get("/api/progress/regions/320300", params={"as_of": AS_OF}, headers=ADMIN)).json()
    assert [p["key"] for p in overview["plans"]] == ["quanshan-2025-2026"]
    headline = overview["headline"]
    assert headline["active_agencies"] == 6 and headline["open_cases"] == 0  # five offline, one not
    assert headline["pledge_amount_this_year"]["yi_yuan"] == "0.5"
    assert overview["latest_events"]

    scorecard = (await client.get("/api/progress/scorecard", params={"as_of": AS_OF}, headers=ADMIN)).json()
    row = next(r for r in scorecard["items"] if r["region"] == "320311")
    assert row["plans"] == 1 and sum(row["status_counts"].values()) == 6


async def test_metric_series_by_month_and_year(fed):
    _app, client = fed
    params = {"region": "320300", "from": "2025-01-01", "to": "2025-07-31"}
    months = (
        await client.get("/api/progress/metrics/financing.pledge_amount/series", params=params, headers=ADMIN)
    ).json()
    assert [(p["to"], p["value"]) for p in months["points"]][1:7] == [
        ("2025-02-28", "0"),
        ("2025-03-31", "30000000"),
        ("2025-04-30", "0"),
        ("2025-05-31", "0"),
        ("2025-06-30", "20000000"),
        ("2025-07-31", "99000000"),
    ]
    stock = (
        await client.get(
            "/api/progress/metrics/agencies.active_agencies/series",
            params={**params, "interval": "year"},
            headers=ADMIN,
        )
    ).json()
    assert [(p["from"], p["to"], p["value"]) for p in stock["points"]] == [("2025-01-01", "2025-07-31", "6")]
    refused = await client.get(
        "/api/progress/metrics/financing.pledge_amount/series",
        params={"from": "2025-02-01", "to": "2025-01-01"},
        headers=ADMIN,
    )
    assert refused.status_code == 422


async def test_answers_carry_freshness_and_an_etag(fed):
    _app, client = fed
    first = await client.get("/api/progress/plans/quanshan-2025-2026", params={"as_of": AS_OF})
    assert "freshness" in first.json()
    again = await client.get(
        "/api/progress/plans/quanshan-2025-2026",
        params={"as_of": AS_OF},
        headers={"If-None-Match": first.headers["etag"]},
    )
    assert again.status_code == 304


async def test_drafts_and_regions_are_guarded(app_client, targets_events):
    app, client = app_client
    await feed(app, [e for e in targets_events if not e.type.endswith("activated.v1")][:1])  # the draft only
    assert (await client.get("/api/progress/plans/quanshan-2025-2026")).status_code == 404
    assert (
        await client.get("/api/progress/plans/quanshan-2025-2026", headers=auth("officer", ["320311"]))
    ).status_code == 200
    assert (await client.get("/api/progress/regions/350102", headers=auth("officer", ["320311"]))).status_code == 403
    assert (await client.get("/api/progress/plans/nope")).status_code == 404
