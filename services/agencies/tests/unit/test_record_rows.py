"""A spreadsheet's rows as agencies' records: headers in Chinese or English, lists, yes and no,
vocabularies by code or label, dates as offices write them, and every problem at its row and
column; an agency's changes of status in the order they were taken."""

from datetime import date
from decimal import Decimal

from services.agencies.schemas import AgencyRecord
from services.agencies.service import agency_import, annual_report_import, complaint_import, practitioner_import
from zhichan.record_import import parse_row
from zhichan.tabular import Row, read_table
from zhichan.workdays import CALENDAR

AGENCY_ROW = {
    "region": "320311",
    "uscc": "91320311000000001G",
    "name": "徐州知信专利代理事务所",
    "service_types": "专利代理、consulting，专利代理",
    "licence_numbers": "32001, 32002",
    "offline": "是",
    "in_cluster": "no",
    "brand_level": "市级品牌机构",
    "filed_on": "2021/3/1",
    "approved_on": "2021年3月15日",
}


def agency(cells: dict) -> tuple:
    kind = agency_import.AGENCIES
    return parse_row(Row(2, cells), kind.columns, kind.model, kind.cells)


def csv_of(header: list[str], *rows: list[str]) -> bytes:
    return "\n".join(",".join(f'"{cell}"' for cell in cells) for cells in (header, *rows)).encode()


def test_chinese_and_english_headers_read_the_same():
    codes = list(AGENCY_ROW)
    chinese = [next(c.header for c in agency_import.COLUMNS if c.code == code) for code in codes]
    values = list(AGENCY_ROW.values())
    by_code = read_table(csv_of(codes, values), "csv", agency_import.COLUMNS)
    by_header = read_table(csv_of(chinese, values), "csv", agency_import.COLUMNS)
    assert by_code.rows == by_header.rows


def test_an_agency_row_becomes_a_record():
    record, problems = agency(dict(AGENCY_ROW))
    assert problems == []
    assert record.service_types == ["patent_agency", "consulting"]  # labels read as codes, repeats once
    assert record.licence_numbers == ["32001", "32002"]
    assert (record.offline, record.in_cluster, record.brand_level) == (True, False, "municipal")
    assert (record.filed_on, record.approved_on) == (date(2021, 3, 1), date(2021, 3, 15))


def test_every_problem_is_at_its_column():
    cells = {**AGENCY_ROW, "uscc": "91320311000000001X", "offline": "也许", "filed_on": "2021-02-30"}
    del cells["name"]
    record, problems = agency(cells)
    assert record is None
    assert sorted(p.column for p in problems) == ["filed_on", "name", "offline", "uscc"]
    assert next(p for p in problems if p.column == "name").msg == "机构名称 is required"
    assert next(p for p in problems if p.column == "offline").msg == "'也许' is neither 是 nor 否"


def test_changes_are_taken_in_date_order_those_of_one_day_in_the_lifecycle_order():
    record = AgencyRecord(
        region="320311",
        uscc="91320311000000001G",
        name="徐州知信专利代理事务所",
        service_types=["patent_agency"],
        filed_on=date(2021, 3, 1),
        deregistered_on=date(2022, 5, 1),
        approved_on=date(2021, 3, 1),
        suspended_on=date(2022, 5, 1),
    )
    assert agency_import.planned_changes(record) == [
        ("approve", date(2021, 3, 1)),
        ("suspend", date(2022, 5, 1)),
        ("deregister", date(2022, 5, 1)),
    ]


def test_rows_of_the_other_kinds():
    kind = practitioner_import.PRACTITIONERS
    spell, problems = parse_row(
        Row(2, {"agency_uscc": "91320311000000001G", "name": "王某某", "type": "商标代理人",
                "certificate_number": "tm32000123", "joined_on": "20220901"}),
        kind.columns, kind.model, kind.cells,
    )  # fmt: skip
    assert problems == [] and (spell.type, spell.certificate_number) == ("trademark_agent", "TM32000123")

    kind = annual_report_import.ANNUAL_REPORTS
    report, problems = parse_row(
        Row(3, {"agency_uscc": "91320311000000001G", "year": 2022, "staff": 5, "practitioners": 7,
                "service_revenue": Decimal("1860000.5"), "filings_handled": 420}),
        kind.columns, kind.model, kind.cells,
    )  # fmt: skip
    assert report is None and [(p.row, p.column) for p in problems] == [(3, "practitioners")]

    kind = complaint_import.kind(15, CALENDAR)
    complaint, problems = parse_row(
        Row(4, {"agency_uscc": "91320311000000001G", "channel": "来信", "received_on": "2024.3.4",
                "content": "收费未明码标价", "outcome": "调解"}),
        kind.columns, kind.model, kind.cells,
    )  # fmt: skip
    assert problems == [] and (complaint.channel, complaint.outcome) == ("letter", "mediated")
