"""Who sees which progress view: a region's figures — the metrics, its overview, the scorecard —
are for admin, officer, auditor and department, each within their regions; a `public` token is
refused them (403) whatever regions it names. Published plans' progress stays public."""

from __future__ import annotations

import pytest

from gateway.tests.integration import test_plan_progress
from gateway.tests.integration.test_plan_progress import AS_OF, feed
from zhichan.testing import auth

targets_events = test_plan_progress.targets_events  # the fixture: the plan's real events

QUANSHAN, XUZHOU, FUZHOU_GULOU = "320311", "320300", "350102"
REGION_VIEWS = [
    "/api/progress/metrics",
    "/api/progress/metrics/financing.pledge_amount",
    f"/api/progress/metrics/financing.pledge_amount?region={QUANSHAN}",
    "/api/progress/metrics/financing.pledge_amount/series?from=2025-01-01&to=2025-06-30",
    f"/api/progress/regions/{QUANSHAN}",
    "/api/progress/scorecard",
]
STAFF = {
    "admin": auth("admin"),
    "officer": auth("officer", [QUANSHAN]),
    "auditor": auth("auditor", [QUANSHAN]),
    "department": auth("department", [QUANSHAN], department="区市场监管局"),
}
PUBLIC = auth("public", [QUANSHAN])
PLAN = "/api/progress/plans/quanshan-2025-2026"


@pytest.mark.parametrize("path", REGION_VIEWS)
async def test_a_public_token_is_refused_the_region_views_whatever_regions_it_names(app_client, path):
    _app, client = app_client
    for headers in (PUBLIC, auth("public", [XUZHOU]), auth("public")):
        resp = await client.get(path, headers=headers)
        assert resp.status_code == 403, resp.text
        assert resp.headers["content-type"] == "application/problem+json"
        assert resp.json()["type"].endswith("/forbidden")
    anonymous = await client.get(path)
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", REGION_VIEWS)
@pytest.mark.parametrize("role", list(STAFF))
async def test_staff_see_the_region_views_of_their_regions(app_client, path, role):
    _app, client = app_client
    resp = await client.get(path, headers=STAFF[role])
    assert resp.status_code == 200, resp.text


async def test_a_department_sees_its_own_region_only(app_client):
    _app, client = app_client
    department = STAFF["department"]
    assert (await client.get(f"/api/progress/regions/{QUANSHAN}", headers=department)).status_code == 200
    assert (await client.get(f"/api/progress/regions/{FUZHOU_GULOU}", headers=department)).status_code == 403
    elsewhere = await client.get(
        "/api/progress/metrics/financing.pledge_amount", params={"region": FUZHOU_GULOU}, headers=department
    )
    assert elsewhere.status_code == 403


async def test_published_plans_progress_stays_public(app_client, targets_events):
    app, client = app_client
    await feed(app, targets_events)
    for headers in ({}, PUBLIC):
        view = await client.get(PLAN, params={"as_of": AS_OF}, headers=headers)
        assert view.status_code == 200 and view.json()["plan"]["key"] == "quanshan-2025-2026"
        series = await client.get(f"{PLAN}/indicators/pledges/series", params={"as_of": AS_OF}, headers=headers)
        assert series.status_code == 200
        plans = await client.get("/api/progress/plans", headers=headers)
        assert [p["key"] for p in plans.json()["items"]] == ["quanshan-2025-2026"]
