"""What the financing imports share: the columns of a record's IP assets and how a row's are read,
the records already here by their natural key, the refusal of a row at its column, and the kinds
whose records, once recorded, do not change (transactions, policies, matchmaking events)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.financing.domain import ASSET_TYPES
from services.financing.models import IpAsset
from services.financing.schemas import AssetIn
from services.financing.service._common import assets_of
from zhichan import record_import
from zhichan.api.problems import Conflict, ProblemError
from zhichan.auth import User
from zhichan.record_import import KEYS_PER_SELECT, Outcome, RecordKind, RowRefused
from zhichan.tabular import CellProblem, Column, Row, text_of

# A record's assets are three columns of lists, one item an asset: a title may hold commas and 、,
# so only semicolons (and line breaks) separate them.
ASSET_COLUMNS = [
    Column(
        "asset_types",
        "知识产权类型",
        "code or label a right, separated by ；, e.g. 专利；商标 (one type: all the rights are of it)",
        required=True,
    ),
    Column(
        "asset_numbers",
        "知识产权号",
        "the patent, registration or certificate number of each right, separated by ；",
        required=True,
    ),
    Column("asset_titles", "知识产权名称", "the title of each right (a mark's name), separated by ；", required=True),
]
ASSET_FIELDS = {"asset_types": "type", "asset_numbers": "number", "asset_titles": "title"}
LIST_SEPARATOR = re.compile(r"\s*[;；\n]\s*")
# A record here and its assets.
Here = tuple[Any, list[IpAsset]]


def asset_cells(row: Row) -> tuple[list[AssetIn], list[CellProblem]]:
    """The assets of a row's three asset columns, or the problems of those cells."""
    lists = {code: [p for p in LIST_SEPARATOR.split(text_of(row.cells.get(code, ""))) if p] for code in ASSET_FIELDS}
    types, numbers, titles = lists["asset_types"], lists["asset_numbers"], lists["asset_titles"]
    if len(types) == 1:
        types = types * len(numbers)
    problems = [
        CellProblem(row.number, code, f"{len(given)} given for {len(numbers)} number(s)")
        for code, given in (("asset_types", types), ("asset_titles", titles))
        if numbers and len(given) != len(numbers)
    ]
    if problems:
        return [], problems
    assets: list[AssetIn] = []
    for kind, number, title in zip(types, numbers, titles, strict=True):
        try:
            assets.append(AssetIn(type=ASSET_TYPES.code_of(kind), number=number, title=title))
        except ValueError as exc:  # a ValidationError is one too
            column = _asset_column(exc) if isinstance(exc, ValidationError) else "asset_types"
            message = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            problems.append(CellProblem(row.number, column, f"{number}: {message}"))
    return assets, problems


def _asset_column(exc: ValidationError) -> str:
    field = exc.errors()[0]["loc"][0]
    return next(code for code, name in ASSET_FIELDS.items() if name == field)


def parser(
    columns: list[Column], model: type[BaseModel], cells: dict[str, Callable[[Any], Any]]
) -> Callable[[Row], tuple[BaseModel | None, list[CellProblem]]]:
    """How a row of a kind with assets is read: its assets from the asset columns, the rest cell by
    cell (:func:`zhichan.record_import.parse_row`)."""
    others = [c for c in columns if c.code not in ASSET_FIELDS]

    def parse(row: Row) -> tuple[BaseModel | None, list[CellProblem]]:
        assets, problems = asset_cells(row)
        given = {code: value for code, value in row.cells.items() if code not in ASSET_FIELDS}
        present = Row(row.number, {**given, **({"assets": assets} if assets else {})})
        required = [
            CellProblem(row.number, c.code, f"{c.header} is required")
            for c in columns
            if c.required and c.code in ASSET_FIELDS and c.code not in row.cells
        ]
        record, more = record_import.parse_row(present, others, model, {**cells, "assets": lambda value: value})
        # A missing or refused asset column is said once, at its column, not again as "assets".
        problems = required + problems + [p for p in more if p.column != "assets" or not (problems or required)]
        return (None if problems else record), problems

    return parse


@contextmanager
def refused_at(default: str, columns: Sequence[Column]) -> Iterator[None]:
    """A problem the use case answers is the row's, at the column it names (else ``default``)."""
    try:
        yield
    except ProblemError as exc:
        raise RowRefused(column_of(exc, default, columns), exc) from None


def column_of(exc: ProblemError, default: str, columns: Sequence[Column]) -> str:
    loc = exc.errors[0]["loc"] if exc.errors else []
    if loc and loc[0] == "assets":
        return "asset_numbers"
    codes = {c.code for c in columns}
    return next((str(part) for part in reversed(loc) if str(part) in codes), default)


def numbered(model: Any, key_field: str, holder_type: str) -> Callable[..., Awaitable[dict[Hashable, Here]]]:
    """How the records here of a unique number (``key_field``) are found, with their assets, by number."""
    column = getattr(model, key_field)

    async def found(session: AsyncSession, records: Sequence[BaseModel]) -> dict[Hashable, Here]:
        wanted = sorted({getattr(record, key_field) for record in records})
        rows: list[Any] = []
        for start in range(0, len(wanted), KEYS_PER_SELECT):
            query = select(model).where(column.in_(wanted[start : start + KEYS_PER_SELECT]))
            rows += (await session.execute(query)).scalars()
        assets = await assets_of(session, holder_type, [row.id for row in rows])
        return {getattr(row, key_field): (row, assets[row.id]) for row in rows}

    return found


def key_text(key: Hashable) -> str:
    """A natural key as a message says it: a key of several parts (region, title, date) spaced."""
    return " ".join(map(str, key)) if isinstance(key, tuple) else str(key)


def visible(here: Here | None, user: User, what: str, key_column: str, key: Hashable) -> Here | None:
    """A record here the user may know of; one of another region is a number taken, as the routes
    answer it (409, without saying where)."""
    if here is not None and not user.sees(here[0].region):
        raise RowRefused(key_column, Conflict(f"{what} {key} is already recorded"))
    return here


def same_assets(assets: Sequence[AssetIn], here: Sequence[IpAsset]) -> bool:
    return [(a.type, a.number, a.title) for a in assets] == [(a.asset_type, a.number, a.title) for a in here]


def first_difference(record: BaseModel, row: Any, assets: Sequence[IpAsset], fields: Sequence[str]) -> str | None:
    """The first of ``fields`` (or the assets) the record gives otherwise than the row here holds."""
    for name in fields:
        if getattr(record, name) != getattr(row, name):
            return name
    if "assets" in type(record).model_fields and not same_assets(record.assets, assets):
        return "asset_numbers"
    return None


def recorded_once_kind(
    what: str,
    columns: list[Column],
    model: type[BaseModel],
    *,
    key: Callable[[Any], Hashable],
    key_column: str,
    found: Callable[[AsyncSession, list[Any]], Awaitable[dict[Hashable, Here]]],
    recorded: Callable[[AsyncSession, Any, User], Any],
    cells: dict[str, Callable[[Any], Any]] | None = None,
) -> RecordKind:
    """The kind of a record the service records once and never changes (a transaction, a policy, a
    matchmaking event: no route corrects one, no event says it changed). One not here is recorded
    by ``recorded`` (the routes' use case, uncommitted); one here is ``unchanged`` when the row
    says what it holds, else the row's error (409)."""
    compared = [name for name in model.model_fields if name != "assets"]

    async def import_record(session: AsyncSession, record: Any, here: Here | None, user: User) -> Outcome:
        here = visible(here, user, what, key_column, record_key := key_text(key(record)))
        if here is None:
            with refused_at(key_column, columns):
                recorded(session, record.as_create(), user)
            return "created"
        column = first_difference(record, *here, compared)
        if column is None:
            return "unchanged"
        held = getattr(here[0], column) if column in compared else "other rights"
        raise RowRefused(
            column,
            Conflict(f"{what} {record_key} is recorded with {column} {held}: a recorded {what} does not change"),
        )

    has_assets = "assets" in model.model_fields
    return RecordKind(
        what=what,
        columns=columns,
        model=model,
        cells=cells or {},
        key=key,
        key_column=key_column,
        found=found,
        import_record=import_record,
        parse=parser(columns, model, cells or {}) if has_assets else None,
    )
