"""A region defined a moment ago in the targets service is usable at once here: the service asks
the targets service before refusing an unknown code (zhichan.api.region_lookup), and runs the
request again; a code the targets service does not know stays refused, asked once a while."""

import httpx

from services.financing.models import Pledge
from services.financing.tests.integration.conftest import XUZHOU, count_rows, pledge_body
from zhichan.api.region_lookup import RegionLookup
from zhichan.regions import registry
from zhichan.uscc import build_uscc

ZONE = "320300-XZHTZ"  # a zone of 徐州市 the targets service has just defined
ZONE_ANSWER = {
    "code": ZONE,
    "name": "徐州高新技术产业开发区",
    "level": "zone",
    "parent": XUZHOU,
    "custom": True,
    "ancestors": [
        {"code": XUZHOU, "name": "徐州市", "level": "city", "parent": "320000"},
        {"code": "320000", "name": "江苏省", "level": "province", "parent": None},
    ],
    "children": [],
}


def targets_knowing(asked: list[str], *answers: dict) -> httpx.MockTransport:
    known = {answer["code"]: answer for answer in answers}

    def handle(request: httpx.Request) -> httpx.Response:
        code = request.url.path.removeprefix("/regions/")
        asked.append(code)
        if code in known:
            return httpx.Response(200, json=known[code])
        return httpx.Response(404, json={"title": "Not found", "status": 404})

    return httpx.MockTransport(handle)


async def test_a_pledge_in_a_zone_defined_a_moment_ago_is_registered_at_once(app_client, officer):
    app, client = app_client
    asked: list[str] = []
    app.state.region_lookup = RegionLookup("http://targets", transport=targets_knowing(asked, ZONE_ANSWER))
    assert ZONE not in registry()  # its event has not arrived
    body = pledge_body(region=ZONE, pledgor_uscc=build_uscc("320300", 7))
    resp = await client.post("/pledges", json=body, headers={**officer, "Idempotency-Key": "zone-pledge-1"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["region"] == ZONE and asked == [ZONE]
    assert registry().get(ZONE).parent == XUZHOU
    # The idempotency key keeps the answer the client got, not the refusal before the lookup.
    again = await client.post("/pledges", json=body, headers={**officer, "Idempotency-Key": "zone-pledge-1"})
    assert again.status_code == 201 and again.json()["id"] == resp.json()["id"]
    listed = await client.get("/pledges", params={"region": ZONE}, headers=officer)
    assert listed.status_code == 200 and [p["id"] for p in listed.json()["items"]] == [resp.json()["id"]]
    assert asked == [ZONE]  # known now: never asked again


async def test_a_code_nobody_knows_is_refused_and_asked_for_once_a_while(app_client, officer):
    app, client = app_client
    asked: list[str] = []
    app.state.region_lookup = RegionLookup("http://targets", transport=targets_knowing(asked))
    body = pledge_body(region="320300-NOWHERE", pledgor_uscc=build_uscc("320300", 8))
    for _ in range(3):
        resp = await client.post("/pledges", json=body, headers=officer)
        assert resp.status_code == 422 and "unknown region code '320300-NOWHERE'" in resp.text
    assert asked == ["320300-NOWHERE"]
    assert await count_rows(app, Pledge) == 0


async def test_the_targets_service_out_of_reach_leaves_the_refusal_as_it_was(app_client, officer):
    app, client = app_client

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    app.state.region_lookup = RegionLookup("http://targets", transport=httpx.MockTransport(unreachable))
    resp = await client.get("/pledges", params={"region": ZONE}, headers=officer)
    assert resp.status_code == 422 and resp.headers["content-type"] == "application/problem+json"
    assert f"unknown region code '{ZONE}'" in resp.text
