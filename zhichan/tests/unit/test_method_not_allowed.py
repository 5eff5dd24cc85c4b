"""A method a path does not take answers 405 as a problem, with ``Allow`` naming every method the
path takes, whichever route (or included router) declares each."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, FastAPI

from zhichan.api.problems import PROBLEM_JSON, install_problem_handlers


def app_with_routes() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    router = APIRouter(prefix="/cases")

    @router.post("")
    async def file_case() -> dict:
        return {}

    @router.get("")
    async def list_cases() -> dict:
        return {}

    @router.post("/{case_id}/close")
    async def close_case(case_id: str) -> dict:
        return {}

    app.include_router(router)

    @app.get("/healthz")
    async def check_alive() -> dict:
        return {}

    return app


async def test_a_405_names_every_method_of_the_path_in_allow():
    transport = httpx.ASGITransport(app=app_with_routes())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for method, path, allow in [
            ("DELETE", "/cases", "GET, POST"),
            ("PUT", "/cases", "GET, POST"),
            ("OPTIONS", "/cases", "GET, POST"),
            ("GET", "/cases/01ABC/close", "POST"),
            ("POST", "/healthz", "GET"),
        ]:
            resp = await client.request(method, path)
            assert resp.status_code == 405, (method, path)
            assert resp.headers["allow"] == allow, (method, path)
            assert resp.headers["content-type"].startswith(PROBLEM_JSON)
            assert resp.json()["status"] == 405
        assert (await client.delete("/nowhere")).status_code == 404
