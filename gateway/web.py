"""The web dashboard: two pages and their static assets, all served by the gateway itself.

The pages are plain HTML with ES modules from ``gateway/web`` (no build step, no CDN: an intranet
has no internet). They read the same ``/api/progress/…`` answers as any other client, with the
bearer token the user signed in with; the API, not the page, enforces the scope.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

WEB_DIR = Path(__file__).parent / "web"
ASSETS_PATH = "/web"
# Everything from the gateway itself: a page that tried to load from elsewhere would break offline.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    # Never pass a page's address on (a sign-in link's token is in its fragment, which no browser
    # sends; this keeps any other address of ours out of Referer headers too).
    "Referrer-Policy": "no-referrer",
}


def page(name: str) -> FileResponse:
    return FileResponse(WEB_DIR / name, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


def web_router(app: FastAPI) -> APIRouter:
    app.mount(ASSETS_PATH, StaticFiles(directory=WEB_DIR), name="web")
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def dashboard() -> FileResponse:
        return page("index.html")

    @router.get("/signin")
    async def signin() -> FileResponse:
        return page("signin.html")

    return router
