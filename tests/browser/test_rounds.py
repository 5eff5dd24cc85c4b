"""填报与审核 in a real headless Chromium on the real broker and processes (issue 20): a department
signs in, fills in its round and submits; an officer returns it with a reason; the department
corrects and resubmits; the officer approves — and only then does the plan's view move."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, needs_chromium
from zhichan.testing import auth, token

ROOT = Path(__file__).resolve().parents[2]
PLAN_FILE = ROOT / "demo" / "plans" / "zhenjiang-etdz-2024-2026.yaml"
PLAN = "zhenjiang-etdz-2024-2026"
CITY = "321100"
AMR = "经开区市场监管局"  # the zone's IP authority, responsible for most of the plan's figures
REPORTED = "high-value-invention-patents"  # source: reported

pytestmark = [pytest.mark.e2e, needs_chromium]


def eventually(check, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)
    return result


@pytest.fixture(scope="module")
def api(stack):
    with httpx.Client(base_url=stack.gateway_url, timeout=30.0, headers=auth("officer", [CITY])) as client:
        yield client


@pytest.fixture(scope="module")
def plan(api) -> dict:
    """The Zhenjiang plan active, reported quarterly within 10 days, each report reviewed."""
    imported = api.post(
        "/api/plans/import", content=PLAN_FILE.read_bytes(), headers={"Content-Type": "application/yaml"}
    )
    assert imported.status_code in (200, 201), imported.text
    assert api.post(f"/api/plans/{PLAN}/activate").status_code == 200
    etag = api.get(f"/api/plans/{PLAN}").headers["ETag"]
    settings = {"period": "quarterly", "due_days": 10, "review": "required"}
    changed = api.put(f"/api/plans/{PLAN}/reporting", json=settings, headers={"If-Match": etag})
    assert changed.status_code == 200, changed.text
    return changed.json()


def reported_indicator(api) -> dict | None:
    resp = api.get(f"/api/progress/plans/{PLAN}")
    if resp.status_code != 200:
        return None
    return next(i for i in resp.json()["indicators"] if i["key"] == REPORTED)


def sign_in(page: Page, stack, role: str, **claims) -> None:
    page.goto(f"{stack.gateway_url}/signin#token={token(role, [CITY], **claims)}")
    page.wait_for_url(f"{stack.gateway_url}/")
    page.goto(f"{stack.gateway_url}/#/rounds/{PLAN}")


def test_a_round_submitted_returned_resubmitted_and_approved_moves_the_plan_only_then(stack, api, plan, page):
    eventually(lambda: reported_indicator(api), "the plan in the gateway's read model")
    sign_in(page, stack, "department", department=AMR, sub="zj-amr")
    expect(page.locator("#reporting-settings")).to_contain_text("每季度填报")
    form = page.locator("#round-form")
    expect(form.locator(f"[data-indicator='{REPORTED}']")).to_be_visible()
    label = form.get_attribute("data-round")
    # keyboard only: type the value, Tab on, Enter submits
    form.locator(f"[data-indicator='{REPORTED}']").fill("780")
    form.locator("textarea[name='note']").fill("2025年度统计")
    form.locator(f"[data-indicator='{REPORTED}']").press("Enter")
    chip = page.locator(f"#round-list tr[data-round='{label}'] li[data-department='{AMR}']")
    expect(form).not_to_have_attribute("data-round", label)  # in: the form is the next round owed
    expect(chip).to_contain_text("待审核")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "rounds-department.png", full_page=True)
    pending = eventually(lambda: (i := reported_indicator(api))["pending_reports"] == 1 and i, "the report pending")
    assert pending["actual"] is None  # pending review: applied by the gateway, and not counted
    page.goto(f"{stack.gateway_url}/#/plan/{PLAN}")
    expect(page.locator(f"#indicators tr[data-indicator='{REPORTED}'] .pending")).to_have_text("待审核 1")

    # the officer returns it with a reason
    sign_in(page, stack, "officer", sub="zj-officer")
    item = page.locator(f"#review-queue li[data-round='{label}'][data-department='{AMR}']")
    expect(item.locator(f"li[data-indicator='{REPORTED}']")).to_contain_text("780")
    page.screenshot(path=ARTIFACTS / "rounds-officer.png", full_page=True)
    item.locator("button.return").click()
    item.locator("input.return-reason").fill("请按年末口径填报")
    item.locator("input.return-reason").press("Enter")
    expect(chip).to_contain_text("已退回")

    # the department sees why, corrects and submits again
    sign_in(page, stack, "department", department=AMR, sub="zj-amr")
    expect(page.locator("#returned-reason")).to_contain_text("请按年末口径填报")
    expect(form).to_have_attribute("data-round", label)
    value = form.locator(f"[data-indicator='{REPORTED}']")
    expect(value).to_have_value("780")  # the returned values, to correct rather than retype
    value.fill("812")
    form.locator("button[type='submit']").click()
    expect(chip).to_contain_text("待审核")
    assert reported_indicator(api)["actual"] is None

    # approved: now it counts
    sign_in(page, stack, "officer", sub="zj-officer")
    item.locator("button.approve").click()
    expect(chip).to_contain_text("已通过")
    moved = eventually(lambda: (i := reported_indicator(api))["actual"] is not None and i, "the approved value counted")
    assert moved["actual"] == "812" and moved["pending_reports"] == 0
    expect(page.locator(f"#completeness tr[data-department='{AMR}']")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "rounds-approved.png", full_page=True)
