"""Rates in percent, rounded one way everywhere: the services' statistics and the gateway's
metrics must print the same 按期结案率 for the same records (1 of 32 is 3.13 %, not 3.12 %)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

PERCENT_PLACES = Decimal("0.01")


def percent(numerator: int, denominator: int) -> Decimal | None:
    """``numerator ÷ denominator`` in percent to two decimals, rounded half up (四舍五入, as
    statistical releases round); None when there is nothing to divide by."""
    if denominator == 0:
        return None
    return (Decimal(100) * numerator / denominator).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)
