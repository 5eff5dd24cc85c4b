"""Whatever a caller sends answers 4xx, never 500: a path parameter that is no key (a NUL reached
PostgreSQL), a date outside 1900–2200, an amount past what a money column holds."""

import pytest

from zhichan.testing import auth, refuses_bad_keys


async def test_every_path_parameter_is_a_key(app_client):
    app, client = app_client
    assert await refuses_bad_keys(app, client, auth("admin")) == []


@pytest.mark.parametrize(
    "path",
    [
        "/pledges?registered_from=0583-11-12&max_amount=4.946893584413394e%2B24",
        "/pledges?max_amount=4.946893584413394e%2B24",
        "/pledges?min_amount=-6.90067237948759e%2B33",
        "/pledges?registered_from=0583-11-12",
        "/pledges?registered_to=9999-12-31",
        "/transactions?recorded_from=0001-01-01",
        "/insurance-policies?starts_to=2201-01-01",
        "/matchmaking-events?held_from=1899-12-31",
        "/financing/summary?from=0001-01-01",
        "/financing/summary?to=9999-12-31",
    ],
)
async def test_dates_and_amounts_out_of_range_answer_422(client, path):
    answer = await client.get(path, headers=auth("admin"))
    assert answer.status_code == 422, answer.text
