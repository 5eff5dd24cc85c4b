"""Practitioners through the app: joining, leaving, one agency per certificate, lists."""

from services.agencies.models import Practitioner
from services.agencies.tests.integration.conftest import (
    active_agency,
    assert_each_refused,
    assert_problem,
    collect_pages,
    count_rows,
    outbox_envelopes,
)
from zhichan.testing import auth

JOINED = "zhichan.agencies.practitioner.joined.v1"
LEFT = "zhichan.agencies.practitioner.left.v1"


def practitioner(number: str = "3200123", type_: str = "patent_attorney", **extra) -> dict:
    return {"name": "王律", "type": type_, "certificate_number": number, **extra}


async def test_joining_answers_201_and_publishes_the_full_state(app_client, officer):
    app, client = app_client
    agency = await active_agency(client, officer)
    resp = await client.post(
        f"/agencies/{agency['id']}/practitioners", json=practitioner(joined_on="2024-03-01"), headers=officer
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["status"] == "active" and body["joined_on"] == "2024-03-01" and body["region"] == "320311"
    assert resp.headers["location"] == f"/practitioners/{body['id']}" and resp.headers["etag"]
    [event] = await outbox_envelopes(app, JOINED)
    assert event["subject"] == f"practitioner/{body['id']}" and event["region"] == "320311"
    assert event["data"]["type"] == "patent_attorney" and event["data"]["joined_on"] == "2024-03-01"
    fetched = await client.get(f"/practitioners/{body['id']}", headers=officer)
    assert fetched.json() == body and fetched.headers["etag"] == f'"{body["id"]}.1"'


BAD_PRACTITIONERS = [
    (practitioner("320012"), "certificate_number"),
    (practitioner("9900123"), "certificate_number"),
    (practitioner("3200123", "trademark_agent"), "certificate_number"),
    (practitioner("TM32000001", "astrologer"), "type"),
    (practitioner(name=" "), "name"),
    (practitioner(joined_on="2999-01-01"), "joined_on"),
    (practitioner(joined_on="2022-12-31"), "joined_on"),  # before the agency was filed
]


async def test_bad_practitioner_input_is_422_and_stores_nothing(app_client, officer):
    app, client = app_client
    agency = await active_agency(client, officer)

    async def send(body):
        return await client.post(f"/agencies/{agency['id']}/practitioners", json=body, headers=officer)

    await assert_each_refused(app, send, BAD_PRACTITIONERS, Practitioner)


async def test_a_certificate_practises_in_one_agency_at_a_time(app_client, officer):
    app, client = app_client
    first = await active_agency(client, officer, 1)
    second = await active_agency(client, officer, 2)
    joined = (
        await client.post(
            f"/agencies/{first['id']}/practitioners", json=practitioner(joined_on="2024-01-01"), headers=officer
        )
    ).json()
    for agency in (second, first):
        refused = await client.post(f"/agencies/{agency['id']}/practitioners", json=practitioner(), headers=officer)
        assert assert_problem(refused, 409)["practitioner_id"] == joined["id"]
    assert await count_rows(app, Practitioner) == 1

    left = await client.post(
        f"/practitioners/{joined['id']}/leave", json={"left_on": "2025-06-30", "reason": "跳槽"}, headers=officer
    )
    assert left.status_code == 200 and left.json()["status"] == "left" and left.json()["left_on"] == "2025-06-30"
    overlapping = await client.post(
        f"/agencies/{second['id']}/practitioners", json=practitioner(joined_on="2025-06-29"), headers=officer
    )
    assert_problem(overlapping, 422, "joined_on")
    moved = await client.post(
        f"/agencies/{second['id']}/practitioners", json=practitioner(joined_on="2025-07-01"), headers=officer
    )
    assert moved.status_code == 201
    assert [e["data"]["status"] for e in await outbox_envelopes(app) if "practitioner" in e["type"]] == [
        "active",
        "left",
        "active",
    ]


async def test_leaving_rules(client, officer):
    agency = await active_agency(client, officer)
    joined = (
        await client.post(
            f"/agencies/{agency['id']}/practitioners", json=practitioner(joined_on="2024-01-01"), headers=officer
        )
    ).json()
    leave = f"/practitioners/{joined['id']}/leave"
    assert_problem(await client.post(leave, json={"left_on": "2023-12-31"}, headers=officer), 422, "left_on")
    assert_problem(await client.post(leave, json={"left_on": "2999-01-01"}, headers=officer), 422, "left_on")
    assert (await client.post(leave, headers=officer)).status_code == 200  # no body: leaves today
    assert assert_problem(await client.post(leave, headers=officer), 409)["current_status"] == "left"
    assert_problem(await client.post("/practitioners/NOPE/leave", headers=officer), 404)


async def test_unknown_and_deregistered_agencies_take_no_practitioners(client, officer):
    assert_problem(await client.post("/agencies/NOPE/practitioners", json=practitioner(), headers=officer), 404)
    agency = await active_agency(client, officer)
    await client.post(f"/agencies/{agency['id']}/deregister", headers=officer)
    assert_problem(
        await client.post(f"/agencies/{agency['id']}/practitioners", json=practitioner(), headers=officer), 409
    )


async def test_deregistering_an_agency_releases_its_practitioners(app_client, officer):
    app, client = app_client
    agency = await active_agency(client, officer)
    for number in ("3200123", "3200124"):
        body = practitioner(number, joined_on="2024-01-01")
        await client.post(f"/agencies/{agency['id']}/practitioners", json=body, headers=officer)
    await client.post(f"/agencies/{agency['id']}/deregister", json={"date": "2025-05-01"}, headers=officer)
    items = await collect_pages(client, "/practitioners", officer, agency_id=agency["id"])
    assert {(p["status"], p["left_on"]) for p in items} == {("left", "2025-05-01")}
    left_events = await outbox_envelopes(app, LEFT)
    assert len(left_events) == 2 and all(e["data"]["leave_reason"] for e in left_events)


async def test_list_filters_by_region_type_status_and_certificate(client):
    admin = auth("admin")
    xuzhou = await active_agency(client, admin, 1, region="320311")
    fuzhou = await active_agency(client, admin, 2, region="350102")
    await client.post(f"/agencies/{xuzhou['id']}/practitioners", json=practitioner("3200001"), headers=admin)
    await client.post(
        f"/agencies/{xuzhou['id']}/practitioners", json=practitioner("TM32000001", "trademark_agent"), headers=admin
    )
    gone = (
        await client.post(f"/agencies/{fuzhou['id']}/practitioners", json=practitioner("3500001"), headers=admin)
    ).json()
    await client.post(f"/practitioners/{gone['id']}/leave", headers=admin)

    async def numbers(**params):
        return sorted(p["certificate_number"] for p in await collect_pages(client, "/practitioners", admin, **params))

    assert await numbers() == ["3200001", "3500001", "TM32000001"]
    assert await numbers(region="320300") == ["3200001", "TM32000001"]  # the city includes the district
    assert await numbers(type="trademark_agent") == ["TM32000001"]
    assert await numbers(status="left") == ["3500001"]
    assert await numbers(certificate_number="tm32000001") == ["TM32000001"]
    pages = await collect_pages(client, "/practitioners", admin, limit=1)
    assert len(pages) == 3 and [p["id"] for p in pages] == sorted(p["id"] for p in pages)
    assert_problem(await client.get("/practitioners", params={"type": "astrologer"}, headers=admin), 422, "type")
    assert_problem(await client.get("/practitioners", params={"region": "999999"}, headers=admin), 422, "region")


async def test_practitioners_are_scoped_to_the_callers_regions(client):
    fuzhou_officer = auth("officer", ["350102"])
    xuzhou_officer = auth("officer", ["320311"])
    fuzhou = await active_agency(client, fuzhou_officer, 9, region="350102")
    joined = (
        await client.post(
            f"/agencies/{fuzhou['id']}/practitioners", json=practitioner("3500009"), headers=fuzhou_officer
        )
    ).json()
    assert_problem(await client.get(f"/practitioners/{joined['id']}", headers=xuzhou_officer), 404)
    assert (await client.get("/practitioners", headers=xuzhou_officer)).json()["items"] == []
    assert_problem(await client.post(f"/practitioners/{joined['id']}/leave", headers=xuzhou_officer), 404)
    auditor = auth("auditor", ["350102"])
    assert (await client.get(f"/practitioners/{joined['id']}", headers=auditor)).status_code == 200
    assert_problem(await client.post(f"/practitioners/{joined['id']}/leave", headers=auditor), 403)
    assert_problem(await client.get("/practitioners"), 401)


async def test_a_certificate_practising_in_another_region_answers_409_naming_nothing_of_it(app_client, officer):
    app, client = app_client
    zhenjiang = auth("officer", ["321100"])
    theirs = await active_agency(client, zhenjiang, 1, region="321102")
    joined = (
        await client.post(f"/agencies/{theirs['id']}/practitioners", json=practitioner(), headers=zhenjiang)
    ).json()
    mine = await active_agency(client, officer, 2)
    refused = await client.post(f"/agencies/{mine['id']}/practitioners", json=practitioner(), headers=officer)
    problem = assert_problem(refused, 409)
    assert "practitioner_id" not in problem
    for secret in (theirs["id"], joined["id"], "321102", theirs["name"]):
        assert secret not in refused.text, secret
    assert await count_rows(app, Practitioner) == 1
