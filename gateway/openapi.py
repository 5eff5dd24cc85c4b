"""The merged API: the gateway's own routes plus every service's, under ``/api``.

Swagger UI is served from the gateway's own copy of npm's swagger-ui-dist in ``gateway/vendor/swagger_ui``
(an intranet has no CDN; its README says how to update it). It must be Swagger UI 5 or later: 4 cannot
render the OpenAPI 3.1 that FastAPI emits.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from pathlib import Path

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from zhichan import SERVICES

log = logging.getLogger("zhichan.gateway.openapi")
CACHE_SECONDS = 30.0
SKIPPED_PATHS = ("/healthz", "/readyz", "/metrics")
# Per-service documents; the gateway serves them as /api/meta/<service>/enums and …/asyncapi.json.
PER_SERVICE_PATHS = {"/meta/enums": "enums", "/asyncapi.json": "asyncapi.json"}
SWAGGER_UI_DIR = Path(__file__).parent / "vendor" / "swagger_ui"
SWAGGER_UI_PATH = "/static/swagger-ui"


def swagger_ui_version() -> str:
    """The vendored Swagger UI's version, as the update script recorded it."""
    return (SWAGGER_UI_DIR / "VERSION").read_text(encoding="utf-8").strip()


def merge_openapi(own: dict, services: dict[str, dict]) -> dict:
    merged = copy.deepcopy(own)
    merged.setdefault("paths", {})
    schemas = merged.setdefault("components", {}).setdefault("schemas", {})
    tags = {t["name"]: t for t in merged.get("tags", [])}
    for service, spec in services.items():
        spec = _rename_conflicting_schemas(service, spec, schemas)
        for path, item in spec.get("paths", {}).items():
            if path in SKIPPED_PATHS:
                continue
            if path in PER_SERVICE_PATHS:
                merged["paths"][f"/api/meta/{service}/{PER_SERVICE_PATHS[path]}"] = _retag(item, service)
                continue
            merged["paths"]["/api" + path] = item
        schemas.update(spec.get("components", {}).get("schemas", {}))
        for scheme_name, scheme in spec.get("components", {}).get("securitySchemes", {}).items():
            merged["components"].setdefault("securitySchemes", {})[scheme_name] = scheme
        for tag in spec.get("tags", []):
            tags.setdefault(tag["name"], tag)
    if tags:
        merged["tags"] = list(tags.values())
    return merged


def _retag(item: dict, service: str) -> dict:
    item = copy.deepcopy(item)
    for operation in item.values():
        if isinstance(operation, dict):
            operation["tags"] = ["meta"]
            operation["operationId"] = f"{service}_{operation.get('operationId', 'document')}"
            operation["summary"] = f"{service}: {operation.get('summary', '')}"
    return item


def _rename_conflicting_schemas(service: str, spec: dict, existing: dict) -> dict:
    theirs = spec.get("components", {}).get("schemas", {})
    clashes = [name for name, schema in theirs.items() if name in existing and existing[name] != schema]
    if not clashes:
        return spec
    text = json.dumps(spec)
    for name in clashes:
        text = text.replace(f'"#/components/schemas/{name}"', f'"#/components/schemas/{service.title()}{name}"')
    renamed = json.loads(text)
    schemas = renamed["components"]["schemas"]
    for name in clashes:
        schemas[f"{service.title()}{name}"] = schemas.pop(name)
    return renamed


def docs_router(app: FastAPI) -> APIRouter:
    app.mount(SWAGGER_UI_PATH, StaticFiles(directory=SWAGGER_UI_DIR), name="swagger-ui")
    # The version in the asset URLs: a browser holding an older copy under the same name fetches anew.
    version = f"?v={swagger_ui_version()}"
    router = APIRouter(include_in_schema=False)
    cache: dict = {"at": 0.0, "doc": None}

    @router.get("/openapi.json")
    async def openapi(request: Request) -> JSONResponse:
        if cache["doc"] is None or time.monotonic() - cache["at"] > CACHE_SECONDS:
            settings = request.app.state.settings
            client: httpx.AsyncClient = request.app.state.http
            specs = {}
            for service in SERVICES:
                try:
                    resp = await client.get(f"{settings.service_url(service)}/openapi.json", timeout=3.0)
                    resp.raise_for_status()
                    specs[service] = resp.json()
                except httpx.HTTPError as exc:
                    log.warning("no OpenAPI from %s: %s", service, exc)
            doc = merge_openapi(request.app.openapi(), specs)
            if len(specs) == len(SERVICES):  # cache only a complete document
                cache.update(at=time.monotonic(), doc=doc)
            return JSONResponse(doc)
        return JSONResponse(cache["doc"])

    @router.get("/docs")
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="知产 Zhichan API",
            swagger_js_url=f"{SWAGGER_UI_PATH}/swagger-ui-bundle.js{version}",
            swagger_css_url=f"{SWAGGER_UI_PATH}/swagger-ui.css{version}",
            swagger_favicon_url=f"{SWAGGER_UI_PATH}/favicon-32x32.png{version}",
        )

    return router
