"""Whatever a caller sends answers 4xx, never 500: a path parameter that is no key (a NUL reached
PostgreSQL), a date outside 1900–2200."""

import pytest

from zhichan.testing import auth, refuses_bad_keys


async def test_every_path_parameter_is_a_key(app_client):
    app, client = app_client
    assert await refuses_bad_keys(app, client, auth("admin")) == []


@pytest.mark.parametrize(
    "path",
    [
        "/cases?filed_from=0001-01-01",
        "/cases?closed_to=9999-12-31",
        "/cases/stats?from=0583-11-12",
        "/cases/stats?to=2201-01-01",
        "/cases/overdue?as_of=1899-12-31",
        "/cases/deadline-rules?on=0001-01-01",
        "/campaigns?active_on=0001-01-01",
        "/watchlist?as_of=9999-12-31",
        "/watchlist/window?on=0001-01-01",
        "/disclosure/cases?from=0001-01-01",
        "/disclosure/cases?to=9999-12-31",
    ],
)
async def test_dates_outside_1900_to_2200_answer_422(client, path):
    answer = await client.get(path, headers=auth("admin"))
    assert answer.status_code == 422, answer.text
