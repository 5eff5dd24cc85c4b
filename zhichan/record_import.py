"""Records from another system, the same way for every kind a service imports (cases,
campaigns, pledges, agencies …): a row read as the kind's record, the rows of a file worked
through in chunks, all or nothing.

A kind (:class:`RecordKind`) brings its columns, the record a row holds (a pydantic model whose
fields are named as the columns' codes, or its own ``parse``), its natural key, how to find the
records already here and the use case that brings one record about (``import_record``: created,
updated or unchanged, or :class:`RowRefused`). Every row is worked through in one transaction
before anything is committed: a file with any problem is refused whole, and a dry run rolls back
what it did. Its routes are added by :func:`zhichan.api.import_routes.add_import_routes`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from zhichan.api.imports import ImportResult
from zhichan.api.problems import Conflict, ProblemError
from zhichan.auth import User
from zhichan.db import commit_or_conflict, insert_pending
from zhichan.tabular import CellProblem, Column, Row, Table, TableRefused, parse_day, text_of
from zhichan.vocabulary import Vocabulary

Outcome = Literal["created", "updated", "unchanged"]
Record = TypeVar("Record", bound=BaseModel)
# A file is imported in one transaction, worked through by chunks of this many rows: each chunk is
# flushed and let go of, so that memory holds one chunk's records and events at a time (a case:
# ~35 kB), whatever the file's size.
ROWS_PER_CHUNK = 2000
KEYS_PER_SELECT = 500
# Reports the rows worked through and the phase: "checking" (nothing is stored before every row is).
Progress = Callable[[int, str], None]
YES = frozenset({"是", "y", "yes", "true", "1"})
NO = frozenset({"否", "n", "no", "false", "0"})
LIST_SEPARATORS = str.maketrans({"，": ",", "、": ",", ";": ",", "；": ","})


class RowRefused(Exception):
    """A record that cannot be imported: ``column`` names where, ``answer`` is the problem a push
    by natural key answers with."""

    def __init__(self, column: str, answer: ProblemError) -> None:
        super().__init__(answer.detail)
        self.column = column
        self.answer = answer


# ---------------------------------------------------------------- cells


def yes_or_no(value: Any) -> bool:
    """是/否 (or yes/no, true/false, 1/0)."""
    text = text_of(value).strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValueError(f"{text!r} is neither 是 nor 否")


def items_of(value: Any) -> list[str]:
    """A cell of several values: separated by commas (either width), 、 or semicolons."""
    return [item.strip() for item in text_of(value).translate(LIST_SEPARATORS).split(",") if item.strip()]


def codes_of(vocabulary: Vocabulary) -> Callable[[Any], list[str]]:
    return lambda value: [vocabulary.code_of(item) for item in items_of(value)]


def vocabulary_cell(vocabulary: Vocabulary) -> Callable[[Any], str]:
    return lambda value: vocabulary.code_of(text_of(value))


def number_cell(value: Any) -> str:
    """An amount or count as its text, exact (a workbook's number, or text)."""
    return str(value) if isinstance(value, int | Decimal) else text_of(value)


def parse_row(
    row: Row, columns: Sequence[Column], model: type[Record], cells: dict[str, Callable[[Any], Any]]
) -> tuple[Record | None, list[CellProblem]]:
    """The record a row holds, or the problems of its cells (each at its column). ``cells``: how a
    column's cell is read, by code (dates: columns ending ``_on``; otherwise text)."""
    # A required column's empty cell: a missing date would otherwise default to today.
    problems = [
        CellProblem(row.number, c.code, f"{c.header} is required")
        for c in columns
        if c.required and c.code not in row.cells
    ]
    values: dict[str, Any] = {}
    for code, value in row.cells.items():
        read = cells.get(code) or (parse_day if code.endswith("_on") else text_of)
        try:
            values[code] = read(value)
        except ValueError as exc:
            problems.append(CellProblem(row.number, code, str(exc)))
    try:
        record = model.model_validate(values)
    except ValidationError as exc:
        bad = {p.column for p in problems}
        for error in exc.errors():
            column = str(error["loc"][0]) if error["loc"] else columns[0].code
            if column not in bad:  # a cell already refused is not refused again for being missing
                problems.append(CellProblem(row.number, column, error["msg"].removeprefix("Value error, ")))
        return None, problems
    return (None if problems else record), problems


# ---------------------------------------------------------------- a kind of record


@dataclass(frozen=True)
class RecordKind(Generic[Record]):
    """What the import of one kind of record needs. ``key_column``: where a record given twice in
    a file is refused. ``found``: what is here of some records, by key (every record's key).
    ``import_record``: brings one record about in the session (its outcome), or raises
    :class:`RowRefused`; it may answer ``(outcome, follow_up)``, and ``before_commit`` is then
    given the follow-ups of the chunk before it is committed (a respondent's watch list worked out
    again once for all the chunk's cases). ``order``: the order records are imported in, when the
    rows' may not do (a certificate's spells, the earlier first). ``parse``: a row's record and the
    problems of its cells, when reading each cell by ``cells`` into ``model`` does not do (a
    case's suspensions are three columns of lists)."""

    what: str
    columns: list[Column]
    model: type[Record]
    cells: dict[str, Callable[[Any], Any]]
    key: Callable[[Record], Hashable]
    key_column: str
    found: Callable[[AsyncSession, list[Record]], Awaitable[dict[Hashable, Any]]]
    import_record: Callable[[AsyncSession, Record, Any, User], Awaitable[Outcome | tuple[Outcome, Any]]]
    order: Callable[[Record], Any] | None = None
    parse: Callable[[Row], tuple[Record | None, list[CellProblem]]] | None = None
    before_commit: Callable[[AsyncSession, list[Any], User], Awaitable[None]] | None = None

    def record_of(self, row: Row) -> tuple[Record | None, list[CellProblem]]:
        if self.parse is not None:
            return self.parse(row)
        return parse_row(row, self.columns, self.model, self.cells)


async def import_table(
    session: AsyncSession,
    kind: RecordKind,
    table: Table,
    user: User,
    *,
    dry_run: bool,
    progress: Progress | None = None,
) -> ImportResult:
    """Imports every row, only when every row can be: a file with problems raises
    :class:`TableRefused` with all of them, nothing stored.

    The whole file is one transaction, committed when no row failed (and not in a dry run), else
    rolled back: a row refused in its last chunk leaves nothing of the first. Each chunk of
    :data:`ROWS_PER_CHUNK` rows is flushed (its outbox rows too) and let go of from the session,
    so memory does not grow with the file; a later chunk reads what an earlier one wrote. On
    SQLite the transaction holds the service's write lock to the end: its other writes wait."""
    problems = list(table.problems)
    counts = {"created": 0, "updated": 0, "unchanged": 0, "refused": 0}
    done = 0
    try:
        for chunk in _chunks(kind, table, problems, counts):
            follow_ups = await _import_chunk(session, kind, chunk, user, counts, problems)
            if not (problems or dry_run) and kind.before_commit is not None and follow_ups:
                await kind.before_commit(session, follow_ups, user)
            await _let_go(session, kind)
            done += len(chunk)
            if progress is not None:
                progress(done, "checking")
    except Exception:
        await session.rollback()
        raise
    if problems or dry_run:
        await session.rollback()
    if problems:
        raise TableRefused(sorted(problems, key=lambda p: p.row or 0), kind.columns, **counts)
    if not dry_run:
        await commit_or_conflict(
            session, f"a {kind.what} of the file was recorded at the same time; import the file again"
        )
    return ImportResult(rows=len(table.rows), dry_run=dry_run, **counts)


async def _let_go(session: AsyncSession, kind: RecordKind) -> None:
    """Writes the chunk's rows in the transaction and forgets them: the session and the outbox
    rows held for the commit would otherwise grow with the file. A unique key taken meanwhile by
    another writer (PostgreSQL: a concurrent transaction committed first) answers 409 as the commit would."""
    try:
        await session.flush()
        await insert_pending(session)
    except IntegrityError:
        raise Conflict(f"a {kind.what} of the file was recorded at the same time; import the file again") from None
    session.expunge_all()


def _chunks(
    kind: RecordKind, table: Table, problems: list[CellProblem], counts: dict[str, int]
) -> Iterator[list[tuple[int, BaseModel]]]:
    """The rows' records with their row numbers, by chunks of :data:`ROWS_PER_CHUNK` in the order
    they are imported. A chunk's rows are read as it comes: every record of a large file held at
    once was most of an import's memory (a case's: ~3 kB). Each row that holds none adds its
    problems and is counted refused (a record given twice is the second row's problem)."""
    records = _read(kind, table.rows, problems, counts)
    if kind.order is not None:  # the order needs every record at once
        records = iter(sorted(records, key=lambda numbered: kind.order(numbered[1])))
    while chunk := list(islice(records, ROWS_PER_CHUNK)):
        yield chunk


def _read(
    kind: RecordKind, rows: list[Row], problems: list[CellProblem], counts: dict[str, int]
) -> Iterator[tuple[int, BaseModel]]:
    first_row: dict[Hashable, int] = {}
    for row in rows:
        record, row_problems = kind.record_of(row)
        problems += row_problems
        if record is None:
            counts["refused"] += 1
            continue
        key = kind.key(record)
        if key in first_row:
            problems.append(
                CellProblem(row.number, kind.key_column, f"the {kind.what} is given in row {first_row[key]} already")
            )
            counts["refused"] += 1
            continue
        first_row[key] = row.number
        yield row.number, record


async def _import_chunk(
    session: AsyncSession,
    kind: RecordKind,
    chunk: list[tuple[int, BaseModel]],
    user: User,
    counts: dict[str, int],
    problems: list[CellProblem],
) -> list[Any]:
    """Imports the chunk's records in the session, counting each outcome and adding each refused
    row's problem; answers the follow-ups of the records imported."""
    here = await kind.found(session, [record for _n, record in chunk])
    follow_ups: list[Any] = []
    for number, record in chunk:
        try:
            outcome = await kind.import_record(session, record, here.get(kind.key(record)), user)
        except RowRefused as exc:
            problems.append(CellProblem(number, exc.column, str(exc)))
            counts["refused"] += 1
            continue
        if isinstance(outcome, tuple):
            outcome, follow_up = outcome
            follow_ups.append(follow_up)
        counts[outcome] += 1
    return follow_ups
