"""Whatever a caller sends the gateway answers 4xx, never a server error: a path parameter of a
progress view that is no key (a NUL reached PostgreSQL, a 500), and a request forwarded on a
connection the service is closing (a 503, now and then, under load)."""

from __future__ import annotations

import pytest
import uvicorn

from zhichan.testing import BAD_KEYS, auth

VIEWS = ("/api/progress/plans/{}", "/api/progress/plans/k/indicators/{}/series", "/api/progress/regions/{}")


@pytest.mark.parametrize("bad", BAD_KEYS)
@pytest.mark.parametrize("view", VIEWS)
async def test_a_progress_view_of_no_key_answers_422(app_client, view, bad):
    _app, client = app_client
    answer = await client.get(view.format(bad), headers=auth("admin"))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


async def test_the_proxy_lets_idle_connections_go_before_the_services_close_them(app_client):
    """A service (uvicorn) closes a connection idle for timeout_keep_alive (5 s). httpx kept one
    as long, so now and then the gateway sent a request on a connection the service was closing
    that moment: ReadError, and the caller got 503. Idle connections now go well before."""
    app, _client = app_client
    pool = app.state.http._transport._pool
    assert pool._keepalive_expiry <= uvicorn.Config(app=app).timeout_keep_alive / 2
