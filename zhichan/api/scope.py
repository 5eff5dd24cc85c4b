"""Region scoping: every query is cut to the caller's regions (a region includes its
descendants), and a record of another region does not exist for the caller.

- :data:`RegionQuery`: the ``region`` query parameter of a list or a summary. An unknown code
  is refused (422) when the request is parsed.
- :func:`scoped`: a select cut to the rows of the caller's regions and, when one is asked for,
  of that region. A region outside the caller's regions answers nothing, as a record there
  does not exist for the caller.
- :func:`get_visible`: one record by its key, 404 when it does not exist or lies outside the
  caller's regions.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import Query
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Select

from zhichan.api.problems import Invalid, NotFound
from zhichan.auth import User
from zhichan.fields import RegionCode
from zhichan.regions import registry

Row = TypeVar("Row")

RegionQuery = Annotated[RegionCode | None, Query(description="Region code; its descendants are included")]


def scoped(query: Select, region_column: ColumnElement, user: User | None, region: str | None = None) -> Select:
    """``query`` restricted to the rows whose ``region_column`` the caller sees, and to ``region``
    (with its descendants) when given. ``user`` None: a public view, every region. A region code
    that does not exist answers 422 (for codes that did not come through :data:`RegionQuery`)."""
    regions = registry()
    if region is not None and region not in regions:
        raise Invalid.field(["region"], f"unknown region code {region!r}")
    if user is None:
        scope = regions.descendants(region) if region is not None else None
    else:
        scope = user.scope(region)
    return query if scope is None else query.where(region_column.in_(sorted(scope)))


async def get_visible(
    session: AsyncSession, model: type[Row], key: object, user: User, what: str, *, for_update: bool = False
) -> Row:
    """The row of ``model`` with primary key ``key``, if the caller sees its region; else 404
    ("no <what> <key>"), whether it does not exist or lies elsewhere. ``for_update`` locks the
    row on PostgreSQL, so that two changes of one record take turns (SQLite's writers already do)."""
    row = await session.get(model, key, with_for_update=for_update)
    if row is None or not user.sees(row.region):
        raise NotFound(f"no {what} {key}")
    return row
