"""/docs is Swagger UI 5 from the gateway's own vendored copy: the page loads nothing from elsewhere,
every asset it names is served with its content type, and the copy can render OpenAPI 3.1."""

from __future__ import annotations

import re

from gateway.openapi import SWAGGER_UI_DIR, SWAGGER_UI_PATH, swagger_ui_version

CONTENT_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
ATTRIBUTE_URL = re.compile(r"""(?:src|href)="([^"]+)\"""")
# Swagger UI's build stamps its package version into the bundle.
BUNDLE_VERSION = re.compile(rb'PACKAGE_VERSION:"([0-9]+\.[0-9]+\.[0-9]+)"')


async def test_docs_page_loads_only_the_vendored_assets(app_client):
    _app, client = app_client
    resp = await client.get("/docs")
    assert resp.status_code == 200
    urls = ATTRIBUTE_URL.findall(resp.text)
    version = swagger_ui_version()
    assert {
        f"{SWAGGER_UI_PATH}/swagger-ui-bundle.js?v={version}",
        f"{SWAGGER_UI_PATH}/swagger-ui.css?v={version}",
        f"{SWAGGER_UI_PATH}/favicon-32x32.png?v={version}",
    } == set(urls)
    assert "url: '/openapi.json'" in resp.text
    assert "//" not in "".join(urls) and "cdn" not in resp.text.lower()
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        suffix = url.split("?")[0].rsplit(".", 1)[-1]
        assert CONTENT_TYPES[f".{suffix}"] in asset.headers["content-type"], (url, asset.headers["content-type"])


async def test_the_served_bundle_is_swagger_ui_5_as_recorded(app_client):
    """Swagger UI 4 answers FastAPI's OpenAPI 3.1 with "Unable to render this definition"."""
    _app, client = app_client
    bundle = await client.get(f"{SWAGGER_UI_PATH}/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    found = BUNDLE_VERSION.findall(bundle.content)
    assert found == [swagger_ui_version().encode()], found
    assert int(found[0].split(b".")[0]) >= 5
    # Apache-2.0: the licence and notice travel with the copy
    assert "Apache License" in (SWAGGER_UI_DIR / "LICENSE").read_text()
    assert (SWAGGER_UI_DIR / "NOTICE").is_file()
