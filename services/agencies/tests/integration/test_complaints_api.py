"""Complaints through the app: deadlines in working days, resolution, the credit archive, privacy."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from services.agencies.models import Complaint
from services.agencies.settings import AgenciesRules
from services.agencies.tests.integration.conftest import (
    active_agency,
    assert_each_refused,
    assert_problem,
    collect_pages,
    outbox_envelopes,
    outbox_types,
)
from zhichan.api.idempotency import IdempotencyRecord
from zhichan.api.pagination import encode_cursor
from zhichan.clock import today
from zhichan.events.outbox import OutboxEvent
from zhichan.testing import auth

CONTACT = "李女士 13912345678"


def complaint(agency_id: str, **overrides) -> dict:
    body = {
        "agency_id": agency_id,
        "channel": "hotline",
        "received_on": "2025-09-26",
        "content": "代理机构承诺包授权并收取高额费用",
        "complainant_contact": CONTACT,
    }
    return {**body, **overrides}


async def test_the_deadline_is_15_working_days_across_national_day(app_client, officer):
    app, client = app_client
    agency = await active_agency(client, officer)
    resp = await client.post("/complaints", json=complaint(agency["id"]), headers=officer)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    # Friday 26 September 2025: the adjusted working days 28.9 (Sunday) and 11.10 (Saturday) count,
    # 1–8 October do not: the 15th working day is Thursday 23 October.
    assert body["deadline"] == "2025-10-23" and body["handling_working_days"] == 15
    assert body["status"] == "open" and body["deadline_provisional"] is False
    assert resp.headers["location"] == f"/complaints/{body['id']}"
    [event] = await outbox_envelopes(app, "zhichan.agencies.complaint.received.v1")
    assert event["data"]["received_on"] == "2025-09-26" and event["data"]["deadline"] == "2025-10-23"


async def test_the_handling_period_is_configurable(start_app):
    async with start_app(AgenciesRules(complaint_handling_working_days=10)) as (_, client):
        officer = auth("officer", ["320311"])
        agency = await active_agency(client, officer)
        # from Friday 13 February 2026 (Spring Festival 15–23.2 off; Saturdays 14.2 and 28.2 worked):
        # 14.2, 24.2, 25.2, 26.2, 27.2, 28.2, 2.3, 3.3, 4.3, 5.3
        body = (
            await client.post("/complaints", json=complaint(agency["id"], received_on="2026-02-13"), headers=officer)
        ).json()
        assert body["handling_working_days"] == 10 and body["deadline"] == "2026-03-05"


BAD_COMPLAINTS = [
    ({"agency_id": "NOPE"}, "agency_id"),
    ({"channel": "pigeon"}, "channel"),
    ({"received_on": "2999-01-01"}, "received_on"),
    ({"content": "   "}, "content"),
    ({"complainant_contact": "x" * 201}, "complainant_contact"),
]


async def test_bad_complaints_are_422_and_store_nothing(app_client, officer):
    app, client = app_client
    agency = await active_agency(client, officer)

    async def send(change):
        return await client.post("/complaints", json={**complaint(agency["id"]), **change}, headers=officer)

    await assert_each_refused(app, send, BAD_COMPLAINTS, Complaint)


async def test_an_agency_in_another_region_is_unknown_to_the_caller(client):
    fuzhou = await active_agency(client, auth("officer", ["350102"]), 9, region="350102")
    resp = await client.post("/complaints", json=complaint(fuzhou["id"]), headers=auth("officer", ["320311"]))
    assert_problem(resp, 422, "agency_id")


async def test_an_upheld_complaint_enters_the_credit_archive(app_client, officer):
    app, client = app_client
    agency = await active_agency(client, officer)
    received = (await client.post("/complaints", json=complaint(agency["id"]), headers=officer)).json()
    resolve = f"/complaints/{received['id']}/resolve"
    resp = await client.post(
        resolve, json={"outcome": "upheld", "findings": "存在虚假承诺", "resolved_on": "2025-10-20"}, headers=officer
    )
    assert resp.status_code == 200, resp.text
    resolved = resp.json()
    assert resolved["status"] == "resolved" and resolved["resolved_on_time"] is True and resolved["version"] == 2
    [event] = await outbox_envelopes(app, "zhichan.agencies.complaint.resolved.v1")
    assert event["data"]["outcome"] == "upheld" and event["data"]["resolved_on_time"] is True
    [entry] = await outbox_envelopes(app, "zhichan.agencies.credit_entry.recorded.v1")
    assert entry["data"]["kind"] == "complaint_upheld" and entry["data"]["source_id"] == received["id"]
    assert entry["data"]["occurred_on"] == "2025-10-20" and entry["data"]["points"] == 10
    credit = (await client.get(f"/agencies/{agency['id']}/credit", headers=officer)).json()
    assert credit["grade"] == "B" and credit["counted"][0]["kind"] == "complaint_upheld"
    assert assert_problem(
        await client.post(resolve, json={"outcome": "rejected", "findings": "x"}, headers=officer), 409
    )


@pytest.mark.parametrize("outcome", ["rejected", "mediated"])
async def test_other_outcomes_leave_the_archive_alone(app_client, officer, outcome):
    app, client = app_client
    agency = await active_agency(client, officer)
    received = (await client.post("/complaints", json=complaint(agency["id"]), headers=officer)).json()
    resp = await client.post(
        f"/complaints/{received['id']}/resolve", json={"outcome": outcome, "findings": "经核查"}, headers=officer
    )
    assert resp.status_code == 200 and resp.json()["resolved_on_time"] is False  # today is past 23.10.2025
    assert "zhichan.agencies.credit_entry.recorded.v1" not in await outbox_types(app)


BAD_RESOLUTIONS = [
    ({"outcome": "forgiven", "findings": "x"}, "outcome"),
    ({"outcome": "upheld"}, "findings"),
    ({"outcome": "upheld", "findings": "x", "resolved_on": "2025-09-25"}, "resolved_on"),  # before receipt
    ({"outcome": "upheld", "findings": "x", "resolved_on": "2999-01-01"}, "resolved_on"),
]


async def test_bad_resolutions_are_422_and_change_nothing(app_client, officer):
    app, client = app_client
    agency = await active_agency(client, officer)
    received = (await client.post("/complaints", json=complaint(agency["id"]), headers=officer)).json()

    async def send(body):
        return await client.post(f"/complaints/{received['id']}/resolve", json=body, headers=officer)

    await assert_each_refused(app, send, BAD_RESOLUTIONS)
    assert (await client.get(f"/complaints/{received['id']}", headers=officer)).json()["status"] == "open"
    valid = {"outcome": "upheld", "findings": "x"}
    assert_problem(await client.post("/complaints/NOPE/resolve", json=valid, headers=officer), 404)


async def test_overdue_lists_open_complaints_past_their_deadline(client, officer):
    agency = await active_agency(client, officer)
    late = (await client.post("/complaints", json=complaint(agency["id"]), headers=officer)).json()  # due 23.10.2025
    later = (
        await client.post("/complaints", json=complaint(agency["id"], received_on="2025-09-01"), headers=officer)
    ).json()
    fresh = (await client.post("/complaints", json=complaint(agency["id"], received_on=None), headers=officer)).json()
    done = (await client.post("/complaints", json=complaint(agency["id"]), headers=officer)).json()
    await client.post(
        f"/complaints/{done['id']}/resolve", json={"outcome": "mediated", "findings": "x"}, headers=officer
    )

    async def overdue(**params):
        return [c["id"] for c in await collect_pages(client, "/complaints/overdue", officer, **params)]

    assert await overdue() == [later["id"], late["id"]]  # earliest deadline first
    assert await overdue(limit=1) == [later["id"], late["id"]]
    assert await overdue(as_of="2025-10-23") == [later["id"]]  # due that day: not yet overdue
    assert await overdue(as_of="2025-10-24") == [later["id"], late["id"]]
    assert fresh["id"] not in await overdue(as_of=(today() + timedelta(days=1)).isoformat())
    assert await overdue(region="350102") == []
    assert_problem(
        await client.get(
            "/complaints/overdue", params={"cursor": encode_cursor({"key": "someday", "id": "x"})}, headers=officer
        ),
        422,
        "cursor",
    )


async def test_complaint_lists_filter_and_page(client):
    admin = auth("admin")
    xuzhou = await active_agency(client, admin, 1)
    fuzhou = await active_agency(client, admin, 2, region="350102")
    for agency, channel in ((xuzhou, "hotline"), (xuzhou, "letter"), (fuzhou, "online")):
        await client.post("/complaints", json=complaint(agency["id"], channel=channel), headers=admin)
    [letter] = await collect_pages(client, "/complaints", admin, channel="letter")
    await client.post(
        f"/complaints/{letter['id']}/resolve", json={"outcome": "rejected", "findings": "x"}, headers=admin
    )

    async def count(**params):
        return len(await collect_pages(client, "/complaints", admin, **params))

    assert await count() == 3 and await count(limit=1) == 3
    assert await count(region="320311") == 2 and await count(agency_id=fuzhou["id"]) == 1
    assert await count(status="resolved") == 1 and await count(outcome="rejected") == 1
    assert await count(status="open", region="320300") == 1
    assert_problem(await client.get("/complaints", params={"channel": "pigeon"}, headers=admin), 422, "channel")
    xuzhou_officer = auth("officer", ["320311"])
    assert {c["region"] for c in await collect_pages(client, "/complaints", xuzhou_officer)} == {"320311"}
    other = (await collect_pages(client, "/complaints", admin, region="350102"))[0]
    assert_problem(await client.get(f"/complaints/{other['id']}", headers=xuzhou_officer), 404)
    assert_problem(
        await client.post(
            f"/complaints/{other['id']}/resolve", json={"outcome": "upheld", "findings": "x"}, headers=xuzhou_officer
        ),
        404,
    )
    assert_problem(await client.get("/complaints"), 401)
    assert_problem(
        await client.post("/complaints", json=complaint(xuzhou["id"]), headers=auth("auditor", ["320311"])), 403
    )


async def test_the_complainants_contact_stays_private(app_client, officer):
    app, client = app_client
    agency = await active_agency(client, officer)
    created = await client.post(
        "/complaints", json=complaint(agency["id"]), headers={**officer, "Idempotency-Key": "complaint-1"}
    )
    assert created.status_code == 201 and CONTACT not in created.text
    cid = created.json()["id"]
    resolved = await client.post(
        f"/complaints/{cid}/resolve", json={"outcome": "upheld", "findings": "属实"}, headers=officer
    )
    assert CONTACT not in resolved.text
    # only an officer reading the single complaint sees it whole; other readers see it masked
    assert (await client.get(f"/complaints/{cid}", headers=officer)).json()["complainant_contact"] == CONTACT
    assert (await client.get(f"/complaints/{cid}", headers=auth("admin"))).json()["complainant_contact"] == CONTACT
    for role in ("auditor", "department"):
        single = await client.get(f"/complaints/{cid}", headers=auth(role, ["320311"]))
        assert single.status_code == 200 and single.json()["complainant_contact"] == "李** 139****5678"
        assert "13912345678" not in single.text and "李女士" not in single.text
    for path in ("/complaints", "/complaints/overdue", f"/agencies/{agency['id']}/credit-entries"):
        listed = await client.get(path, headers=officer)
        assert listed.status_code == 200 and CONTACT not in listed.text
    for path in ("/disclosure/credit", "/disclosure/inspections"):
        assert CONTACT not in (await client.get(path)).text
    async with app.state.session_factory() as session:
        envelopes = (await session.execute(select(OutboxEvent.envelope))).scalars().all()
        replies = (await session.execute(select(IdempotencyRecord.response_body))).scalars().all()
    assert envelopes and not any(CONTACT in e for e in envelopes)
    assert replies and not any(CONTACT.encode() in r for r in replies)
