"""GET /financing/summary: figures per region and window, exact to the fen."""

from services.financing.tests.integration.conftest import (
    FUZHOU_GULOU,
    GULOU,
    QUANSHAN,
    XUZHOU,
    asset,
    matchmaking_body,
    pledge_body,
    policy_body,
    transaction_body,
)
from zhichan.clock import today
from zhichan.testing import auth

WINDOW = {"from": "2025-01-01", "to": "2025-06-30"}


def zero(count_key: str = "count") -> dict:
    return {count_key: 0, "amount": {"yuan": "0.00", "wan_yuan": "0", "yi_yuan": "0"}}


async def post(client, headers, path: str, body: dict) -> dict:
    resp = await client.post(path, json=body, headers=headers)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


async def seed(client, admin) -> None:
    """Six pledges, five transactions, three policies, three events across two cities."""

    def pledge(serial, region, assets, amount, registered):
        return pledge_body(
            serial, region, assets=assets, loan_amount=amount, registered_on=registered, loan_term_start=registered
        )

    p1 = await post(client, admin, "/pledges", pledge(1, QUANSHAN, [asset()], "1000000.01", "2025-01-10"))
    await post(
        client,
        admin,
        "/pledges",
        pledge(2, QUANSHAN, [asset(number="A"), asset(number="B")], "2000000.02", "2025-02-10"),
    )
    p3 = await post(
        client, admin, "/pledges", pledge(3, GULOU, [asset("trademark", "T"), asset()], "3000000.03", "2025-03-10")
    )
    await post(client, admin, "/pledges", pledge(4, GULOU, [asset("copyright", "C")], "400000.04", "2024-12-31"))
    await post(client, admin, "/pledges", pledge(5, FUZHOU_GULOU, [asset("gi", "G")], "5000000.05", "2025-03-01"))
    p6 = await post(
        client, admin, "/pledges", pledge(6, QUANSHAN, [asset("layout_design", "L")], "600000.06", "2025-06-01")
    )
    await post(client, admin, f"/pledges/{p1['id']}/release", {"date": "2025-05-01"})
    await post(client, admin, f"/pledges/{p3['id']}/default", {"date": "2025-04-01", "outstanding": "1500000.00"})
    await post(client, admin, f"/pledges/{p6['id']}/default", {"date": "2025-06-05", "outstanding": "600000.06"})
    await post(client, admin, f"/pledges/{p6['id']}/dispose", {"date": "2025-06-20", "proceeds": "1"})

    for n, (type_, region, assets, amount, recorded) in enumerate(
        [
            ("transfer", QUANSHAN, [asset(number="A"), asset(number="B")], "100000.10", "2025-02-01"),
            ("licence", GULOU, [asset(), asset("trademark", "T")], "50000.05", "2025-03-01"),
            ("open_licence", QUANSHAN, [asset()], "0", "2025-04-01"),
            ("licence", QUANSHAN, [asset()], "999", "2024-12-01"),
            ("transfer", FUZHOU_GULOU, [asset()], "1", "2025-02-01"),
        ],
        start=1,
    ):
        body = transaction_body(
            n, region, type=type_, assets=assets, amount=amount, contract_date=recorded, recorded_on=recorded
        )
        await post(client, admin, "/transactions", body)

    for n, (region, assets, insured, premium, start) in enumerate(
        [
            (QUANSHAN, [asset(), asset("trademark", "T")], "1000000", "12000.12", "2025-05-01"),
            (GULOU, [asset("gi", "G")], "500000", "5000", "2025-01-01"),
            (QUANSHAN, [asset()], "700000", "7000", "2025-07-01"),
        ],
        start=1,
    ):
        body = policy_body(
            n,
            region,
            assets=assets,
            insured_amount=insured,
            premium=premium,
            period_start=start,
            period_end="2026-12-31",
        )
        await post(client, admin, "/insurance-policies", body)

    await post(client, admin, "/matchmaking-events", matchmaking_body(QUANSHAN))
    await post(
        client,
        admin,
        "/matchmaking-events",
        matchmaking_body(GULOU, held_on="2025-03-01", intended_amount="0", signed_amount="0", enterprises_attending=10),
    )
    await post(client, admin, "/matchmaking-events", matchmaking_body(FUZHOU_GULOU, held_on="2025-03-01"))


def units(yuan_: str, wan: str, yi: str) -> dict:
    return {"yuan": yuan_, "wan_yuan": wan, "yi_yuan": yi}


async def test_summary_of_a_city_over_a_window(client, admin):
    await seed(client, admin)
    resp = await client.get("/financing/summary", params={"region": XUZHOU, **WINDOW}, headers=admin)
    assert resp.status_code == 200, resp.text
    summary = resp.json()
    assert (summary["region"], summary["from"], summary["to"]) == (XUZHOU, "2025-01-01", "2025-06-30")

    pledges = summary["pledges"]
    assert pledges["count"] == 4
    assert pledges["amount"] == units("6600000.12", "660.000012", "0.0660000012")
    assert pledges["by_kind"] == {
        "patent": {"count": 2, "amount": units("1600000.07", "160.000007", "0.0160000007")},
        "portfolio": {"count": 1, "amount": units("2000000.02", "200.000002", "0.0200000002")},
        "mixed": {"count": 1, "amount": units("3000000.03", "300.000003", "0.0300000003")},
        "trademark": zero(),
        "copyright": zero(),
    }
    by_type = pledges["by_asset_type"]
    assert by_type["patent"] == {"count": 3, "amount": units("6000000.06", "600.000006", "0.0600000006")}
    assert by_type["trademark"]["count"] == 1 and by_type["trademark"]["amount"]["yuan"] == "3000000.03"
    assert by_type["layout_design"]["count"] == 1 and by_type["layout_design"]["amount"]["yuan"] == "600000.06"
    assert by_type["copyright"] == zero() and by_type["gi"] == zero()
    assert pledges["patents_pledged"] == 4
    # P2 whole, P3 at default, P4 (registered before the window); P1 released, P6 disposed
    assert pledges["outstanding_at_to"] == units("3900000.06", "390.000006", "0.0390000006")

    transactions = summary["transactions"]
    assert (transactions["count"], transactions["asset_count"], transactions["patent_count"]) == (3, 5, 4)
    assert transactions["amount"]["yuan"] == "150000.15"
    assert transactions["by_type"] == {
        "transfer": {
            "count": 1,
            "asset_count": 2,
            "patent_count": 2,
            "amount": units("100000.10", "10.00001", "0.001000001"),
        },
        "licence": {
            "count": 1,
            "asset_count": 2,
            "patent_count": 1,
            "amount": units("50000.05", "5.000005", "0.0005000005"),
        },
        "open_licence": {"count": 1, "asset_count": 1, "patent_count": 1, "amount": units("0.00", "0", "0")},
        "capital_contribution": {"count": 0, "asset_count": 0, "patent_count": 0, "amount": units("0.00", "0", "0")},
    }

    insurance = summary["insurance"]
    assert (insurance["policies"], insurance["insured_ip_count"]) == (2, 3)
    assert insurance["insured_ip_by_type"] == {"patent": 1, "trademark": 1, "copyright": 0, "gi": 1, "layout_design": 0}
    assert insurance["insured_amount"] == units("1500000.00", "150", "0.015")
    assert insurance["premium"]["yuan"] == "17000.12"

    assert summary["matchmaking"] == {
        "events": 2,
        "enterprises_attending": 52,
        "intended_amount": units("120000000.00", "12000", "1.2"),
        "signed_amount": units("35000000.50", "3500.00005", "0.350000005"),
    }


async def test_outstanding_balance_follows_the_dates_not_the_current_status(client, admin):
    await seed(client, admin)
    params = {"region": XUZHOU, "from": "2025-01-01", "to": "2025-04-30"}
    earlier = (await client.get("/financing/summary", params=params, headers=admin)).json()
    # P1 not yet released, P2 whole, P3 at default, P4 whole; P6 not yet registered
    assert earlier["pledges"]["outstanding_at_to"]["yuan"] == "4900000.07"
    assert earlier["pledges"]["count"] == 3


async def test_a_district_and_another_province_see_their_own_figures(client, admin):
    await seed(client, admin)
    gulou = (await client.get("/financing/summary", params={"region": GULOU, **WINDOW}, headers=admin)).json()
    assert gulou["pledges"]["count"] == 1 and gulou["pledges"]["amount"]["yuan"] == "3000000.03"
    assert gulou["pledges"]["outstanding_at_to"]["yuan"] == "1900000.04"

    fuzhou_officer = auth("officer", [FUZHOU_GULOU])
    fuzhou = (await client.get("/financing/summary", params=WINDOW, headers=fuzhou_officer)).json()
    assert fuzhou["region"] is None
    assert fuzhou["pledges"]["count"] == 1 and fuzhou["pledges"]["by_kind"]["trademark"]["count"] == 1
    assert fuzhou["pledges"]["by_asset_type"]["gi"]["amount"]["yuan"] == "5000000.05"
    assert fuzhou["transactions"]["count"] == 1 and fuzhou["matchmaking"]["events"] == 1
    # asking for a region outside one's own gives nothing, not an error
    elsewhere = (
        await client.get("/financing/summary", params={"region": XUZHOU, **WINDOW}, headers=fuzhou_officer)
    ).json()
    assert elsewhere["pledges"]["count"] == 0 and elsewhere["pledges"]["outstanding_at_to"]["yuan"] == "0.00"


async def test_the_window_defaults_to_this_year_so_far(client, admin):
    summary = (await client.get("/financing/summary", headers=admin)).json()
    assert summary["from"] == f"{today().year}-01-01" and summary["to"] == today().isoformat()
    assert summary["pledges"]["count"] == 0 and summary["pledges"]["amount"]["yuan"] == "0.00"


async def test_summary_needs_a_reader(client):
    assert (await client.get("/financing/summary")).status_code == 401
    assert (await client.get("/financing/summary", headers=auth("public", [XUZHOU]))).status_code == 403
    assert (await client.get("/financing/summary", headers=auth("department", [XUZHOU]))).status_code == 200
