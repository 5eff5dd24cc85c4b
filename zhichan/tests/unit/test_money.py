from decimal import Decimal

import pytest

from zhichan.money import MAX_YUAN, MoneyError, convert, from_fen, in_all_units, parse_yuan, to_fen


def test_yuan_to_yi_yuan_is_exact():
    assert convert(Decimal("281000000.00"), "元", "亿元") == Decimal("2.81")
    assert convert(Decimal("0.01"), "元", "亿元") == Decimal("1E-10")


def test_round_trip_through_wan_yuan():
    amount = Decimal("123456789.12")
    assert convert(convert(amount, "元", "万元"), "万元", "元") == amount


def test_all_units_are_strings_without_float_noise():
    assert in_all_units(Decimal("150000000")) == {"yuan": "150000000.00", "wan_yuan": "15000", "yi_yuan": "1.5"}


@pytest.mark.parametrize("raw", ["1.234", 1.5, "abc", "NaN", "Infinity"])
def test_bad_amounts_are_refused(raw):
    with pytest.raises(MoneyError):
        parse_yuan(raw)


def test_amounts_parse_to_two_decimals():
    assert parse_yuan("12") == Decimal("12.00")
    assert parse_yuan(7) == Decimal("7.00")


def test_fen_round_trip():
    assert from_fen(to_fen(Decimal("99999999.99"))) == Decimal("99999999.99")


def test_unknown_unit_is_refused():
    with pytest.raises(MoneyError):
        convert(Decimal(1), "元", "件")


@pytest.mark.parametrize(
    "raw", ["4.946893584413394e+24", "-6.90067237948759e+33", "10000000000000000", "-10000000000000000.00", "1e400"]
)
def test_amounts_beyond_what_a_money_column_holds_are_refused(raw):
    """NUMERIC(20,2) and integer fen in a BIGINT both hold 16 digits of 元: a larger amount was
    bound as is and failed in the database (or in quantize), a 500."""
    with pytest.raises(MoneyError, match="at most"):
        parse_yuan(raw)


def test_the_largest_amount_fits_a_bigint_of_fen():
    assert parse_yuan(str(MAX_YUAN)) == MAX_YUAN
    assert parse_yuan(str(-MAX_YUAN)) == -MAX_YUAN
    assert to_fen(MAX_YUAN) < 2**63
