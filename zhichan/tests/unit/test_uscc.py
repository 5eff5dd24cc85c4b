import pytest

from zhichan.uscc import USCCError, build_uscc, check_character, is_valid_uscc, validate_uscc


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y43",  # the example printed in GB 32100-2015
        "91110000600037341L",
        "91320311MA1R7J8H4T",
    ],
)
def test_valid_codes_pass(code):
    assert validate_uscc(code) == code


def test_lower_case_is_normalised():
    assert validate_uscc("91350100m000100y43") == "91350100M000100Y43"


@pytest.mark.parametrize("first", ["A", "N", "Y"])
def test_codes_starting_with_a_n_y_are_valid_when_the_check_matches(first):
    # python-stdnum refuses these; the standard allows them.
    body = f"{first}1320311MA1R7J8H4"
    assert is_valid_uscc(body + check_character(body))


@pytest.mark.parametrize(
    "code, reason",
    [
        ("91350100M000100Y44", "check character"),
        ("91350100M000100Y4", "18 characters"),
        ("91350100M000100I43", "not allowed"),
        ("9135A100M000100Y43", "region"),
        ("", "18 characters"),
    ],
)
def test_invalid_codes_say_why(code, reason):
    with pytest.raises(USCCError, match=reason):
        validate_uscc(code)


def test_built_codes_are_valid_and_distinct():
    codes = {build_uscc("320311", n) for n in range(500)}
    assert len(codes) == 500
    assert all(is_valid_uscc(c) for c in codes)
