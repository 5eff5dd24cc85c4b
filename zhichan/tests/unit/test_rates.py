from decimal import Decimal as D

import pytest

from zhichan.rates import percent


@pytest.mark.parametrize(
    "numerator, denominator, shown",
    [
        (1, 32, D("3.13")),  # 3.125: half up, where half even would give 3.12
        (1, 8, D("12.50")),
        (2, 3, D("66.67")),
        (1, 3, D("33.33")),
        (9, 10, D("90.00")),
        (0, 5, D("0.00")),
        (7, 7, D("100.00")),
    ],
)
def test_percent_rounds_half_up_to_two_places(numerator, denominator, shown):
    assert percent(numerator, denominator) == shown


def test_nothing_to_divide_by_is_no_rate():
    assert percent(0, 0) is None
