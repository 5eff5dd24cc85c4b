"""The dashboard's pages and assets are served by the gateway itself, and none of them reaches out
to another host: the dashboard must work on an intranet with no internet."""

from __future__ import annotations

import re

from gateway.web import WEB_DIR

CONTENT_TYPES = {
    ".html": "text/html",
    ".js": "javascript",  # text/javascript or application/javascript, both run as modules
    ".css": "text/css",
}
# A URL of another host: http(s)://… or protocol-relative //host/… in an attribute, import or url().
EXTERNAL_URL = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)
# XML namespace names are identifiers that no browser fetches.
NAMESPACES = {"http://www.w3.org/2000/svg"}
LOCAL_REFERENCE = re.compile(r"""(?:src|href)="(/[^"]*)"|from\s+"\./([^"]+)"|import\s+"\./([^"]+)\"""")


def asset_names() -> list[str]:
    return sorted(p.name for p in WEB_DIR.iterdir() if p.is_file())


def external_urls(text: str) -> list[str]:
    hits = []
    for match in EXTERNAL_URL.finditer(text):
        start = match.start()
        if any(text.startswith(ns, start) for ns in NAMESPACES):
            continue
        hits.append(text[start : start + 60])
    return hits


def references(text: str) -> set[str]:
    """Paths a page or module loads from the gateway: src/href attributes and relative imports."""
    found = set()
    for attribute, imported, side_effect in LOCAL_REFERENCE.findall(text):
        if attribute:
            found.add(attribute)
        else:
            found.add(f"/web/{imported or side_effect}")
    return found


async def test_every_asset_is_served_with_its_content_type(app_client):
    _app, client = app_client
    names = asset_names()
    assert {"index.html", "signin.html", "app.js", "style.css"} <= set(names)
    for name in names:
        resp = await client.get(f"/web/{name}")
        assert resp.status_code == 200, name
        suffix = name[name.rfind(".") :]
        assert CONTENT_TYPES[suffix] in resp.headers["content-type"], (name, resp.headers["content-type"])


async def test_pages_are_served_with_a_policy_that_allows_only_the_gateway(app_client):
    _app, client = app_client
    for path, script in (("/", "/web/app.js"), ("/signin", "/web/signin.js")):
        resp = await client.get(path)
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/html")
        assert f'<script type="module" src="{script}">' in resp.text
        policy = resp.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy and "connect-src 'self'" in policy
        assert resp.headers["referrer-policy"] == "no-referrer"  # a sign-in link holds a token
        assert 'lang="zh-CN"' in resp.text


async def test_everything_a_page_loads_is_served_here(app_client):
    _app, client = app_client
    pending, seen = ["/", "/signin"], set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        resp = await client.get(path)
        assert resp.status_code == 200, f"{path} is referenced but not served"
        pending.extend(references(resp.text) - seen)
    # the walk reached every module through the imports
    assert {"/web/api.js", "/web/chart.js", "/web/views.js", "/web/format.js", "/web/dom.js"} <= seen


async def test_no_asset_reaches_another_host(app_client):
    _app, client = app_client
    for path in ["/", "/signin", *(f"/web/{name}" for name in asset_names())]:
        text = (await client.get(path)).text
        assert external_urls(text) == [], path


def test_the_external_url_check_catches_what_it_must():
    assert external_urls('<script src="https://cdn.jsdelivr.net/npm/chart.js">') != []
    assert external_urls("@import url(//fonts.googleapis.com/css?family=Noto);") != []
    assert external_urls('import x from "http://example.com/x.js"') != []
    assert external_urls('document.createElementNS("http://www.w3.org/2000/svg", "svg")') == []
    assert external_urls('fetch("/api/progress/plans")') == []


async def test_the_api_and_missing_assets_are_not_shadowed(app_client):
    _app, client = app_client
    assert (await client.get("/api/progress/plans")).headers["content-type"].startswith("application/json")
    assert (await client.get("/web/no-such-file.js")).status_code == 404
