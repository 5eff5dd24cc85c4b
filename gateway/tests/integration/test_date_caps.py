"""The dates a progress view is asked for: each within 1900–2200, and a metric series 50 years
long at most — each answered 422 naming the parameter, where a year 1 or 9999 was a 500 or
120 000 months computed."""

from __future__ import annotations

import pytest

from zhichan.testing import auth

ADMIN = auth("admin")
SERIES = "/api/progress/metrics/financing.pledge_amount/series"


def names(resp) -> list[list]:
    return [e["loc"] for e in resp.json()["errors"]]


def is_422(resp) -> bool:
    return resp.status_code == 422 and resp.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        (SERIES, {"from": "0583-11-12", "to": "2025-01-01"}, "from"),
        (SERIES, {"from": "2025-01-01", "to": "9999-12-31"}, "to"),
        (SERIES, {"from": "1899-12-31", "to": "1900-06-30"}, "from"),
        ("/api/progress/metrics/financing.pledge_amount", {"from": "0001-01-01"}, "from"),
        ("/api/progress/metrics/financing.pledge_amount", {"to": "2201-01-01"}, "to"),
        ("/api/progress/metrics/agencies.active_agencies", {"as_of": "0001-01-01"}, "as_of"),
        ("/api/progress/regions/320300", {"as_of": "0001-01-01"}, "as_of"),
        ("/api/progress/regions/320300", {"as_of": "9999-12-31"}, "as_of"),
        ("/api/progress/scorecard", {"as_of": "1899-12-31"}, "as_of"),
        ("/api/progress/plans/quanshan-2025-2026", {"as_of": "0001-01-01"}, "as_of"),
    ],
)
async def test_a_date_before_1900_or_after_2200_answers_422_naming_it(app_client, path, params, parameter):
    _app, client = app_client
    resp = await client.get(path, params=params, headers=ADMIN)
    assert is_422(resp), resp.text
    assert names(resp) == [[parameter]]


async def test_a_series_spans_50_years_at_most(app_client):
    _app, client = app_client
    too_long = await client.get(SERIES, params={"from": "1950-01-01", "to": "2000-01-02"}, headers=ADMIN)
    assert is_422(too_long)
    assert names(too_long) == [["from"], ["to"]]
    assert "50 years" in too_long.json()["detail"]
    widest = await client.get(SERIES, params={"from": "1900-01-01", "to": "2200-12-31"}, headers=ADMIN)
    assert is_422(widest) and names(widest) == [["from"], ["to"]]
    fifty = await client.get(
        SERIES, params={"from": "1950-01-01", "to": "2000-01-01", "interval": "year"}, headers=ADMIN
    )
    assert fifty.status_code == 200 and len(fifty.json()["points"]) == 51
    edges = await client.get(SERIES, params={"from": "1900-01-01", "to": "1900-03-31"}, headers=ADMIN)
    assert edges.status_code == 200 and len(edges.json()["points"]) == 3
    late = await client.get(SERIES, params={"from": "2200-11-01", "to": "2200-12-31"}, headers=ADMIN)
    assert late.status_code == 200 and len(late.json()["points"]) == 2
