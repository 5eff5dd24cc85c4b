"""Money as exact decimals in 元, and the 元 / 万元 / 亿元 conversions plans speak in."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

FEN = Decimal("0.01")
# The largest amount, either way: 16 digits of 元. Money is NUMERIC(20,2) or integer fen in a
# BIGINT (zhichan.money_column), and 10^18 fen is inside 2^63. A larger amount failed in the
# database when bound (or in quantize, past 28 digits), a 500.
MAX_YUAN = Decimal("9999999999999999.99")


def amount_pattern(*, signed: bool = False, positive: bool = False, digits: int = 16) -> str:
    """What the OpenAPI document says an amount is: a decimal string of at most ``digits`` digits of
    元 and two decimals, with a sign when ``signed``, above zero when ``positive``. (An integer is
    taken too, a float never: the schema names the one form every client can send.) A field's
    bounds go in its ``json_schema_extra``: ``{"pattern": amount_pattern(positive=True)}``."""
    fen = r"(\.[0-9]{1,2})?"
    if positive:
        return rf"^(0*[1-9][0-9]{{0,{digits - 1}}}{fen}|0+\.(0[1-9]|[1-9][0-9]?))$"
    return rf"^{'-?' if signed else ''}[0-9]{{1,{digits}}}{fen}$"


AMOUNT_PATTERN = amount_pattern(signed=True)
NON_NEGATIVE_AMOUNT_PATTERN = amount_pattern()
POSITIVE_AMOUNT_PATTERN = amount_pattern(positive=True)
MONEY_UNITS: dict[str, Decimal] = {"元": Decimal(1), "万元": Decimal(10_000), "亿元": Decimal(100_000_000)}


class MoneyError(ValueError):
    pass


def parse_yuan(value: object) -> Decimal:
    """A money amount in 元: a decimal string or integer with at most two decimals. Never a float."""
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError('amounts are decimal strings such as "1234.56", not floats')
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise MoneyError(f"not a decimal amount: {value!r}") from exc
    if not amount.is_finite():
        raise MoneyError("amount must be finite")
    if abs(amount) > MAX_YUAN:
        raise MoneyError(f"amounts are at most {MAX_YUAN} 元 either way")
    if amount != amount.quantize(FEN):
        raise MoneyError("amount has more than two decimals (fen is the smallest unit)")
    return amount.quantize(FEN)


def convert(amount: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """Exact conversion between 元, 万元 and 亿元."""
    if from_unit not in MONEY_UNITS or to_unit not in MONEY_UNITS:
        raise MoneyError(f"cannot convert {from_unit} to {to_unit}")
    return Decimal(amount) * MONEY_UNITS[from_unit] / MONEY_UNITS[to_unit]


def in_all_units(amount_yuan: Decimal) -> dict[str, str]:
    """The same amount in 元, 万元 and 亿元, as strings (no trailing noise)."""
    return {
        "yuan": str(amount_yuan.quantize(FEN)),
        "wan_yuan": _plain(convert(amount_yuan, "元", "万元")),
        "yi_yuan": _plain(convert(amount_yuan, "元", "亿元")),
    }


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def to_fen(amount: Decimal) -> int:
    return int((amount * 100).to_integral_exact())


def from_fen(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(FEN)


# A pydantic field type: accepts "1234.56" or 1234, refuses floats and a third decimal,
# and serialises as a string so JSON never carries a binary float.
Yuan = Annotated[
    Decimal,
    BeforeValidator(parse_yuan),
    PlainSerializer(lambda d: str(d), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": AMOUNT_PATTERN}),
]
