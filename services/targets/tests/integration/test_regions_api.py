"""Regions through the API: GB/T 2260 reference data and custom regions as events."""

from services.targets.tests.integration.conftest import event_types, outbox
from zhichan.regions import registry
from zhichan.testing import auth

ZONE = {"code": "321100-ETDZ", "name": "镇江经济技术开发区", "level": "zone", "parent": "321100"}


async def test_a_standard_region_with_its_ancestors_and_children(client):
    resp = await client.get("/regions/420500")
    assert resp.status_code == 200
    yichang = resp.json()
    assert (yichang["name"], yichang["level"], yichang["custom"]) == ("宜昌市", "city", False)
    assert [a["code"] for a in yichang["ancestors"]] == ["420000"]
    assert {"420502", "420581"} <= {c["code"] for c in yichang["children"]}
    assert (await client.get("/regions/999999")).status_code == 404


async def test_flat_list_filters_and_pages(client):
    page = (await client.get("/regions", params={"parent": "420500", "limit": 5})).json()
    assert len(page["items"]) == 5 and page["next_cursor"]
    assert all(r["parent"] == "420500" for r in page["items"])
    seen = [r["code"] for r in page["items"]]
    while page["next_cursor"]:
        page = (await client.get("/regions", params={"parent": "420500", "cursor": page["next_cursor"]})).json()
        seen += [r["code"] for r in page["items"]]
    assert seen == sorted(seen) and len(seen) == len(set(seen)) > 5
    provinces = (await client.get("/regions", params={"level": "province", "limit": 500})).json()["items"]
    assert len(provinces) >= 31 and all(r["parent"] is None for r in provinces)
    assert (await client.get("/regions", params={"parent": "999999"})).status_code == 422


async def test_tree_view_nests_below_the_parent(client):
    tree = (await client.get("/regions", params={"view": "tree", "parent": "320000"})).json()["items"]
    zhenjiang = next(n for n in tree if n["code"] == "321100")
    assert zhenjiang["children"] and all(c["parent"] == "321100" for c in zhenjiang["children"])
    whole = (await client.get("/regions", params={"view": "tree"})).json()["items"]
    assert all(n["level"] == "province" for n in whole)
    assert (await client.get("/regions", params={"view": "tree", "level": "city"})).status_code == 422


async def test_defining_a_zone_publishes_it_and_makes_it_valid(app_client):
    app, client = app_client
    resp = await client.post("/regions", json=ZONE, headers=auth("officer", ["321100"]))
    assert resp.status_code == 201, resp.text
    assert resp.json()["custom"] is True and resp.json()["version"] == 1
    assert resp.headers["etag"] == '"321100-ETDZ.1"'
    assert "321100-ETDZ" in registry().descendants("320000")
    [event] = await outbox(app)
    assert event["type"] == "zhichan.targets.region.defined.v1" and event["subject"] == "region/321100-ETDZ"
    assert event["data"] | {"defined_at": None} == {**ZONE, "version": 1, "defined_at": None}
    listed = (await client.get("/regions", params={"parent": "321100", "custom": "true"})).json()["items"]
    assert [r["code"] for r in listed] == ["321100-ETDZ"]
    assert "321100-ETDZ" in {c["code"] for c in (await client.get("/regions/321100")).json()["children"]}


async def test_defining_again_is_idempotent_and_a_change_is_a_new_version(app_client):
    app, client = app_client
    officer = auth("officer", ["321100"])
    await client.post("/regions", json=ZONE, headers=officer)
    again = await client.post("/regions", json=ZONE, headers=officer)
    assert again.status_code == 200 and again.json()["version"] == 1
    renamed = await client.post("/regions", json={**ZONE, "name": "镇江经开区"}, headers=officer)
    assert renamed.status_code == 200 and renamed.json()["version"] == 2
    assert await event_types(app) == ["zhichan.targets.region.defined.v1"] * 2
    assert (await client.get("/regions/321100-ETDZ")).json()["name"] == "镇江经开区"


async def test_refusals(app_client):
    app, client = app_client
    officer = auth("officer", ["321100"])
    standard = await client.post("/regions", json={**ZONE, "code": "321102", "parent": "321100"}, headers=officer)
    assert standard.status_code == 409
    shape = await client.post("/regions", json={**ZONE, "code": "etdz"}, headers=officer)
    assert shape.status_code == 422 and shape.json()["errors"][0]["loc"] == ["code"]
    orphan = await client.post("/regions", json={**ZONE, "parent": "999999"}, headers=officer)
    assert orphan.status_code == 422 and orphan.json()["errors"][0]["loc"] == ["parent"]
    level = await client.post("/regions", json={**ZONE, "level": "galaxy"}, headers=officer)
    assert level.status_code == 422
    elsewhere = await client.post("/regions", json=ZONE, headers=auth("officer", ["420500"]))
    assert elsewhere.status_code == 403
    assert (await client.post("/regions", json=ZONE, headers=auth("department", ["321100"]))).status_code == 403
    assert (await client.post("/regions", json=ZONE)).status_code == 401
    assert await outbox(app) == [] and "321100-ETDZ" not in registry()


async def test_a_region_cannot_move_below_itself(client):
    officer = auth("officer", ["321100"])
    await client.post("/regions", json=ZONE, headers=officer)
    inner = {"code": "321100-ETDZB", "name": "综合保税区", "level": "zone", "parent": "321100-ETDZ"}
    assert (await client.post("/regions", json=inner, headers=officer)).status_code == 201
    loop = await client.post("/regions", json={**ZONE, "parent": "321100-ETDZB"}, headers=officer)
    assert loop.status_code == 422 and loop.json()["errors"][0]["loc"] == ["parent"]


async def test_a_region_defined_by_another_replica_is_found_in_the_database(client):
    officer = auth("officer", ["321100"])
    await client.post("/regions", json=ZONE, headers=officer)
    registry.cache_clear()  # this replica has not seen it
    assert (await client.get("/regions/321100-ETDZ")).json()["name"] == ZONE["name"]


async def test_a_withdrawn_code_still_answers_marked_with_its_successor(client):
    miyun = (await client.get("/regions/110228")).json()
    assert (miyun["name"], miyun["level"], miyun["withdrawn_in"], miyun["successors"]) == (
        "密云县",
        "county",
        2015,
        ["110118"],
    )
    assert [a["code"] for a in miyun["ancestors"]] == ["110000"]
    current = (await client.get("/regions/110118")).json()
    assert (current["name"], current["level"], current["withdrawn_in"], current["successors"]) == (
        "密云区",
        "district",
        None,
        [],
    )
    laiwu = (await client.get("/regions/371200")).json()  # a withdrawn city lists the districts it had
    assert laiwu["withdrawn_in"] == 2018 and {"371202", "371203"} <= {c["code"] for c in laiwu["children"]}


async def test_lists_offer_withdrawn_codes_only_when_asked(client):
    nantong = {c["code"] for c in (await client.get("/regions/320600")).json()["children"]}
    assert "320613" in nantong and "320602" not in nantong
    listed = (await client.get("/regions", params={"parent": "320600", "limit": 500})).json()["items"]
    assert "320613" in {r["code"] for r in listed} and all(r["withdrawn_in"] is None for r in listed)
    everything = (await client.get("/regions", params={"parent": "320600", "limit": 500, "withdrawn": "true"})).json()
    old = next(r for r in everything["items"] if r["code"] == "320602")
    assert (old["name"], old["withdrawn_in"], old["successors"]) == ("崇川区", 2020, ["320613"])
    tree = (await client.get("/regions", params={"view": "tree", "parent": "110000"})).json()["items"]
    assert "110118" in {n["code"] for n in tree} and "110228" not in {n["code"] for n in tree}


async def test_no_new_region_is_placed_in_a_withdrawn_one(app_client):
    app, client = app_client
    zone = {"code": "320602-HTZ", "name": "崇川高新区", "level": "zone", "parent": "320602"}
    refused = await client.post("/regions", json=zone, headers=auth("officer", ["320600"]))
    assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["parent"]
    assert "withdrawn in 2020; use 320613 崇川区" in refused.json()["errors"][0]["msg"]
    assert await outbox(app) == [] and "320602-HTZ" not in registry()
    placed = await client.post("/regions", json={**zone, "parent": "320613"}, headers=auth("officer", ["320600"]))
    assert placed.status_code == 201, placed.text


async def test_an_officer_cannot_claim_another_citys_code(app_client):
    """321100-ETDZ is numbered from 镇江市: an officer of 320311 (徐州市泉山区) who placed it under
    320311 would see every record filed there, and Zhenjiang's officers would not."""
    app, client = app_client
    attack = await client.post("/regions", json={**ZONE, "parent": "320311"}, headers=auth("officer", ["320311"]))
    assert attack.status_code == 422, attack.text
    [error] = attack.json()["errors"]
    assert error["loc"] == ["code"] and "numbered from 321100" in error["msg"]
    assert await outbox(app) == [] and "321100-ETDZ" not in registry()
    own = await client.post("/regions", json=ZONE, headers=auth("officer", ["321100"]))
    assert own.status_code == 201, own.text


async def test_a_code_is_numbered_by_those_who_see_its_region(app_client):
    app, client = app_client
    district = auth("officer", ["321102"])  # 京口区, within 镇江市
    in_district = {**ZONE, "parent": "321102"}
    assert (await client.post("/regions", json=in_district, headers=district)).status_code == 403
    assert (await client.post("/regions", json={**ZONE, "code": "999999-ETDZ"}, headers=district)).status_code == 422
    assert await outbox(app) == []
    city = await client.post("/regions", json=in_district, headers=auth("officer", ["321100"]))
    assert city.status_code == 201, city.text  # a zone of the city's, in one of its districts
    own = {"code": "321102-HTZ", "name": "京口高新区", "level": "zone", "parent": "321102"}
    assert (await client.post("/regions", json=own, headers=district)).status_code == 201


async def test_only_an_admin_adds_a_gb_t_2260_code(app_client):
    app, client = app_client
    county = {"code": "321199", "name": "新设县", "level": "county", "parent": "321100"}
    refused = await client.post("/regions", json=county, headers=auth("officer", ["321100"]))
    assert refused.status_code == 403 and "only an admin" in refused.json()["detail"]
    assert await outbox(app) == [] and "321199" not in registry()
    added = await client.post("/regions", json=county, headers=auth("admin", []))
    assert added.status_code == 201, added.text
