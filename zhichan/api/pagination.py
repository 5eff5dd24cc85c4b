"""Cursor pagination: ``limit`` + opaque ``cursor``; answers carry ``items`` and ``next_cursor``.

A list is read by :func:`keyset_page`: a select in a stable order (columns ending in a unique
one, usually the id), the rows after the cursor's position, ``limit`` of them, and the cursor of
the next page. A list put together in Python (already in order) is cut by :func:`next_page`.
A list's answer model is ``class XList(Page[XPublic])``: its name stays ``XList`` in OpenAPI.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Select, operators
from sqlalchemy.sql.elements import UnaryExpression

from zhichan.api.problems import Invalid

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


CURSOR_PATTERN = r"^[A-Za-z0-9_-]+$"  # what encode_cursor makes: unpadded base64url


def encode_cursor(position: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise _not_a_cursor() from None
    if not isinstance(value, dict):
        raise _not_a_cursor()
    return value


def _not_a_cursor() -> Invalid:
    return Invalid.field(["cursor"], "not a cursor this API gave out")


class PageParams(BaseModel):
    limit: int
    after: dict[str, Any] | None


def page_params(
    limit: Annotated[int, Query(ge=1, le=500, description="Items per page")] = 50,
    cursor: Annotated[
        str | None,
        Query(description="`next_cursor` of the previous page", json_schema_extra={"pattern": CURSOR_PATTERN}),
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, after=decode_cursor(cursor) if cursor else None)


def next_page(
    rows: Sequence[T], page: PageParams, position: Callable[[T], dict[str, Any]]
) -> tuple[list[T], str | None]:
    """The page and the next page's cursor, from ``rows`` read in order after the cursor's
    position (at least ``limit + 1`` of them when more follow); ``position`` is what the cursor
    of the last row shown holds."""
    if len(rows) <= page.limit:
        return list(rows), None
    return list(rows[: page.limit]), encode_cursor(position(rows[page.limit - 1]))


async def keyset_page(
    session: AsyncSession, query: Select, page: PageParams, *order: ColumnElement
) -> tuple[list, str | None]:
    """One page of ``query``'s rows and the next page's cursor (None on the last page).

    ``order``: the columns of the order, ``Model.column`` or ``Model.column.desc()``; the last is
    unique (the id), so that the order is total and no row is shown twice or skipped. They are
    not null. The cursor holds the last row's values of them, by column name; a cursor that is
    not one of these answers 422."""
    keys = [_key(item) for item in order]
    if not keys:
        raise ValueError("keyset_page needs an order ending in a unique column")
    query = query.order_by(*order).limit(page.limit + 1)
    if page.after:
        after = [(column, descending, _decode(column, page.after.get(column.key))) for column, descending in keys]
        # past the last row shown: ahead of it in the first column that differs, equal before it
        query = query.where(
            or_(
                *(
                    and_(*(column == value for column, _, value in after[:i]), _beyond(*after[i]))
                    for i in range(len(after))
                )
            )
        )
    result = await session.execute(query)
    rows = result.scalars().all() if len(query.column_descriptions) == 1 else result.all()
    return next_page(rows, page, lambda row: {column.key: _encode(getattr(row, column.key)) for column, _ in keys})


def _beyond(column: ColumnElement, descending: bool, value: Any) -> ColumnElement[bool]:
    return column < value if descending else column > value


def _key(item: ColumnElement) -> tuple[ColumnElement, bool]:
    """(column, descending) of one ``order`` item."""
    if isinstance(item, UnaryExpression) and item.modifier in (operators.desc_op, operators.asc_op):
        return item.element, item.modifier is operators.desc_op
    return item, False


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # and a datetime
        return value.isoformat()
    return value


_DECODERS: dict[type, Callable[[Any], Any]] = {
    str: str,
    int: int,
    Decimal: lambda v: Decimal(str(v)),
    date: date.fromisoformat,
    datetime: datetime.fromisoformat,
}


def _decode(column: ColumnElement, value: Any) -> Any:
    """A cursor's value as the column's Python type (a date compares as a date on every database)."""
    if value is None or isinstance(value, dict | list | bool):
        raise _not_a_cursor()
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        python_type = str
    decode = _DECODERS.get(python_type, str)
    try:
        return decode(value)
    except (TypeError, ValueError, ArithmeticError):
        raise _not_a_cursor() from None
