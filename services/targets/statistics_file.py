"""Release files: official statistics as a CSV file or an Excel workbook, one row per figure (a
region × a statistic × a period), read into checked rows; and the template offices fill in. No
I/O beyond the bytes given.

The columns have Chinese headers (地区代码, 统计指标, 期间, 数值, 单位, 来源, 发布日期, 备注, and 地区名称
to check the code against) or English ones (region, statistic, …); each problem is reported with
its row as a spreadsheet numbers it (the header is row 1) and its column as the file heads it.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from services.targets import domain
from services.targets.planfile import MAX_UNZIPPED_BYTES, XLSX_TYPE
from zhichan.regions import RegionRegistry, withdrawn_problem
from zhichan.statistics_catalogue import Period, PeriodError, Statistic, month, parse_period

CSV_TYPES = ("text/csv", "application/csv")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX_TYPE}
MAX_ROWS = 10_000
MAX_SOURCE_LENGTH = 200
MAX_NOTE_LENGTH = 2000

# Field → its Chinese header; the English header is the field's name. In the template's order.
HEADERS = {
    "region": "地区代码",
    "region_name": "地区名称",
    "statistic": "统计指标",
    "period": "期间",
    "value": "数值",
    "unit": "单位",
    "source": "来源",
    "published_on": "发布日期",
    "note": "备注",
}
REQUIRED = ("region", "statistic", "period", "value", "source", "published_on")
_FIELD_OF_HEADER = {**{name: field for field, name in HEADERS.items()}, **{field: field for field in HEADERS}}

EXAMPLES = (
    ("420500", "宜昌市", "invention_grants", "2025-10", 1234, "件", "国家知识产权局统计月报 2025-10", "2025-11-20", ""),
    (
        "420500",
        "宜昌市",
        "常住人口",
        "2024",
        Decimal("391.4"),
        "万人",
        "宜昌市2024年国民经济和社会发展统计公报",
        "2025-03-20",
        "年末常住人口",
    ),
)

_DAY = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def format_of(content_type: str | None, filename: str | None = None) -> str | None:
    """``csv`` or ``xlsx`` from a media type, else from a file name's extension."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media in CSV_TYPES:
        return "csv"
    if media == XLSX_TYPE:
        return "xlsx"
    for fmt in ("csv", "xlsx"):
        if filename and filename.lower().endswith(f".{fmt}"):
            return fmt
    return None


@dataclass(frozen=True)
class RowProblem:
    """A problem of a release file: at a row and column, a row, or (row None) the whole file."""

    row: int | None
    column: str | None
    msg: str

    def as_error(self) -> dict[str, Any]:
        where: list[str | int] = ["file"] if self.row is None else [self.row]
        return {"loc": [*where, self.column] if self.column else where, "msg": self.msg}


class ReleaseFileInvalid(Exception):
    """The file cannot be read as release rows at all; nothing of it may be stored."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the release file")
        self.problems = problems


@dataclass(frozen=True)
class Sheet:
    """A release file's rows: each data row's number and cells by field, and each field's header
    as the file writes it (problems name the column so)."""

    headers: dict[str, str]
    rows: list[tuple[int, dict[str, Any]]]


def read_sheet(raw: bytes, fmt: str) -> Sheet:
    table = _workbook_table(raw) if fmt == "xlsx" else _csv_table(raw)
    if not table:
        raise ReleaseFileInvalid([RowProblem(None, None, "the file is empty: a header row and a row per figure")])
    headers: dict[str, str] = {}
    fields: list[str | None] = []  # each column's field, by position
    problems = []
    for header in map(_text, table[0]):
        field = _FIELD_OF_HEADER.get(header) or _FIELD_OF_HEADER.get(header.lower()) if header else None
        if header is not None and field is None:
            known = "、".join(HEADERS.values())
            problems.append(RowProblem(1, header, f"unknown column {header!r}; the columns are {known}"))
        elif field in headers:
            problems.append(RowProblem(1, header, f"{header!r} repeats the column {headers[field]!r}"))
        elif field is not None:
            headers[field] = header
        fields.append(field)
    for field in REQUIRED:
        if field not in headers:
            problems.append(RowProblem(1, HEADERS[field], f"no column {HEADERS[field]} ({field})"))
    if problems:
        raise ReleaseFileInvalid(problems)
    rows = []
    for number, values in enumerate(table[1:], start=2):
        cells = {field: value for field, value in zip(fields, values, strict=False) if field is not None}
        if any(_text(value) is not None for value in cells.values()):
            rows.append((number, cells))
    if not rows:
        raise ReleaseFileInvalid([RowProblem(None, None, "the file has a header but no figures")])
    if len(rows) > MAX_ROWS:
        raise ReleaseFileInvalid([RowProblem(None, None, f"{len(rows)} rows; a file holds at most {MAX_ROWS}")])
    return Sheet(headers, rows)


def _csv_table(raw: bytes) -> list[list[Any]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on a Chinese Windows saves "CSV" in the ANSI code page, GBK; GB 18030 reads it.
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise ReleaseFileInvalid([RowProblem(None, None, "not a text file in UTF-8 or GB 18030")]) from None
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ReleaseFileInvalid([RowProblem(None, None, f"not a CSV file: {exc}")]) from None


def _workbook_table(raw: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise ReleaseFileInvalid([RowProblem(None, None, "not an Excel workbook (.xlsx): not a zip archive")]) from None
    if inflated > MAX_UNZIPPED_BYTES:  # a zip that inflates beyond what a workbook of figures needs
        raise ReleaseFileInvalid([RowProblem(None, None, "the workbook inflates beyond 50 MB")])
    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise ReleaseFileInvalid([RowProblem(None, None, f"not an Excel workbook (.xlsx): {exc}")]) from None
    try:
        return [list(values) for values in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


# --- rows ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseRow:
    """A checked row: a figure for a cell, in the statistic's unit."""

    number: int
    region: str
    statistic: Statistic
    period: Period
    release: domain.Release
    note: str | None

    @property
    def cell(self) -> tuple[str, str, str, date]:
        return self.region, self.statistic.code, self.period.kind, self.period.start


def check_rows(
    sheet: Sheet,
    catalogue: Mapping[str, Statistic],
    regions: RegionRegistry,
    sees: Callable[[str], bool],
    today: date,
) -> tuple[list[ReleaseRow], list[RowProblem]]:
    """The rows that pass every check, and every problem of the others. A statistic is named by
    its code or its Chinese name; ``sees`` says whether the caller may record figures of a region."""
    by_name = {**{s.name: s for s in catalogue.values()}, **catalogue}
    checked, problems = [], []
    for number, cells in sheet.rows:
        row = _RowReader(number, cells, sheet.headers)
        region = row.read("region", _region, regions, sees)
        if region is not None and (name := row.text("region_name")) and name != regions.get(region).name:
            row.problem("region_name", f"{region} is {regions.get(region).name}, not {name}")
        statistic = row.read("statistic", _statistic, by_name)
        period = row.read("period", _period, raw=True)
        if region is not None and period is not None:
            row.check("region", _in_use, regions, region, period)
        value = row.read("value", domain.release_figure, raw=True)
        if value is not None and statistic is not None:
            unit = row.text("unit")
            value = row.check("unit", domain.in_statistic_unit, value, unit, statistic.unit)
        source = row.read("source", _bounded, MAX_SOURCE_LENGTH)
        published_on = row.read("published_on", _day, raw=True)
        if published_on is not None and period is not None:
            row.check("published_on", domain.check_publication, published_on, period, today)
        note = row.text("note")
        if note is not None:
            row.check("note", _bounded, note, MAX_NOTE_LENGTH)
        if row.problems:
            problems += row.problems
            continue
        release = domain.Release(published_on, value, source)
        checked.append(ReleaseRow(number, region, statistic, period, release, note))
    return checked, problems


class _RowReader:
    """One row's cells read field by field, each problem kept with its row and column."""

    def __init__(self, number: int, cells: dict[str, Any], headers: dict[str, str]) -> None:
        self.number, self.cells, self.headers = number, cells, headers
        self.problems: list[RowProblem] = []

    def problem(self, field: str, msg: str) -> None:
        self.problems.append(RowProblem(self.number, self.headers.get(field, HEADERS[field]), msg))

    def text(self, field: str) -> str | None:
        return _text(self.cells.get(field))

    def read(self, field: str, parse: Callable[..., Any], *args: Any, raw: bool = False) -> Any:
        """``parse(text, *args)`` of the field (of the cell as it is when ``raw``); None, with a
        problem, when the cell is empty or refused."""
        text = self.text(field)
        if text is None:
            if field in REQUIRED:
                self.problem(field, "empty; every row needs one")
            return None
        return self.check(field, parse, self.cells[field] if raw else text, *args)

    def check(self, field: str, rule: Callable[..., Any], *args: Any) -> Any:
        """``rule(*args)``; None, with a problem at the field, when it refuses."""
        try:
            return rule(*args)
        except ValueError as exc:  # the rules' refusals: ReleaseRefused, PeriodError, parse errors
            self.problem(field, str(exc))
            return None


def _region(code: str, regions: RegionRegistry, sees: Callable[[str], bool]) -> str:
    if code not in regions:
        raise ValueError(f"unknown region code {code!r} (GB/T 2260 or a custom region)")
    if not sees(code):
        raise ValueError(f"region {code} {regions.get(code).name} is outside your regions")
    return code


def _in_use(regions: RegionRegistry, code: str, period: Period) -> None:
    """A withdrawn code keeps the figures of its years; later ones are released for its successors."""
    region = regions.get(code)
    if region.withdrawn and period.start.year >= region.withdrawn_in:
        raise ValueError(f"{withdrawn_problem(region, regions)} (for {period.label} and later)")


def _statistic(text: str, by_name: Mapping[str, Statistic]) -> Statistic:
    if text not in by_name:
        raise ValueError(f"no statistic {text!r} in the catalogue (GET /statistics/catalogue: a code or 中文名称)")
    return by_name[text]


def _period(cell: Any) -> Period:
    if isinstance(cell, datetime | date):
        # Excel makes a date of "2025-10" typed into a cell: the first of that month.
        if cell.day != 1:
            raise PeriodError(f"{cell:%Y-%m-%d} is a day; a period is a year, a quarter or a month (2025-10)")
        return month(cell.year, cell.month)
    return parse_period(_text(cell))


def _day(cell: Any) -> date:
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    found = _DAY.match(_text(cell) or "")
    try:
        if found is None:
            raise ValueError
        return date(*(int(part) for part in found.groups()))
    except ValueError:
        raise ValueError(f"{_text(cell)!r} is not a date (2025-11-20)") from None


def _bounded(text: str, limit: int) -> str:
    if len(text) > limit:
        raise ValueError(f"{len(text)} characters; at most {limit}")
    return text


def _text(value: Any) -> str | None:
    """A cell as text: a whole number without its ``.0`` (a code Excel stored as a number)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        value = value.isoformat()
    return str(value).strip() or None


# --- the template --------------------------------------------------------------------------------


def template(fmt: str) -> bytes:
    """The headers (Chinese) and two example rows, as CSV (UTF-8 with a BOM: Excel then reads the
    Chinese right) or as a workbook whose 期间 and 发布日期 columns are text, so that Excel keeps
    2025-10 as written instead of making it a date."""
    header = list(HEADERS.values())
    if fmt == "csv":
        out = io.StringIO(newline="")
        csv.writer(out, lineterminator="\r\n").writerows([header, *EXAMPLES])
        return out.getvalue().encode("utf-8-sig")
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "统计数据"
    sheet.append(header)
    text_columns = {header.index(HEADERS["period"]) + 1, header.index(HEADERS["published_on"]) + 1}
    for values in EXAMPLES:
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in values])
    for column in text_columns:
        for (cell,) in sheet.iter_rows(min_col=column, max_col=column, max_row=1000):
            cell.number_format = "@"
    for column, name in enumerate(header, start=1):
        sheet.column_dimensions[sheet.cell(1, column).column_letter].width = 36 if name == HEADERS["source"] else 14
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
