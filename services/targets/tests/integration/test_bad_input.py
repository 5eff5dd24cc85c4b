"""Whatever a caller sends answers 4xx, never 500: a path parameter that is no key (a NUL reached
PostgreSQL), a period outside 1900–2200, a plan file nested too deeply (RecursionError)."""

import json

import pytest

from services.targets import planfile
from services.targets.tests.integration.conftest import YAML
from zhichan.testing import auth, refuses_bad_keys


async def test_every_path_parameter_is_a_key(app_client):
    app, client = app_client
    assert await refuses_bad_keys(app, client, auth("admin")) == []


@pytest.mark.parametrize("period", ["0583", "0001-01-01", "1899..2020", "2020..2201", "9999-12-31"])
async def test_a_period_outside_1900_to_2200_answers_422(client, period):
    answer = await client.get("/plans", params={"period": period})
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["loc"] == ["period"]


@pytest.mark.parametrize("media", ["application/json", YAML["Content-Type"]])
async def test_a_plan_file_nested_too_deeply_answers_422_naming_where(client, media):
    body = json.dumps({"plan": {"key": "deep"}, "indicators": [{"filters": "deep"}]})
    body = body.replace('"filters": "deep"', '"filters": ' + "[" * 50_000 + "]" * 50_000)
    answer = await client.post("/plans/import", content=body.encode(), headers={**auth("admin"), "Content-Type": media})
    assert answer.status_code == 422, answer.text
    where = "indicators[0].filters" + "[0]" * (planfile.MAX_DEPTH - 3)
    assert [e["path"] for e in answer.json()["errors"]] == [where]
