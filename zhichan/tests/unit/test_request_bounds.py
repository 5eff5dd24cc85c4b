"""The kernel's request types bound what a caller can make a service look up or compute: a path
parameter naming a record (``Key``), a business date (``Day``, 1900–2200) and a year (``Year``).
Each refusal is a 422 problem naming the parameter, where the unbounded value was a 500: a NUL
in a path reached PostgreSQL, year 0 reached ``date()``."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import FastAPI, Query

from zhichan.api.problems import PROBLEM_JSON, install_problem_handlers
from zhichan.fields import Day, Key, Year


def app_with_routes() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/plans/{key}/indicators/{ikey}")
    async def indicator(key: Key, ikey: Key) -> dict:
        return {"key": key, "ikey": ikey}

    @app.get("/days")
    async def days(on: Annotated[Day | None, Query()] = None, year: Annotated[Year | None, Query()] = None) -> dict:
        return {"on": on, "year": year}

    return app


async def get(path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app_with_routes())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path)


@pytest.mark.parametrize(
    "key", ["01JD0Z8Q3W4V5X6Y7Z8A9B0C1D", "zhenjiang-etdz-2024-2026", "321100-ETDZ", "a", "pledge_financing"]
)
async def test_ids_keys_and_region_codes_are_keys(key):
    answer = await get(f"/plans/{key}/indicators/{key}")
    assert answer.status_code == 200
    assert answer.json() == {"key": key, "ikey": key}


@pytest.mark.parametrize("raw", ["%00", "a%00b", "%01", "%1F", "%C3%28", "%FF", "-a", "a%20b", "%E4%B8%AD", "x" * 101])
async def test_control_characters_non_ascii_and_overlong_keys_are_refused(raw):
    answer = await get(f"/plans/{raw}/indicators/a")
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert [e["loc"] for e in answer.json()["errors"]] == [["key"]]


@pytest.mark.parametrize("on", ["1900-01-01", "2026-12-04", "2200-12-31"])
async def test_days_from_1900_to_2200_are_taken(on):
    answer = await get(f"/days?on={on}")
    assert answer.status_code == 200
    assert answer.json()["on"] == on


@pytest.mark.parametrize("on", ["0583-11-12", "0001-01-01", "1899-12-31", "2201-01-01", "9999-12-31"])
async def test_days_outside_1900_to_2200_are_refused(on):
    answer = await get(f"/days?on={on}")
    assert answer.status_code == 422
    assert [e["loc"] for e in answer.json()["errors"]] == [["on"]]


@pytest.mark.parametrize("year, status", [(1900, 200), (2200, 200), (0, 422), (-1138, 422), (126063, 422), (1899, 422)])
async def test_years_lie_in_1900_to_2200(year, status):
    assert (await get(f"/days?year={year}")).status_code == status
