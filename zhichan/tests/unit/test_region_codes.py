"""The standard region codes: current as of the newest 民政部 table, withdrawn ones kept and marked."""

import json

import pytest

from zhichan import region_codes_build
from zhichan.regions import STANDARD_CODES, RegionRegistry, UnknownRegion, withdrawn_problem


@pytest.fixture(scope="module")
def regions() -> RegionRegistry:
    return RegionRegistry()


@pytest.mark.parametrize(
    ("code", "name", "level", "parent"),
    [
        ("110118", "密云区", "district", "110000"),  # 密云县 became a district in 2015
        ("110119", "延庆区", "district", "110000"),
        ("310151", "崇明区", "district", "310000"),  # 2016
        ("320613", "崇川区", "district", "320600"),  # 崇川区 and 港闸区 merged under a new code, 2020
        ("330383", "龙港市", "county", "330300"),  # a 县级市 carved out of 苍南县, 2019
        ("350405", "沙县区", "district", "350400"),  # 2021
        ("540102", "城关区", "district", "540100"),
        ("540400", "林芝市", "city", "540000"),  # 林芝地区 became a city in 2015, with a new code
        ("460400", "儋州市", "city", "460000"),  # a 地级市 since 2015
    ],
)
def test_codes_made_after_2014_resolve_with_name_level_and_parent(regions, code, name, level, parent):
    region = regions.get(code)
    assert (region.name, region.level, region.parent) == (name, level, parent)
    assert not region.withdrawn and region.withdrawn_in is None and region.successors == ()


@pytest.mark.parametrize(
    ("code", "name", "year", "successors"),
    [
        ("110228", "密云县", 2015, ("110118",)),
        ("110229", "延庆县", 2015, ("110119",)),
        ("310230", "崇明县", 2016, ("310151",)),
        ("320602", "崇川区", 2020, ("320613",)),  # the old 崇川区: same name, other code
        ("320611", "港闸区", 2020, ("320613",)),
        ("469003", "儋州市", 2015, ("460400",)),
    ],
)
def test_withdrawn_codes_still_resolve_marked_with_year_and_successors(regions, code, name, year, successors):
    region = regions.get(code)
    assert code in regions
    assert (region.name, region.withdrawn, region.withdrawn_in, region.successors) == (name, True, year, successors)


def test_a_withdrawn_code_keeps_the_parent_it_had_while_in_use(regions):
    assert regions.get("320602").parent == "320600"
    assert regions.get("371202").parent == "371200"  # 莱城区 of 莱芜市, both withdrawn when 济南 took them in 2019
    assert regions.get("371200").withdrawn and regions.ancestors("371202") == ["371200", "370000"]


def test_county_level_units_are_districts_only_when_they_are_city_districts(regions):
    assert regions.get("320311").level == "district"  # 泉山区 of 徐州市
    assert regions.get("610103").level == "district"  # 碑林区: a district, whatever its name ends in
    assert regions.get("511922").level == "county"  # 南江县
    assert regions.get("330381").level == "county"  # 瑞安市, a 县级市
    assert regions.get("150221").level == "county"  # 土默特右旗
    assert regions.get("429004").level == "county" and regions.get("429004").parent == "420000"  # 省直辖 仙桃市
    assert regions.get("429021").level == "county"  # 神农架林区: county-level, not a city district
    assert regions.get("520203").level == "county"  # 六枝特区
    assert regions.get("500229").level == "county" and regions.get("500229").parent == "500000"  # 城口县 of 重庆
    assert regions.get("532900").level == "city"  # 大理白族自治州
    assert regions.get("320000").level == "province" and regions.get("320000").parent is None


def test_a_city_includes_its_new_districts_and_the_withdrawn_ones_its_old_records_name(regions):
    nantong = regions.descendants("320600")
    assert {"320613", "320614", "320685"} <= nantong  # 崇川区 (2020), 海门区 (2020), 海安市 (2018)
    assert {"320602", "320611", "320684", "320621"} <= nantong  # withdrawn: old 崇川区, 港闸区, 海门市, 海安县
    assert "320100" not in nantong and "321102" not in nantong
    assert regions.contains("320600", "320602") and regions.contains("320000", "320613")
    assert {"110118", "110119", "110228"} <= regions.descendants("110000")


def test_listings_leave_withdrawn_codes_out_unless_asked(regions):
    listed = {r.code for r in regions.all()}
    assert {"110118", "320613", "330383"} <= listed and not {"110228", "320602", "310230"} & listed
    everything = {r.code for r in regions.all(withdrawn=True)}
    assert {"110228", "320602", "310230"} <= everything and listed < everything
    assert [r.code for r in regions.all()] == sorted(listed)
    nantong = [r.code for r in regions.children("320600")]
    assert "320613" in nantong and "320602" not in nantong and nantong == sorted(nantong)
    assert "320602" in {r.code for r in regions.children("320600", withdrawn=True)}
    provinces = regions.children(None)
    assert len(provinces) == 34 and all(r.level == "province" for r in provinces)


def test_every_current_region_lies_in_current_regions(regions):
    for region in regions.all():
        assert all(not regions.get(code).withdrawn for code in regions.ancestors(region.code)), region


def test_the_problem_with_a_withdrawn_code_names_what_replaced_it(regions):
    assert withdrawn_problem(regions.get("110228"), regions) == (
        "region 110228 密云县 was withdrawn in 2015; use 110118 密云区"
    )


def test_a_custom_region_joins_the_tree_and_the_listing(regions):
    mine = RegionRegistry()
    mine.add("320600-HTZ", "南通高新区", "zone", "320600")
    assert "320600-HTZ" in mine.descendants("320000")
    assert "320600-HTZ" in {r.code for r in mine.all()} and "320600-HTZ" in {r.code for r in mine.children("320600")}
    mine.add("320600-HTZ", "南通高新区", "zone", "320613")  # moved
    assert "320600-HTZ" not in {r.code for r in mine.children("320600")}
    assert "320600-HTZ" not in regions and "320600-HTZ" not in regions.descendants("320600")  # others unchanged
    with pytest.raises(UnknownRegion):
        mine.get("999999")


def test_the_data_file_states_its_source_and_date():
    data = json.loads(STANDARD_CODES.read_text(encoding="utf-8"))
    assert "民政部" in data["source"] and len(data["source_commit"]) == 40 and data["license"] == "CC0-1.0"
    assert data["as_of"] >= "2024-12-31" and data["fields"] == list(region_codes_build.FIELDS)


def test_the_builder_keeps_each_codes_newest_record_and_its_successors():
    source = {
        "items": [
            {
                "code": 320000,
                "name": "江苏省",
                "start": 1981,
                "children": [
                    {
                        "code": 320600,
                        "name": "南通市",
                        "start": 1981,
                        "children": [
                            {"code": 320602, "name": "城区", "start": 1983, "end": 1991, "succ": [{"code": 320602}]},
                            {
                                "code": 320602,
                                "name": "崇川区",
                                "start": 1991,
                                "end": 2020,
                                "succ": [{"code": 320613}, {"code": 320699, "time": 2001}],
                            },
                            {"code": 320613, "name": "崇川区", "start": 2020},
                            {"code": 320623, "name": "如东县", "start": 1983},
                        ],
                    },
                    {"code": 329001, "name": "某市", "start": 1990},
                ],
            }
        ]
    }
    built = region_codes_build.build(source, commit="0" * 40, date="2025-11-04")
    assert built["as_of"] == "2020-12-31"
    assert built["regions"] == [
        ["320000", "江苏省", "province", None, None, []],
        ["320600", "南通市", "city", "320000", None, []],
        ["320602", "崇川区", "district", "320600", 2020, ["320613"]],
        ["320613", "崇川区", "district", "320600", None, []],
        ["320623", "如东县", "county", "320600", None, []],
        ["329001", "某市", "county", "320000", None, []],
    ]
    assert json.loads(region_codes_build.dump(built)) == built
