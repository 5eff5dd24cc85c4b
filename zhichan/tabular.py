"""Records as spreadsheets: the table of an import file (xlsx or CSV), its template, and the copy
of a refused workbook with the bad cells marked. No I/O beyond the bytes given.

A service declares its columns once (:class:`Column`: the English code, which is the field it
fills, and the Chinese header of the template); a file may head its columns either way. A row
whose first filled cell starts with ``#`` is a note (the template's second row) and is skipped,
as are empty rows. Every problem names its row (as the spreadsheet numbers it, the header being
row 1) and its column (:class:`CellProblem`), so that a refusal lists them all at once.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from zhichan.api.problems import Invalid

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv"
MEDIA_TYPES = {"xlsx": XLSX_TYPE, "csv": f"{CSV_TYPE}; charset=utf-8"}
EXTENSIONS = {".xlsx": "xlsx", ".csv": "csv"}
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024  # a workbook is a zip: refuse one that inflates beyond this
NOTE_MARK = "#"
# The marks of a refused workbook's bad cells: a light red fill and a comment saying what is wrong.
BAD_CELL_FILL = "FFC7CE"
COMMENT_AUTHOR = "Zhichan"
_DAY_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


@dataclass(frozen=True)
class Column:
    """A column of an import file: ``code`` is the field it fills (and an English header),
    ``header`` the Chinese one of the template, ``note`` what it takes."""

    code: str
    header: str
    note: str
    required: bool = False

    @property
    def title(self) -> str:
        return f"{self.header} ({self.code})"


@dataclass(frozen=True)
class CellProblem:
    """Something wrong in a file: at a row and column, or (row None) with the file or its header."""

    row: int | None
    column: str | None  # a column's code, or a header as the file wrote it
    msg: str

    def as_error(self, columns: dict[str, Column]) -> dict[str, Any]:
        """The entry of a problem's ``errors``: ``loc`` ``["rows", 5, "closed_date"]``, the row and
        the column's header as the file's reader knows them."""
        loc: list[str | int] = ["file"] if self.row is None else ["rows", self.row]
        if self.column is not None:
            loc.append(self.column)
        header = columns[self.column].header if self.column in columns else self.column
        return {"loc": loc, "msg": self.msg, "row": self.row, "column": header}


class TableRefused(Invalid):
    """A file with problems: 422, ``errors`` list each of them."""

    def __init__(self, problems: Sequence[CellProblem], columns: Sequence[Column], **extra: Any) -> None:
        by_code = {c.code: c for c in columns}
        super().__init__(
            f"{len(problems)} problem(s) in the file; nothing was stored",
            errors=[p.as_error(by_code) for p in problems],
            **extra,
        )
        self.problems = list(problems)


@dataclass
class Row:
    number: int  # as the spreadsheet numbers it: the header is row 1
    cells: dict[str, Any]  # by column code; empty cells left out


@dataclass
class Table:
    rows: list[Row]
    problems: list[CellProblem] = field(default_factory=list)


def format_of(content_type: str | None, filename: str | None = None) -> str | None:
    """``xlsx`` or ``csv`` from a media type, else from a file name's extension."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media == XLSX_TYPE:
        return "xlsx"
    if media in (CSV_TYPE, "application/csv"):
        return "csv"
    for extension, fmt in EXTENSIONS.items():
        if filename and filename.lower().endswith(extension):
            return fmt
    return None


# ---------------------------------------------------------------- reading


def read_table(raw: bytes, fmt: str, columns: Sequence[Column]) -> Table:
    """The data rows of a file, each cell by its column's code. A file that cannot be read, or
    whose header lacks a required column or names an unknown one, raises :class:`TableRefused`."""
    grid = _xlsx_grid(raw) if fmt == "xlsx" else _csv_grid(raw)
    problems: list[CellProblem] = []
    header = next(grid, None)
    if header is None:
        raise TableRefused([CellProblem(None, None, "the file is empty: no header row")], columns)
    codes = _header_codes(header, columns, problems)
    if problems:
        raise TableRefused(problems, columns)
    rows = []
    for number, values in enumerate(grid, start=2):
        cells = {}
        for code, value in zip(codes, values, strict=False):
            value = _cell_value(value)
            if code is not None and value is not None:
                cells[code] = value
        if cells and not _is_note(values):
            rows.append(Row(number, cells))
    return Table(rows)


def _header_codes(header: Sequence[Any], columns: Sequence[Column], problems: list[CellProblem]) -> list[str | None]:
    """Each header cell's column code (Chinese header, English code or the template's "header
    (code)"); None for an empty one."""
    known: dict[str, str] = {}
    for column in columns:
        for name in (column.code, column.header, column.title):
            known[_folded(name)] = column.code
    codes: list[str | None] = []
    for value in header:
        text = _cell_text(value)
        code = known.get(_folded(text)) if text else None
        if text and code is None:
            problems.append(CellProblem(1, text, f"unknown column {text!r}"))
        elif code is not None and code in codes:
            problems.append(CellProblem(1, code, f"the column {text!r} is given twice"))
        codes.append(code)
    for column in columns:
        if column.required and column.code not in codes:
            problems.append(CellProblem(1, column.code, f"the file has no column {column.title}"))
    return codes


def _folded(text: str) -> str:
    return re.sub(r"[\s（）()]", "", text).lower()


def _is_note(values: Sequence[Any]) -> bool:
    first = next((_cell_text(v) for v in values if _cell_text(v)), None)
    return first is not None and first.startswith(NOTE_MARK)


def _xlsx_grid(raw: bytes) -> Iterable[Sequence[Any]]:
    from openpyxl import load_workbook

    _refuse_zip_bomb(raw)
    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise TableRefused([CellProblem(None, None, f"not an Excel workbook (.xlsx): {exc}")], ()) from None
    try:
        if not workbook.worksheets:
            raise TableRefused([CellProblem(None, None, "the workbook has no sheet")], ())
        # The first sheet holds the records; a workbook's other sheets (notes, lists) are not read.
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    finally:
        workbook.close()


def _csv_grid(raw: bytes) -> Iterable[Sequence[Any]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # what Excel saves as "CSV" on a Chinese Windows
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise TableRefused(
                [CellProblem(None, None, "the CSV file is neither UTF-8 nor GB 18030 text")], ()
            ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        yield from reader
    except csv.Error as exc:  # a field beyond the csv module's limit (128 KiB)
        unreadable = CellProblem(None, None, f"not a CSV file (line {reader.line_num}): {exc}")
        raise TableRefused([unreadable], ()) from None


def _refuse_zip_bomb(raw: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise TableRefused([CellProblem(None, None, "not an Excel workbook (.xlsx): not a zip archive")], ()) from None
    if inflated > MAX_UNZIPPED_BYTES:
        raise TableRefused([CellProblem(None, None, "the workbook inflates beyond 100 MB")], ())


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).strip() or None


def _cell_value(value: Any) -> Any:
    """A cell as typed data: text stripped (empty: None), a workbook's date time a date, a number
    exact (a float's shortest text, never its binary expansion)."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, float):
        return Decimal(repr(value)).normalize() if not value.is_integer() else int(value)
    return value


def parse_day(value: Any) -> date:
    """A business date from a cell: a workbook's date, or text as offices write it (2024-03-01,
    2024/3/1, 2024.3.1, 2024年3月1日, 20240301). Raises ValueError."""
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for pattern in _DAY_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (write 2024-03-01)")


def text_of(value: Any) -> str:
    """A cell as text: numbers as written (a case number typed as 12 is "12")."""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# ---------------------------------------------------------------- writing


def records_csv(rows: Sequence[dict[str, Any]], *, encoding: str = "utf-8") -> bytes:
    """Records as a CSV file to import: one column for each key any row has, in the order first
    met. ``encoding="utf-8-sig"``: as Excel saves "CSV UTF-8" (a byte-order mark first)."""
    columns = list(dict.fromkeys(column for row in rows for column in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def template(columns: Sequence[Column], examples: Sequence[dict[str, Any]], fmt: str) -> bytes:
    """The file to fill in: the Chinese headers, a note row (``#``) saying what each column
    takes, and example rows; a workbook's headers carry the notes as comments too."""
    header = [c.header for c in columns]
    notes = [f"{NOTE_MARK} {columns[0].note}", *(c.note for c in columns[1:])]
    rows = [[example.get(c.code) for c in columns] for example in examples]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        for row in (header, notes, *rows):
            writer.writerow(["" if v is None else text_of(v) for v in row])
        return out.getvalue().encode("utf-8-sig")  # the BOM: Excel opens it as UTF-8
    from openpyxl import Workbook
    from openpyxl.comments import Comment

    workbook = Workbook()
    sheet = workbook.active
    for row in (header, notes, *rows):
        _append(sheet, row)
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(1, index)
        cell.comment = Comment(f"{column.code}{' (required)' if column.required else ''}: {column.note}", "Zhichan")
        sheet.column_dimensions[cell.column_letter].width = max(12, 2 * len(column.header) + 4)
    sheet.freeze_panes = "A2"
    return _saved(workbook)


def annotated(raw: bytes, fmt: str, columns: Sequence[Column], problems: Sequence[CellProblem]) -> bytes:
    """The file as a workbook with each bad cell filled red and a comment saying what is wrong
    with it (a problem of a whole row marks its first cell; one of the file, the first header).
    A CSV file becomes a workbook of its cells."""
    from openpyxl import Workbook, load_workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    if fmt == "xlsx":
        workbook = load_workbook(io.BytesIO(raw))
        sheet = workbook.worksheets[0]
    else:
        workbook = Workbook()
        sheet = workbook.active
        for values in _csv_grid(raw):
            _append(sheet, list(values))
    codes = _header_codes([c.value for c in sheet[1]], columns, []) if sheet.max_row else []
    fill = PatternFill(start_color=BAD_CELL_FILL, end_color=BAD_CELL_FILL, fill_type="solid")
    messages: dict[tuple[int, int], list[str]] = {}
    for problem in problems:
        column = codes.index(problem.column) + 1 if problem.column in codes else 1
        messages.setdefault((problem.row or 1, column), []).append(problem.msg)
    for (row, column), texts in messages.items():
        cell = sheet.cell(row, column)
        cell.fill = fill
        cell.comment = Comment("\n".join(texts), COMMENT_AUTHOR)
    return _saved(workbook)


def _append(sheet, values: Sequence[Any]) -> None:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    sheet.append([None] * len(values))
    for index, value in enumerate(values, start=1):
        cell = sheet.cell(sheet.max_row, index)
        if isinstance(value, str):
            cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters a workbook cannot hold
            cell.data_type = "s"  # text stays text, even when it starts with "=" (no formulas)
        elif isinstance(value, Decimal):
            cell.value = float(value)
        else:
            cell.value = value
        if isinstance(value, date):
            cell.number_format = "yyyy-mm-dd"


def _saved(workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
