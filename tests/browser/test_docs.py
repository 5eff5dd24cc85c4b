"""The gateway's API docs in a real headless Chromium on the real broker and processes: Swagger UI
renders the merged OpenAPI 3.1 document (Swagger UI 4 answered "Unable to render this definition"),
and a user authorises with a bearer token and runs an operation from the page."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS, needs_chromium
from zhichan.testing import token

pytestmark = [pytest.mark.e2e, needs_chromium]

CITY = "321100"
SIGNED_IN_ONLY = "/api/progress/scorecard"  # answers 401 without a token


def operation(page: Page, method: str, path: str):
    return page.locator(f".opblock-{method}:has(.opblock-summary-path[data-path='{path}'])")


def open_tag(page: Page, tag: str) -> None:
    """The page opens with every tag collapsed (the merged API has too many operations for Swagger
    UI to show at once): a user filters the tags by name and expands one."""
    page.locator(".operation-filter-input").fill(tag)
    # the list filtered (a click while it re-renders is lost): a tag that does not match has gone
    expect(page.locator(".opblock-tag[data-tag='cases']")).to_have_count(0)
    heading = page.locator(f".opblock-tag[data-tag='{tag}']")
    expect(heading).to_have_attribute("data-is-open", "false")
    heading.get_by_role("button").click()
    expect(heading).to_have_attribute("data-is-open", "true")


def test_docs_render_and_run_an_operation_with_a_bearer_token(stack, page):
    page.goto(f"{stack.gateway_url}/docs")
    # the title is ASCII so that client generators name their package zhichan_client; the Chinese
    # name is in the description
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Zhichan")
    expect(page.locator(".swagger-ui .info .description")).to_contain_text("知产")
    expect(page.locator(".swagger-ui .info .version-stamp")).to_contain_text("OAS 3.1")
    expect(page.get_by_text("Unable to render this definition")).to_have_count(0)
    tags = page.locator(".opblock-tag")
    expect(tags.filter(has_text="statistics")).to_have_count(1)  # the services' tags, merged in
    assert tags.count() > 15
    open_tag(page, "agencies")
    expect(operation(page, "get", "/api/agencies")).to_have_count(1)  # a service's route
    expect(operation(page, "post", "/api/agencies/import")).to_have_count(1)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "docs.png")

    bearer = token("officer", [CITY], sub="docs-user")
    page.locator(".auth-wrapper button.authorize").click()
    dialog = page.locator(".dialog-ux")
    dialog.locator("input[type='text']").first.fill(bearer)
    dialog.locator(".auth-btn-wrapper button.authorize").first.click()
    expect(dialog.locator("button.btn-done").first).to_be_visible()
    dialog.locator("button.btn-done").first.click()
    expect(dialog).to_have_count(0)

    open_tag(page, "progress")
    scorecard = operation(page, "get", SIGNED_IN_ONLY)
    scorecard.locator(".opblock-summary-control").click()
    scorecard.locator("button.try-out__btn").click()
    with page.expect_request(lambda r: urlsplit(r.url).path == SIGNED_IN_ONLY) as sent:
        scorecard.locator("button.execute").click()
    assert sent.value.headers.get("authorization") == f"Bearer {bearer}"
    status = scorecard.locator(".live-responses-table .response .response-col_status")
    expect(status).to_have_text("200")
    expect(scorecard.locator(".live-responses-table .response .response-col_description")).to_contain_text('"items"')
    scorecard.locator(".request-url").scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "docs-try-it-out.png")
