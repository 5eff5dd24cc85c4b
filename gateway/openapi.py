"""The merged API: the gateway's own routes plus every service's, under ``/api``. Each service's
operations keep their ids (their route functions' names, unique across the document: a test says
so) and answer 503 as well, when the gateway cannot reach the service.

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
from zhichan.api.problems import PROBLEM_JSON

log = logging.getLogger("zhichan.gateway.openapi")
CACHE_SECONDS = 30.0
SKIPPED_PATHS = ("/healthz", "/readyz", "/metrics")
# Per-service documents; the gateway serves them as /api/meta/<service>/enums and …/asyncapi.json.
PER_SERVICE_PATHS = {"/meta/enums": "enums", "/asyncapi.json": "asyncapi.json"}
SWAGGER_UI_DIR = Path(__file__).parent / "vendor" / "swagger_ui"
SWAGGER_UI_PATH = "/static/swagger-ui"
# With 150 tags and operations or more in view, Swagger UI 5.3x renders only those near the
# viewport: the merged API opens with its tags collapsed (each tag expands on a click, or opens
# through a deep link such as /docs#/agencies) and with a box that filters the tags by name.
SWAGGER_UI_PARAMETERS = {"docExpansion": "none", "filter": True}
UNAVAILABLE = {
    "description": "Service unavailable: the gateway could not reach the service that owns the path",
    "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


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
                merged["paths"][f"/api/meta/{service}/{PER_SERVICE_PATHS[path]}"] = _proxied(_retag(item, service))
                continue
            merged["paths"]["/api" + path] = _proxied(item)
        schemas.update(spec.get("components", {}).get("schemas", {}))
        for scheme_name, scheme in spec.get("components", {}).get("securitySchemes", {}).items():
            merged["components"].setdefault("securitySchemes", {})[scheme_name] = scheme
        for tag in spec.get("tags", []):
            tags.setdefault(tag["name"], tag)
    if tags:
        merged["tags"] = list(tags.values())
    return merged


def _proxied(item: dict) -> dict:
    item = copy.deepcopy(item)
    for operation in item.values():
        if isinstance(operation, dict):
            operation.setdefault("responses", {})["503"] = copy.deepcopy(UNAVAILABLE)
    return item


def _retag(item: dict, service: str) -> dict:
    """A service's own document, tagged ``meta`` and named for the service: ``get_enum_labels``
    becomes ``get_targets_enum_labels``."""
    item = copy.deepcopy(item)
    for operation in item.values():
        if isinstance(operation, dict):
            operation["tags"] = ["meta"]
            verb, _, rest = operation.get("operationId", "get_document").partition("_")
            operation["operationId"] = f"{verb}_{service}_{rest}"
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
        # the title too: generators name their models after it (openapi-python-client refuses two alike)
        schemas[f"{service.title()}{name}"] = {**schemas.pop(name), "title": f"{service.title()}{name}"}
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
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )

    return router
