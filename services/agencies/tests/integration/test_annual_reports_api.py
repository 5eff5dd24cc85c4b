"""Annual reports through the app: one per agency and year, corrections supersede, lists."""

from services.agencies.models import AnnualReport
from services.agencies.tests.integration.conftest import (
    active_agency,
    assert_each_refused,
    assert_problem,
    collect_pages,
    count_rows,
    outbox_envelopes,
)
from zhichan.clock import today
from zhichan.testing import auth


def report(year: int = 2024, **overrides) -> dict:
    body = {"year": year, "staff": 12, "practitioners": 4, "service_revenue": "1860000.50", "filings_handled": 310}
    return {**body, **overrides}


async def test_a_report_is_stored_with_exact_revenue_and_published(app_client, officer):
    app, client = app_client
    agency = await active_agency(client, officer)
    resp = await client.post(f"/agencies/{agency['id']}/annual-reports", json=report(), headers=officer)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["service_revenue"] == "1860000.50" and body["status"] == "current" and body["supersedes"] is None
    assert body["submitted_on"] == today().isoformat()
    [event] = await outbox_envelopes(app, "zhichan.agencies.annual_report.submitted.v1")
    assert event["data"]["service_revenue"] == "1860000.50" and event["data"]["year"] == 2024
    assert event["data"]["staff"] == 12 and event["subject"] == f"annual_report/{body['id']}"


BAD_REPORTS = [
    (report(today().year + 1), "year"),  # a future year
    (report(2022), "year"),  # before the agency was filed (2023)
    (report(service_revenue="-0.01"), "service_revenue"),
    (report(service_revenue="10.001"), "service_revenue"),
    (report(service_revenue=10.5), "service_revenue"),  # floats are refused: money is a decimal string
    (report(service_revenue="99999999999999"), "service_revenue"),
    (report(staff=-1), "staff"),
    (report(staff=3, practitioners=4), "practitioners"),
    (report(filings_handled=-2), "filings_handled"),
    (report(supersede_reason="nothing to correct"), "supersede_reason"),
]


async def test_bad_reports_are_422_and_store_nothing(app_client, officer):
    app, client = app_client
    agency = await active_agency(client, officer)

    async def send(body):
        return await client.post(f"/agencies/{agency['id']}/annual-reports", json=body, headers=officer)

    await assert_each_refused(app, send, BAD_REPORTS, AnnualReport)


async def test_unknown_agency_is_404(client, officer):
    assert_problem(await client.post("/agencies/NOPE/annual-reports", json=report(), headers=officer), 404)
    assert_problem(await client.get("/agencies/NOPE/annual-reports", headers=officer), 404)


async def test_a_second_report_for_the_year_is_409_unless_it_supersedes_with_a_reason(app_client, officer):
    app, client = app_client
    agency = await active_agency(client, officer)
    path = f"/agencies/{agency['id']}/annual-reports"
    first = (await client.post(path, json=report(), headers=officer)).json()
    second = await client.post(path, json=report(staff=13), headers=officer)
    assert assert_problem(second, 409)["current_report"] == first["id"]
    assert await count_rows(app, AnnualReport) == 1

    correction = await client.post(
        path, json=report(staff=13, service_revenue="1900000.00", supersede_reason="收入统计口径更正"), headers=officer
    )
    assert correction.status_code == 201, correction.text
    corrected = correction.json()
    assert corrected["supersedes"] == first["id"] and corrected["supersede_reason"] == "收入统计口径更正"
    events = await outbox_envelopes(app)
    superseded = [e for e in events if e["type"] == "zhichan.agencies.annual_report.superseded.v1"]
    assert [e["data"]["id"] for e in superseded] == [first["id"]]
    assert superseded[0]["data"]["superseded_by"] == corrected["id"] and superseded[0]["aggregateversion"] == 2

    current = await collect_pages(client, path, officer)
    assert [r["id"] for r in current] == [corrected["id"]]
    everything = await collect_pages(client, path, officer, include_superseded="true")
    assert {r["id"]: r["status"] for r in everything} == {first["id"]: "superseded", corrected["id"]: "current"}
    # another year is a report of its own
    assert (await client.post(path, json=report(2025), headers=officer)).status_code == 201


async def test_lists_per_region_and_year(client):
    admin = auth("admin")
    xuzhou = await active_agency(client, admin, 1, region="320311")
    gulou = await active_agency(client, admin, 2, region="320302")
    fuzhou = await active_agency(client, admin, 3, region="350102")
    for agency in (xuzhou, gulou, fuzhou):
        for year in (2023, 2024):
            await client.post(f"/agencies/{agency['id']}/annual-reports", json=report(year), headers=admin)

    async def agencies_reporting(**params):
        return sorted(r["agency_id"] for r in await collect_pages(client, "/annual-reports", admin, **params))

    assert await agencies_reporting(region="320300", year=2024) == sorted([xuzhou["id"], gulou["id"]])
    assert await agencies_reporting(region="350102") == [fuzhou["id"]] * 2
    assert len(await agencies_reporting(year=2023)) == 3
    assert len(await collect_pages(client, "/annual-reports", admin, limit=2)) == 6
    xuzhou_officer = auth("officer", ["320311"])
    seen = await collect_pages(client, "/annual-reports", xuzhou_officer)
    assert {r["region"] for r in seen} == {"320311"}
    assert_problem(await client.get(f"/agencies/{fuzhou['id']}/annual-reports", headers=xuzhou_officer), 404)
    assert_problem(
        await client.post(f"/agencies/{fuzhou['id']}/annual-reports", json=report(2025), headers=xuzhou_officer), 404
    )
    assert_problem(await client.post(f"/agencies/{xuzhou['id']}/annual-reports", json=report(2025)), 401)
