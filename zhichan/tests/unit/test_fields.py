import pytest
from pydantic import BaseModel, ValidationError

from zhichan.fields import USCC, RegionCode
from zhichan.uscc import build_uscc


class Record(BaseModel):
    region: RegionCode
    uscc: USCC


def test_known_regions_and_valid_usccs_pass_normalised():
    record = Record(region="320311", uscc=build_uscc("320311", 7).lower())
    assert record.uscc == build_uscc("320311", 7)


@pytest.mark.parametrize("region, uscc, field", [("999999", None, "region"), ("320311", "91320311MA1R7J8H40", "uscc")])
def test_unknown_regions_and_bad_check_characters_are_refused(region, uscc, field):
    with pytest.raises(ValidationError) as caught:
        Record(region=region, uscc=uscc or build_uscc("320311", 7))
    assert [e["loc"] for e in caught.value.errors()] == [(field,)]
