"""Debian's Chromium driven by Playwright (never `playwright install`) on the real broker and processes."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.e2e.conftest import stack  # noqa: F401 - the real broker and processes, as in the e2e tests

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"  # screenshots, kept by CI
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A loaded CI machine computes a view in well under this.
EACH_STEP_MS = 15_000
expect.set_options(timeout=EACH_STEP_MS)
# For each test module: skipped before the stack starts when there is no browser.
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed: apt-get install chromium"
)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Browser, stack):  # noqa: F811 - the imported fixture
    """A fresh page that fails the test on a script error or on a request to any other host."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(EACH_STEP_MS)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    # console errors include what the Content-Security-Policy refused and failed loads
    page.on("console", lambda message: message.type == "error" and problems.append(f"console: {message.text}"))
    host = urlsplit(stack.gateway_url).netloc

    def outside(request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https") and parts.netloc != host:
            problems.append(f"request to another host: {request.url}")

    page.on("request", outside)
    yield page
    context.close()
    assert problems == []
