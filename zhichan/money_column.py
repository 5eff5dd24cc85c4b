"""A column type for money: ``Decimal`` 元 in Python, integer fen in the database.

SQLite's NUMERIC has REAL affinity (a binary float), so NUMERIC(20,2) is exact on PostgreSQL only.
Integer fen is exact on both, and ``SUM`` over it stays an exact integer (SQLite raises on
overflow past 2^63 fen ≈ 9.2e16 元 rather than rounding).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger, TypeDecorator

from zhichan.money import from_fen, parse_yuan, to_fen


class YuanInFen(TypeDecorator):
    impl = BigInteger
    cache_ok = True

    @property
    def python_type(self) -> type:
        return Decimal  # what the column holds in Python (a cursor's value is read back as it)

    def process_bind_param(self, value: Decimal | int | str | None, dialect) -> int | None:
        # parse_yuan refuses floats and a third decimal instead of rounding them away
        return None if value is None else to_fen(parse_yuan(value))

    def process_result_value(self, value: int | Decimal | None, dialect) -> Decimal | None:
        # PostgreSQL's SUM(bigint) is NUMERIC, which asyncpg returns as Decimal: still whole fen
        return None if value is None else from_fen(value)
