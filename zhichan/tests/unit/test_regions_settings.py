import pytest

from zhichan.regions import RegionRegistry, UnknownRegion
from zhichan.settings import DEV_JWT_SECRET, PlatformSettings


def test_standard_codes_have_levels_and_parents():
    regions = RegionRegistry()
    assert regions.get("420500").name == "宜昌市" and regions.get("420500").level == "city"
    assert regions.get("511922").level == "county" and regions.get("511922").parent == "511900"
    assert regions.get("320311").level == "district"
    assert regions.get("320000").level == "province" and regions.get("320000").parent is None


def test_a_city_includes_its_districts_but_not_its_neighbours():
    regions = RegionRegistry()
    xuzhou = regions.descendants("320300")
    assert "320311" in xuzhou and "321100" not in xuzhou
    assert regions.contains("320000", "320311")


def test_custom_zone_joins_the_tree():
    regions = RegionRegistry()
    regions.add("321100-ETDZ", "镇江经济技术开发区", "zone", "321100")
    assert "321100-ETDZ" in regions.descendants("321100")
    assert "321100-ETDZ" in regions.descendants("320000")


def test_unknown_parent_is_refused():
    with pytest.raises(UnknownRegion):
        RegionRegistry().add("999999-X1", "nowhere", "zone", "999999")


def test_dev_secret_refused_outside_dev_mode():
    with pytest.raises(ValueError, match="development secret"):
        PlatformSettings(dev_mode=False, jwt_secret=DEV_JWT_SECRET)
    assert PlatformSettings(dev_mode=True).token_secret == DEV_JWT_SECRET
    real = "a-real-one-of-at-least-thirty-two-bytes"
    assert PlatformSettings(dev_mode=False, jwt_secret=real).token_secret == real
