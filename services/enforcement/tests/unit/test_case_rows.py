"""A spreadsheet's rows as case records: headers in Chinese or English, dates as offices write
them, vocabularies by code or label, and every problem at its row and column."""

from datetime import date
from decimal import Decimal

import pytest

from services.enforcement import domain
from services.enforcement.service.case_import import COLUMNS, parse_row, planned_steps
from zhichan.tabular import Row, TableRefused, read_table

CLOSED_ROW = {
    "region": "420502",
    "case_number": "宜西市监知立〔2024〕15号",
    "type": "商标侵权",
    "procedure": "行政处罚",
    "origin": "complaint",
    "respondent_name": "宜昌市某某商贸有限公司",
    "respondent_uscc": "91420502000000001G",
    "handling_unit": "西陵区市场监管局",
    "filed_date": "2024-03-04",
    "decided_date": "2024/5/20",
    "outcome": "行政处罚决定",
    "fine": "50000",
    "closed_date": "2024年5月31日",
}


def csv_of(header: list[str], *rows: list[str]) -> bytes:
    return "\n".join(",".join(cells) for cells in (header, *rows)).encode()


def test_chinese_and_english_headers_read_the_same():
    codes = list(CLOSED_ROW)
    chinese = [next(c.header for c in COLUMNS if c.code == code) for code in codes]
    values = list(CLOSED_ROW.values())
    by_code = read_table(csv_of(codes, values), "csv", COLUMNS)
    by_header = read_table(csv_of(chinese, values), "csv", COLUMNS)
    assert by_code.rows == by_header.rows
    assert by_code.rows[0].number == 2


def test_a_row_becomes_a_record_with_its_steps():
    record, problems = parse_row(Row(2, dict(CLOSED_ROW)))
    assert problems == []
    assert (record.type, record.procedure, record.outcome) == (
        "trademark_infringement",
        "administrative_penalty",
        "penalty_decision",
    )
    assert record.fine == Decimal("50000.00")
    assert [(s.action, s.on) for s in planned_steps(record)] == [
        ("investigate", date(2024, 3, 4)),  # not dated: the filing date, since the decision needs it
        ("decide", date(2024, 5, 20)),
        ("close", date(2024, 5, 31)),
    ]


def test_steps_of_one_day_follow_the_lifecycle():
    row = {
        **CLOSED_ROW,
        "investigated_date": "2024-03-04",
        "suspended_date": "2024-04-01",
        "resumed_date": "2024-04-01",
    }
    record, _ = parse_row(Row(2, {**row, "suspension_reason": "等待鉴定"}))
    assert [s.action for s in planned_steps(record)] == ["investigate", "suspend", "resume", "decide", "close"]


@pytest.mark.parametrize(
    ("cells", "column", "says"),
    [
        ({"filed_date": "2024-13-01"}, "filed_date", "is not a date"),
        ({"type": "盗版"}, "type", "is none of"),
        ({"region": "999999"}, "region", "unknown region code"),
        ({"respondent_uscc": "91420502000000001X"}, "respondent_uscc", "check"),
        ({"fine": "-5"}, "fine", ""),
        ({"handling_unit": None}, "handling_unit", "承办单位 is required"),
        ({"filed_date": None}, "filed_date", "立案日期 is required"),  # not today's date by default
        ({"suspended_date": "2024-04-01"}, "suspension_reason", "0 given for 1 suspension(s)"),
        (
            {"suspended_date": "2024-04-01", "resumed_date": "2024-04-05；2024-05-01", "suspension_reason": "鉴定"},
            "resumed_date",
            "2 given for 1 suspension(s)",
        ),
        ({"suspended_date": "2024-04-01;2024-05-01", "suspension_reason": "鉴定"}, "resumed_date", "may still be open"),
        ({"suspended_date": "2024-04-01；someday", "suspension_reason": "鉴定"}, "suspended_date", "is not a date"),
        ({"respondent_uscc": None}, "respondent_kind", "USCC"),  # an organization is named with its USCC
    ],
)
def test_each_bad_cell_is_named_by_row_and_column(cells, column, says):
    row = {k: v for k, v in {**CLOSED_ROW, **cells}.items() if v is not None}
    if cells.get("respondent_uscc", "") is None:
        row["respondent_kind"] = "organization"
    record, problems = parse_row(Row(7, row))
    assert record is None
    assert [(p.row, p.column) for p in problems] == [(7, column)]
    assert says in problems[0].msg


def test_several_suspensions_in_one_row():
    row = {
        **CLOSED_ROW,
        "suspended_date": "2024-03-10；2024-04-01",
        "resumed_date": "2024-03-20",
        "suspension_reason": "等待鉴定；等待无效宣告",
    }
    del row["decided_date"], row["outcome"], row["fine"], row["closed_date"]
    record, problems = parse_row(Row(2, row))
    assert problems == []
    assert [(s.action, s.on, s.reason) for s in planned_steps(record)] == [
        ("investigate", date(2024, 3, 4), None),
        ("suspend", date(2024, 3, 10), "等待鉴定"),
        ("resume", date(2024, 3, 20), None),
        ("suspend", date(2024, 4, 1), "等待无效宣告"),  # suspended still
    ]


def test_a_resumption_and_the_next_suspension_on_one_day():
    row = {**CLOSED_ROW, "suspended_date": "2024-03-10;2024-03-20", "resumed_date": "2024-03-20;2024-04-01"}
    record, _ = parse_row(Row(2, {**row, "suspension_reason": "等待鉴定"}))
    actions = [s.action for s in planned_steps(record)]
    assert actions == ["investigate", "suspend", "resume", "suspend", "resume", "decide", "close"]


def test_every_problem_of_a_row_is_given():
    record, problems = parse_row(Row(3, {**CLOSED_ROW, "filed_date": "yesterday", "outcome": "罚了", "fine": "x"}))
    assert record is None
    assert sorted(p.column for p in problems) == ["filed_date", "fine", "outcome"]


@pytest.mark.parametrize(
    ("cells", "column"),
    [
        ({"extended_date": "2024-04-01", "extension_reason": "案情复杂"}, "extension_approver"),
        ({"decided_date": None}, "decided_date"),  # an outcome and a fine without their decision
        (
            {
                "transferred_date": "2024-04-01",
                "decided_date": None,
                "outcome": None,
                "fine": None,
                "closed_date": None,
            },
            "transfer_to",
        ),
    ],
)
def test_a_step_missing_what_it_needs_names_the_column(cells, column):
    row = {k: v for k, v in {**CLOSED_ROW, **cells}.items() if v is not None}
    record, problems = parse_row(Row(2, row))
    assert problems == []
    with pytest.raises(domain.InvalidStep) as refused:
        planned_steps(record)
    assert refused.value.loc == column


def test_a_header_it_does_not_know_or_a_missing_column_refuses_the_file():
    with pytest.raises(TableRefused) as refused:
        read_table(csv_of(["region", "案号", "type"], ["420502", "1", "商标侵权"]), "csv", COLUMNS)
    locs = [e["loc"] for e in refused.value.errors]
    assert ["rows", 1, "案号"] in locs
    assert ["rows", 1, "case_number"] in locs and ["rows", 1, "handling_unit"] in locs


def test_notes_and_empty_rows_are_skipped_and_numbers_kept():
    raw = csv_of(["region", "case_number"], ["# 行政区划代码", "说明"], ["", ""], ["420502", "12"])
    table = read_table(raw, "csv", [c for c in COLUMNS if c.code in ("region", "case_number")])
    assert [(r.number, r.cells) for r in table.rows] == [(4, {"region": "420502", "case_number": "12"})]
