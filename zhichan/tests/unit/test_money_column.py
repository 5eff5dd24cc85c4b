from decimal import Decimal

import pytest

from zhichan.money import MoneyError
from zhichan.money_column import YuanInFen

COLUMN = YuanInFen()


@pytest.mark.parametrize(
    "yuan, fen",
    [(Decimal("1234.56"), 123456), (Decimal("0.01"), 1), (Decimal("100000000000.00"), 10_000_000_000_000), (7, 700)],
)
def test_yuan_is_stored_as_whole_fen_and_read_back_exactly(yuan, fen):
    assert COLUMN.process_bind_param(yuan, None) == fen
    assert COLUMN.process_result_value(fen, None) == Decimal(yuan)


def test_a_postgresql_numeric_sum_reads_back_as_yuan():
    assert COLUMN.process_result_value(Decimal("123456789012345678"), None) == Decimal("1234567890123456.78")


@pytest.mark.parametrize("bad", [Decimal("0.001"), 0.1])
def test_a_third_decimal_or_a_float_is_refused_not_rounded(bad):
    with pytest.raises(MoneyError):
        COLUMN.process_bind_param(bad, None)


def test_null_stays_null():
    assert COLUMN.process_bind_param(None, None) is None
    assert COLUMN.process_result_value(None, None) is None
