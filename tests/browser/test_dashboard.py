"""The dashboard in a real headless Chromium (Debian's, driven by Playwright) on the real broker and
processes: sign in with a link, pick the region and the plan, see every indicator and a trend
chart, and watch a row change status when a new record arrives, without reloading the page."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, needs_chromium
from zhichan.clock import today
from zhichan.testing import auth, token

ROOT = Path(__file__).resolve().parents[2]
PLAN_FILE = ROOT / "demo" / "plans" / "zhenjiang-etdz-2024-2026.yaml"
PLAN = "zhenjiang-etdz-2024-2026"
ZONE = "321100-ETDZ"  # the plan's region
CITY = "321100"  # 镇江市: the zone lies under it
REPORTED = "high-value-invention-patents"  # source: reported, so a progress report moves it
CHARTED = "pledge-financing"
YEARLY = "pledge-matchmaking-events"  # 每年 1—2 场: judged year by year
OFFICER = auth("officer", [CITY])
# The page hears of a change from the stream at once, or from its backup poll within 20 s.
CHANGE_SEEN_MS = 60_000

pytestmark = [pytest.mark.e2e, needs_chromium]


def eventually(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)
    return result


@pytest.fixture(scope="module")
def api(stack):
    with httpx.Client(base_url=stack.gateway_url, timeout=30.0, headers=OFFICER) as client:
        yield client


def progress(api: httpx.Client) -> dict | None:
    resp = api.get(f"/api/progress/plans/{PLAN}")
    return resp.json() if resp.status_code == 200 and resp.json()["plan"]["status"] == "active" else None


@pytest.fixture(scope="module")
def plan(api) -> dict:
    """The Zhenjiang plan imported and activated through the gateway, as the gateway shows it."""
    imported = api.post(
        "/api/plans/import", content=PLAN_FILE.read_bytes(), headers={"Content-Type": "application/yaml"}
    )
    assert imported.status_code in (200, 201), imported.text
    activated = api.post(f"/api/plans/{PLAN}/activate")
    assert activated.status_code == 200, activated.text
    return eventually(lambda: progress(api), "the active plan in the gateway's read model")


def report_day(plan: dict) -> str:
    """Today, within the plan's period (a report's date must lie in it)."""
    start, end = date.fromisoformat(plan["plan"]["start"]), date.fromisoformat(plan["plan"]["end"])
    return str(min(max(today(), start), end))


def statuses(page: Page) -> dict[str, str]:
    return page.eval_on_selector_all(
        "#indicators tr.indicator", "rows => Object.fromEntries(rows.map(r => [r.dataset.indicator, r.dataset.status]))"
    )


def access_log(stack, path: str) -> list[str]:
    """The gateway's access log lines (JSON) of requests for ``path``."""
    lines = (stack.var_dir / "logs" / "gateway.log").read_text(encoding="utf-8", errors="replace").splitlines()
    return [line for line in lines if line.startswith("{") and json.loads(line).get("path") == path]


def test_signed_in_officer_follows_a_plan_live(stack, api, plan, page):
    signin_token = token("officer", [CITY])
    page.goto(f"{stack.gateway_url}/signin#token={signin_token}")
    page.wait_for_url(f"{stack.gateway_url}/")  # stored, and the link with the token left the history
    expect(page.locator("#user-name")).to_have_attribute("data-regions", CITY)
    # the token rode in the fragment: the gateway logged the page's request, and not the token
    logged = eventually(lambda: access_log(stack, "/signin"), "the access log line of the sign-in page")
    assert not [line for line in logged if signin_token in line]

    # the picker offers the officer's city and the regions directly below it, the zone among them
    expect(page.locator(f"#region-picker option[value='{ZONE}']")).to_have_count(1)
    offered = page.eval_on_selector_all("#region-picker option", "options => options.map(o => o.value)")
    assert offered[0] == CITY and all(code.startswith(CITY[:4]) for code in offered), offered  # 3211…: in 镇江市
    page.locator("#region-picker").select_option(ZONE)
    overview = page.locator("#overview")
    expect(overview).to_have_attribute("data-region", ZONE)
    expect(overview.locator("[data-headline='open_cases']")).to_be_visible()
    expect(overview.locator("#latest-events li[data-event-type='zhichan.targets.plan.activated.v1']")).to_have_count(1)
    overview.locator(f"#overview-plans a[data-plan='{PLAN}']").click()

    # one row per indicator, each with the status the API gives
    expect(page.locator("#indicators tr.indicator")).to_have_count(len(plan["indicators"]))
    assert statuses(page) == {i["key"]: i["status"] for i in plan["indicators"]}
    expect(page.locator("#export-xlsx")).to_have_attribute(
        "href", f"/api/progress/plans/{PLAN}?format=xlsx&as_of={plan['as_of']}"
    )
    overdue = page.locator("#overdue-tasks li.task.overdue")
    expect(overdue).to_have_count(len(plan["tasks"]["overdue"]))
    expect(page.locator("#freshness-topics [data-topic='zhichan.targets']")).to_be_visible()

    # a row opens its trend chart: actual against expected
    page.locator(f"#indicators tr[data-indicator='{CHARTED}']").click()
    chart = page.locator(f"svg[data-chart='{CHARTED}']")
    expect(chart).to_be_visible()
    expect(chart.locator("path[data-series='expected']")).not_to_have_count(0)
    expect(chart.locator("circle[data-status]")).not_to_have_count(0)

    # a yearly floor shows its range and, opened, each plan year with its own verdict
    yearly = next(i for i in plan["indicators"] if i["key"] == YEARLY)
    yearly_row = page.locator(f"#indicators tr[data-indicator='{YEARLY}']")
    expect(yearly_row.locator("td.target")).to_contain_text("1—2")
    yearly_row.click()
    years = page.locator(f"table[data-years-for='{YEARLY}'] tbody tr")
    expect(years).to_have_count(len(yearly["years"]))
    shown = page.eval_on_selector_all(
        f"table[data-years-for='{YEARLY}'] tbody tr",
        "rows => rows.map(r => [Number(r.dataset.year), r.dataset.verdict])",
    )
    assert shown == [[y["year"], y["verdict"]] for y in yearly["years"]]
    expect(page.locator(f"tr[data-detail-for='{YEARLY}'] .explanation").first).to_contain_text("按下限 1 计")
    yearly_row.click()  # closed again

    # a new record moves a row while the page stays as it is
    row = page.locator(f"#indicators tr[data-indicator='{REPORTED}']")
    expect(row).to_have_attribute("data-status", "no_data")
    page.evaluate("window.sameDocument = true")
    reported = api.post(
        f"/api/plans/{PLAN}/indicators/{REPORTED}/reports",
        json={"as_of": report_day(plan), "value": "900", "note": "浏览器测试"},
    )
    assert reported.status_code == 201, reported.text
    moved = eventually(
        lambda: next(
            (i for i in progress(api)["indicators"] if i["key"] == REPORTED and i["status"] != "no_data"), None
        ),
        "the reported indicator's new status",
    )
    expect(row).to_have_attribute("data-status", moved["status"], timeout=CHANGE_SEEN_MS)
    expect(row.locator("td.actual")).to_contain_text("900")
    assert page.evaluate("window.sameDocument") is True
    expect(chart).to_be_visible()  # the open chart stays open through the refresh

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "dashboard.png", full_page=True)

    page.locator("#tabs a[data-tab='scorecard']").click()
    expect(page.locator(f"#scorecard-table tr[data-region='{ZONE}']")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "dashboard-scorecard.png", full_page=True)


def test_the_overview_lists_the_alerts_and_an_officer_acknowledges_one(stack, api, plan, page):
    """The plan's tasks past their due dates are alerts in the zone's overview (issue 20); 知悉
    acknowledges one, which leaves the list and the API's unacknowledged alerts."""
    overdue_tasks = len(plan["tasks"]["overdue"])
    assert overdue_tasks > 0
    page.goto(f"{stack.gateway_url}/signin#token={token('officer', [CITY])}")
    page.wait_for_url(f"{stack.gateway_url}/")
    page.locator("#region-picker").select_option(ZONE)
    tasks = page.locator("#alerts li[data-alert-kind='task_overdue']")
    expect(tasks).to_have_count(overdue_tasks)
    expect(tasks.first.locator(".what")).to_have_text("任务已逾期")
    expect(tasks.first.locator(".title")).to_contain_text("已逾期")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "dashboard-alerts.png")

    acknowledged_id = tasks.first.get_attribute("data-alert")
    tasks.first.locator("button.acknowledge").click()
    expect(tasks).to_have_count(overdue_tasks - 1)
    expect(page.locator(f"#alerts li[data-alert='{acknowledged_id}']")).to_have_count(0)
    open_alerts = api.get("/api/alerts", params={"region": ZONE, "acknowledged": "false"}).json()["items"]
    assert acknowledged_id not in [a["id"] for a in open_alerts]


def test_without_signing_in_only_published_plans_show(stack, plan, page):
    page.goto(f"{stack.gateway_url}/")
    expect(page.locator(f"#plan-list a[data-plan='{PLAN}']")).to_be_visible()
    page.locator("#tabs a[data-tab='scorecard']").click()
    expect(page.locator("#signin-prompt")).to_be_visible()
    expect(page.locator("#scorecard-table")).to_have_count(0)

    # the published plan itself is public: its indicators show without a token
    page.goto(f"{stack.gateway_url}/#/plan/{PLAN}")
    expect(page.locator("#indicators tr.indicator")).to_have_count(len(plan["indicators"]))

    # an old link, with the token in its query, signs no one in: the token leaves the address bar
    old_link_token = token("officer", [CITY], sub="old-link-user")
    before = len(access_log(stack, "/signin"))
    page.goto(f"{stack.gateway_url}/signin?token={old_link_token}")
    expect(page.locator("#signin-error")).to_be_visible()
    assert page.url == f"{stack.gateway_url}/signin"
    assert page.evaluate("localStorage.getItem('zhichan.token')") is None
    # it did reach the gateway, which logs the path and never the query
    eventually(lambda: len(access_log(stack, "/signin")) > before, "the access log line of the old link")
    assert old_link_token not in (stack.var_dir / "logs" / "gateway.log").read_text(encoding="utf-8", errors="replace")

    # signing in by pasting a token into the form
    page.goto(f"{stack.gateway_url}/signin")
    page.locator("#token").fill(token("officer", [CITY], sub="form-user"))
    page.locator("#signin-submit").click()
    page.wait_for_url(f"{stack.gateway_url}/")
    expect(page.locator("#user-name")).to_have_attribute("title", "form-user")


YICHANG_PLAN_FILE = ROOT / "demo" / "plans" / "yichang-2021-2025.yaml"
YICHANG = "yichang-2021-2025"
STATISTIC_BOUND = "invention-patent-grants"  # 年度发明专利授权量: statistics.invention_grants


def test_a_statistic_bound_indicator_drills_down_to_its_releases_and_their_revision(stack, page):
    from zhichan.demo import statistics_published_by

    # The demo's releases are of two provinces' regions: an admin imports them.
    with httpx.Client(base_url=stack.gateway_url, timeout=30.0, headers=auth("admin")) as client:
        imported = client.post(
            "/api/plans/import",
            content=YICHANG_PLAN_FILE.read_bytes(),
            headers={"Content-Type": "application/yaml"},
        )
        assert imported.status_code in (200, 201), imported.text
        assert client.post(f"/api/plans/{YICHANG}/activate").status_code == 200
        releases = client.post(
            "/api/statistics/import",
            content=statistics_published_by(date(2025, 12, 20)),
            headers={"Content-Type": "text/csv"},
        )
        assert releases.status_code == 200, releases.text

        def grants_read() -> dict | None:
            resp = client.get(f"/api/progress/plans/{YICHANG}", params={"as_of": "2025-12-20"})
            if resp.status_code != 200:
                return None
            found = next(i for i in resp.json()["indicators"] if i["key"] == STATISTIC_BOUND)
            seen.append((found["actual"], found["actual_on"]))
            return found if seen[-1] == ("1471", "2025-11-30") else None  # January to November, revised

        # The releases are applied as the gateway fetches them: an earlier month may show first.
        seen: list[tuple] = []
        try:
            eventually(grants_read, "the revised January–November figure")
        except AssertionError as timed_out:
            raise AssertionError(f"{timed_out}; the plan view showed {sorted(set(seen))}") from None

    page.goto(f"{stack.gateway_url}/signin#token={token('officer', ['420000'])}")
    page.wait_for_url(f"{stack.gateway_url}/")
    page.goto(f"{stack.gateway_url}/#/plan/{YICHANG}")
    page.locator("#as-of").fill("2025-12-20")
    page.locator("#as-of").dispatch_event("change")
    row = page.locator(f"#indicators tr[data-indicator='{STATISTIC_BOUND}']")
    expect(row.locator("td.actual")).to_contain_text("1,471")
    row.click()
    page.locator(f"tr[data-detail-for='{STATISTIC_BOUND}'] [data-drilldown]").first.click()
    table = page.locator("table[data-drilldown-table]")
    october = table.locator("tbody tr", has=page.locator("td", has_text=re.compile(r"^2025-10$")))
    expect(october).to_have_count(2)
    expect(october.filter(has_text="138")).to_contain_text("已被修订")
    expect(october.filter(has_text="146")).to_contain_text("现行")
    expect(table.locator("thead")).to_contain_text("发布日期")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "dashboard-statistics.png", full_page=True)
