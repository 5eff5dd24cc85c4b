"""Records as spreadsheets: reading xlsx and CSV by Chinese or English headers, what cells become,
files that cannot be read, the template and the marked copy of a refused file."""

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from zhichan.tabular import (
    BAD_CELL_FILL,
    CellProblem,
    Column,
    TableRefused,
    annotated,
    format_of,
    parse_day,
    read_table,
    template,
)

COLUMNS = [
    Column("case_number", "立案号", "unique in the region", required=True),
    Column("filed_date", "立案日期", "2024-03-01"),
    Column("fine", "罚款(元)", "yuan"),
]


def workbook(*rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def problems(raw: bytes, fmt: str) -> list[tuple]:
    with pytest.raises(TableRefused) as refused:
        read_table(raw, fmt, COLUMNS)
    return [(e["loc"], e["msg"]) for e in refused.value.errors]


@pytest.mark.parametrize(
    "header", ["立案号", "case_number", "立案号 (case_number)", "立案号（case_number）", "CASE_NUMBER"]
)
def test_a_column_is_known_by_its_chinese_header_or_its_code(header):
    table = read_table(f"{header}\n12号\n".encode(), "csv", COLUMNS)
    assert table.rows[0].cells == {"case_number": "12号"}


def test_workbook_cells_become_plain_values():
    raw = workbook(["立案号", "立案日期", "罚款(元)"], [12, datetime(2024, 3, 1), 12500.5], ["13", None, 50000.0])
    rows = read_table(raw, "xlsx", COLUMNS).rows
    assert [r.cells for r in rows] == [
        {"case_number": 12, "filed_date": date(2024, 3, 1), "fine": Decimal("12500.5")},
        {"case_number": "13", "fine": 50000},
    ]


def test_a_csv_file_saved_by_excel_on_a_chinese_windows():
    raw = "立案号,罚款(元)\n宜市监知立〔2024〕1号,100\n".encode("gb18030")
    assert read_table(raw, "csv", COLUMNS).rows[0].cells == {"case_number": "宜市监知立〔2024〕1号", "fine": "100"}


@pytest.mark.parametrize(
    ("raw", "fmt", "says"),
    [
        (b"", "csv", "empty"),
        (b"\x00\x01", "xlsx", "not a zip"),
        (("立案号\n" + "x" * 200_000 + "\n").encode(), "csv", "field larger than field limit"),
        (b"\xff\xfe\xfa", "csv", "neither UTF-8 nor GB 18030"),
    ],
)
def test_a_file_that_cannot_be_read(raw, fmt, says):
    [(loc, msg)] = problems(raw, fmt)
    assert loc == ["file"] and says in msg


def test_every_header_problem_at_once():
    found = problems("立案日期,案号,立案日期\n".encode(), "csv")
    assert found == [
        (["rows", 1, "案号"], "unknown column '案号'"),
        (["rows", 1, "filed_date"], "the column '立案日期' is given twice"),
        (["rows", 1, "case_number"], "the file has no column 立案号 (case_number)"),
    ]


@pytest.mark.parametrize("text", ["2024-03-01", "2024/3/1", "2024.3.1", "2024年3月1日", "20240301", " 2024-03-01 "])
def test_dates_as_offices_write_them(text):
    assert parse_day(text) == date(2024, 3, 1)


@pytest.mark.parametrize("text", ["2024-02-30", "01/03/2024", "next week"])
def test_what_is_not_a_date(text):
    with pytest.raises(ValueError, match="is not a date"):
        parse_day(text)


def test_the_template_reads_back_as_its_examples():
    examples = [{"case_number": "1号", "filed_date": date(2024, 3, 1), "fine": 50000}, {"case_number": "2号"}]
    for fmt in ("xlsx", "csv"):
        rows = read_table(template(COLUMNS, examples, fmt), fmt, COLUMNS).rows
        assert [r.number for r in rows] == [3, 4]  # row 2 is the note
        assert rows[1].cells == {"case_number": "2号"}
    sheet = load_workbook(io.BytesIO(template(COLUMNS, examples, "xlsx"))).active
    assert "required" in sheet["A1"].comment.text and sheet["A2"].value.startswith("#")


def test_the_marked_copy_of_a_refused_csv_file():
    raw = "立案号,立案日期\n1号,2024-02-30\n2号,=1+1\x01\n".encode()
    marked = annotated(raw, "csv", COLUMNS, [CellProblem(2, "filed_date", "not a date"), CellProblem(3, None, "bad")])
    sheet = load_workbook(io.BytesIO(marked)).active
    assert sheet["B2"].fill.start_color.rgb.endswith(BAD_CELL_FILL) and sheet["B2"].comment.text == "not a date"
    assert sheet["A3"].comment.text == "bad"  # a problem of the whole row: its first cell
    assert sheet["B3"].value == "=1+1" and sheet["B3"].data_type == "s"  # text, never a formula
    assert sheet["A2"].comment is None


@pytest.mark.parametrize(
    ("media", "name", "fmt"),
    [(f"{'text/csv'}; charset=utf-8", None, "csv"), (None, "案件.XLSX", "xlsx"), ("application/pdf", "a.pdf", None)],
)
def test_the_format_of_an_upload(media, name, fmt):
    assert format_of(media, name) == fmt
