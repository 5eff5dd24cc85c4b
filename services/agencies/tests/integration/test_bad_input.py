"""Whatever a caller sends answers 4xx, never 500: a path parameter that is no key (a NUL reached
PostgreSQL), a year or a date outside 1900–2200 (year 0 reached ``date()``)."""

import pytest

from zhichan.testing import auth, refuses_bad_keys


async def test_every_path_parameter_is_a_key(app_client):
    app, client = app_client
    assert await refuses_bad_keys(app, client, auth("admin")) == []


@pytest.mark.parametrize(
    "path",
    [
        "/disclosure/inspections?year=0",
        "/disclosure/inspections?year=126063",
        "/inspections?year=-1138",
        "/inspections?year=0",
        "/annual-reports?year=0",
        "/annual-reports?year=99999999999999999999",
        "/complaints/overdue?as_of=0583-11-12",
        "/agencies/k/credit?as_of=9999-12-31",
    ],
)
async def test_years_and_dates_outside_1900_to_2200_answer_422(client, path):
    answer = await client.get(path, headers=auth("admin"))
    assert answer.status_code == 422, answer.text
