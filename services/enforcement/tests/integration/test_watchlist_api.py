"""The repeat-infringer watch list (重点监管): who enters it, for which region, for how long."""

import asyncio
from datetime import timedelta

from services.enforcement.tests.integration.conftest import (
    JINGKOU,
    RUNZHOU,
    ZHENJIANG,
    company,
    events_match_their_contracts,
    file_case,
    outbox,
    run_steps,
)
from zhichan.clock import today
from zhichan.testing import auth

REPEAT = company(77, name="镇江市屡犯贸易有限公司")


async def decided_against(client, headers, n: int, decided: str, region: str = JINGKOU) -> dict:
    """A penalty case against the repeat respondent, filed and decided on the same day."""
    case = await file_case(client, headers, n=n, region=region, respondent=REPEAT, filed_date=decided)
    return await run_steps(
        client, case["id"], headers, ("investigate", decided, {}), ("decide", decided, {"outcome": "penalty_decision"})
    )


async def listed(client, headers, **params) -> list[dict]:
    resp = await client.get("/watchlist", params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()["items"]


def watch_events(events: list[dict]) -> list[tuple[str, str]]:
    return [(e["type"].split(".")[3], e["data"]["region"]) for e in events if ".watchlist_entry." in e["type"]]


async def test_two_decisions_in_two_districts_list_the_respondent_for_the_city(app, client, officer):
    first = await decided_against(client, officer, 1, "2025-02-01")
    assert watch_events(await outbox(app)) == []
    second = await decided_against(client, officer, 2, "2025-05-01", region=RUNZHOU)
    # each district has one decision; the province and the city have two
    assert watch_events(await outbox(app)) == [("entered", "320000"), ("entered", ZHENJIANG)]

    [entry] = await listed(client, officer, region=ZHENJIANG, as_of="2025-06-01")
    assert (entry["uscc"], entry["respondent_name"], entry["region"]) == (REPEAT["uscc"], REPEAT["name"], ZHENJIANG)
    assert (entry["window_years"], entry["listed_since"], entry["listed_until"]) == (5, "2025-05-01", "2030-02-01")
    assert [(c["case_id"], c["decided_date"], c["counts_until"]) for c in entry["cases"]] == [
        (first["id"], "2025-02-01", "2030-02-01"),
        (second["id"], "2025-05-01", "2030-05-01"),
    ]
    assert await listed(client, officer, region=JINGKOU, as_of="2025-06-01") == []
    assert await listed(client, officer, region=ZHENJIANG, as_of="2025-04-30") == []  # one decision only
    assert await listed(client, officer, region=ZHENJIANG, as_of="2030-02-02") == []  # the first aged out
    assert [e["id"] for e in await listed(client, officer, as_of="2025-06-01")] == [f"{ZHENJIANG}:{REPEAT['uscc']}"]
    province = await listed(client, auth("admin"), as_of="2025-06-01")
    assert [e["region"] for e in province] == ["320000"]
    await events_match_their_contracts(app)


async def test_a_third_decision_lists_the_district_and_updates_the_city(app, client, officer):
    await decided_against(client, officer, 1, "2025-02-01")
    await decided_against(client, officer, 2, "2025-05-01", region=RUNZHOU)
    await decided_against(client, officer, 3, "2025-08-01")
    assert watch_events(await outbox(app))[2:] == [("updated", "320000"), ("updated", ZHENJIANG), ("entered", JINGKOU)]
    [city] = await listed(client, officer, region=ZHENJIANG, as_of="2025-09-01")
    assert city["listed_until"] == "2030-05-01" and len(city["cases"]) == 3
    [district] = await listed(client, officer, region=JINGKOU, as_of="2025-09-01")
    assert district["listed_since"] == "2025-08-01" and len(district["cases"]) == 2


async def test_decisions_not_against_the_respondent_do_not_count(app, client, officer):
    await decided_against(client, officer, 1, "2025-02-01")
    adjudicated = await file_case(
        client,
        officer,
        n=2,
        respondent=REPEAT,
        procedure="administrative_adjudication",
        type="patent_infringement_dispute",
        filed_date="2025-03-01",
    )
    await run_steps(
        client,
        adjudicated["id"],
        officer,
        ("investigate", "2025-03-01", {}),
        ("decide", "2025-04-01", {"outcome": "adjudication_no_infringement"}),
    )
    dismissed = await file_case(client, officer, n=3, respondent=REPEAT, filed_date="2025-03-01")
    await run_steps(
        client,
        dismissed["id"],
        officer,
        ("investigate", "2025-03-01", {}),
        ("decide", "2025-04-02", {"outcome": "dismissed"}),
    )
    person = {"name": "张三"}
    for n in (4, 5):
        case = await file_case(client, officer, n=n, respondent=person, filed_date="2025-03-01")
        await run_steps(
            client,
            case["id"],
            officer,
            ("investigate", "2025-03-01", {}),
            ("decide", "2025-04-03", {"outcome": "penalty_decision"}),
        )
    assert watch_events(await outbox(app)) == []
    assert await listed(client, officer, region=ZHENJIANG, as_of="2025-06-01") == []
    found = await file_case(
        client,
        officer,
        n=6,
        respondent=REPEAT,
        procedure="administrative_adjudication",
        type="patent_infringement_dispute",
        filed_date="2025-03-01",
    )
    await run_steps(
        client,
        found["id"],
        officer,
        ("investigate", "2025-03-01", {}),
        ("decide", "2025-05-01", {"outcome": "adjudication_infringement"}),
    )
    [entry] = await listed(client, officer, region=JINGKOU, as_of="2025-06-01")
    assert [c["outcome"] for c in entry["cases"]] == ["penalty_decision", "adjudication_infringement"]


async def test_a_shorter_window_from_today_ends_the_listing(app, client, officer):
    now = today()
    older, newer = (now - timedelta(days=400)).isoformat(), (now - timedelta(days=380)).isoformat()
    await decided_against(client, officer, 1, older)
    await decided_against(client, officer, 2, newer)
    assert [e["region"] for e in await listed(client, officer, region=JINGKOU)] == [JINGKOU]

    window = await client.get("/watchlist/window", params={"region": JINGKOU}, headers=officer)
    assert window.status_code == 200 and window.json()["years"] == 5 and window.json()["source_region"] is None
    resp = await client.put(
        "/watchlist/window", json={"region": ZHENJIANG, "years": 1, "reason": "从严监管"}, headers=officer
    )
    assert resp.status_code == 200, resp.text
    assert (resp.json()["years"], resp.json()["effective_from"]) == (1, now.isoformat())
    inherited = (await client.get("/watchlist/window", params={"region": JINGKOU}, headers=officer)).json()
    assert (inherited["years"], inherited["source_region"]) == (1, ZHENJIANG)

    assert await listed(client, officer, region=JINGKOU) == []
    [before] = await listed(client, officer, region=JINGKOU, as_of=(now - timedelta(days=1)).isoformat())
    assert before["listed_until"] == (now - timedelta(days=1)).isoformat() and before["window_years"] == 5
    changes = watch_events(await outbox(app))
    assert changes[-2:] == [("updated", ZHENJIANG), ("updated", JINGKOU)]  # the province keeps its window
    assert "zhichan.enforcement.region_policy.watch_window_changed.v1" in await events_match_their_contracts(app)


async def test_the_window_is_tagged_with_the_version_of_the_regions_own_settings(client, officer):
    national = await client.get("/watchlist/window", headers=officer)
    assert national.headers["etag"] == '"region-policy-default.0"' and "version" not in national.json()
    read = await client.get("/watchlist/window", params={"region": ZHENJIANG}, headers=officer)
    assert read.headers["etag"] == f'"region-policy-{ZHENJIANG}.0"'
    body = {"region": ZHENJIANG, "years": 3}
    changed = await client.put("/watchlist/window", json=body, headers={**officer, "If-Match": read.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] == f'"region-policy-{ZHENJIANG}.1"'
    stale = await client.put("/watchlist/window", json=body, headers={**officer, "If-Match": read.headers["etag"]})
    assert stale.status_code == 412


async def test_bad_window_changes_are_refused(app, client, officer):
    yesterday = (today() - timedelta(days=1)).isoformat()
    for body, field in [
        ({"region": ZHENJIANG, "years": 0}, "years"),
        ({"region": ZHENJIANG, "years": 3, "effective_from": yesterday}, "effective_from"),
        ({"region": "999999", "years": 3}, "region"),
    ]:
        resp = await client.put("/watchlist/window", json=body, headers=officer)
        assert resp.status_code == 422 and any(field in e["loc"] for e in resp.json()["errors"]), resp.text
    assert (
        await client.put("/watchlist/window", json={"region": "420500", "years": 3}, headers=officer)
    ).status_code == 403
    assert await outbox(app) == []


async def test_the_watch_list_is_scoped(client, officer):
    await decided_against(client, officer, 1, "2025-02-01")
    await decided_against(client, officer, 2, "2025-05-01")
    assert await listed(client, auth("officer", [RUNZHOU]), region=JINGKOU, as_of="2025-06-01") == []
    assert await listed(client, auth("officer", ["420500"]), as_of="2025-06-01") == []
    assert len(await listed(client, auth("auditor", [JINGKOU]), as_of="2025-06-01")) == 1
    assert (await client.get("/watchlist")).status_code == 401


async def test_simultaneous_decisions_against_one_respondent_still_list_it(app, client, officer):
    cases = []
    for n, region in ((1, JINGKOU), (2, RUNZHOU)):
        case = await file_case(client, officer, n=n, region=region, respondent=REPEAT, filed_date="2025-03-01")
        await run_steps(client, case["id"], officer, ("investigate", "2025-03-01", {}))
        cases.append(case)
    decide = {"date": "2025-04-01", "outcome": "penalty_decision"}
    answers = await asyncio.gather(
        *(client.post(f"/cases/{c['id']}/decide", json=decide, headers=officer) for c in cases)
    )
    assert [a.status_code for a in answers] == [200, 200]
    assert [e["region"] for e in await listed(client, officer, region=ZHENJIANG, as_of="2025-04-01")] == [ZHENJIANG]
