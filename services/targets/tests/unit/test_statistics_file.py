"""Release files read into checked rows: headers in Chinese or English, periods, units, dates,
regions, and every problem with its row and column; and what a release does to its cell."""

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook

from services.targets import domain
from services.targets.statistics_file import (
    ReleaseFileInvalid,
    RowProblem,
    check_rows,
    read_sheet,
    template,
)
from zhichan.regions import registry
from zhichan.statistics_catalogue import BUILT_IN, Statistic

TODAY = date(2025, 12, 1)
HEADER = "地区代码,地区名称,统计指标,期间,数值,单位,来源,发布日期,备注"


def csv_file(*lines: str, header: str = HEADER, encoding: str = "utf-8-sig") -> bytes:
    return "\r\n".join([header, *lines]).encode(encoding)


def workbook(*rows: list) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def checked(raw: bytes, fmt: str = "csv", *, sees=lambda code: True, catalogue=BUILT_IN):
    return check_rows(read_sheet(raw, fmt), catalogue, registry(), sees, TODAY)


def only_row(raw: bytes, fmt: str = "csv", **kwargs):
    rows, problems = checked(raw, fmt, **kwargs)
    assert problems == []
    (row,) = rows
    return row


def problems_of(raw: bytes, fmt: str = "csv", **kwargs) -> list[tuple]:
    rows, problems = checked(raw, fmt, **kwargs)
    return [(p.row, p.column) for p in problems]


def test_a_row_with_chinese_headers_is_a_figure_for_its_cell():
    row = only_row(csv_file("420500,宜昌市,invention_grants,2025-10,1234,件,国家知识产权局统计月报,2025-11-20,初值"))
    assert row.cell == ("420500", "invention_grants", "month", date(2025, 10, 1))
    assert (row.number, row.period.end, row.note) == (2, date(2025, 10, 31), "初值")
    assert row.release == domain.Release(date(2025, 11, 20), Decimal(1234), "国家知识产权局统计月报")


def test_english_headers_in_any_order_and_case_read_the_same():
    raw = csv_file(
        "2025Q3,invention_grants,420500,3456,国家知识产权局统计月报,2025-10-20",
        header="Period,statistic,REGION,value,source,published_on",
    )
    row = only_row(raw)
    assert row.cell == ("420500", "invention_grants", "quarter", date(2025, 7, 1))


@pytest.mark.parametrize(
    ("written", "kind", "start"),
    [
        ("2024", "year", date(2024, 1, 1)),
        ("2024年", "year", date(2024, 1, 1)),
        ("2025年第三季度", "quarter", date(2025, 7, 1)),
        ("2025-Q2", "quarter", date(2025, 4, 1)),
        ("2025年10月", "month", date(2025, 10, 1)),
    ],
)
def test_a_period_is_a_year_a_quarter_or_a_month(written, kind, start):
    row = only_row(csv_file(f"420500,,invention_grants,{written},1,,月报,2025-11-20,"))
    assert (row.period.kind, row.period.start) == (kind, start)


def test_a_month_excel_made_a_date_of_is_that_month_and_a_day_is_refused():
    header = ["地区代码", "统计指标", "期间", "数值", "来源", "发布日期"]
    month = only_row(
        workbook(header, [420500, "invention_grants", datetime(2025, 10, 1), 12.0, "月报", "2025-11-20"]), "xlsx"
    )
    assert (month.region, month.period.label, month.release.value) == ("420500", "2025-10", Decimal(12))
    day = workbook(header, [420500, "invention_grants", datetime(2025, 10, 15), 12, "月报", datetime(2025, 11, 20)])
    assert problems_of(day, "xlsx") == [(2, "期间")]


def test_a_figure_in_another_unit_of_its_family_is_converted_to_the_statistic_s():
    row = only_row(csv_file("420500,宜昌市,resident_population,2024,3914000,人,统计公报,2025-03-20,"))
    assert (row.statistic.unit, row.release.value) == ("万人", Decimal("391.4"))
    assert format(row.release.value, "f") == "391.4"
    rows, problems = checked(csv_file("420500,宜昌市,gdp,2024,5000,件,统计公报,2025-03-20,"))
    assert rows == [] and [(p.row, p.column) for p in problems] == [(2, "单位")]
    assert "件 cannot be read as 亿元" in problems[0].msg


@pytest.mark.parametrize(
    "value", ["1E+20", "123456789012345678901", "0.0000001", "1e999999999", "1e-999999999", "1." + "0" * 40 + "1"]
)
def test_a_figure_past_20_digits_before_the_point_or_6_after_is_refused(value):
    assert problems_of(csv_file(f"420500,,invention_grants,2025,{value},,年报,2025-11-20,")) == [(2, "数值")]


def test_a_figure_is_kept_exactly_in_its_shortest_form():
    largest = only_row(csv_file("420500,,gdp,2025,99999999999999999999.999999,元,统计公报,2025-11-20,"))
    assert format(largest.release.value, "f") == "999999999999.99999999999999"
    assert str(only_row(csv_file("420500,,invention_grants,2025,1.2E+3,,年报,2025-11-20,")).release.value) == "1200"


def test_a_statistic_is_named_by_its_code_or_its_chinese_name():
    row = only_row(csv_file("420500,宜昌市,发明专利授权量,2025,1,,年报,2025-11-20,"))
    assert row.statistic.code == "invention_grants"
    custom = {**BUILT_IN, "tech_contracts": Statistic("tech_contracts", "技术合同成交额", "亿元", "flow", True)}
    assert (
        only_row(csv_file("420500,,技术合同成交额,2025,1,,年报,2025-11-20,"), catalogue=custom).statistic.unit == "亿元"
    )


def test_every_problem_is_reported_with_its_row_and_column():
    raw = csv_file(
        "420500,宜昌市,invention_grants,2025-10,1234,件,月报,2025-11-20,",
        "999999,,no_such_statistic,2025-13,-1,,月报,2025-11-20,",
        "420500,襄阳市,invention_grants,2025,abc,,,2025/11/31,",
        "420500,,invention_grants,2025-10,1,,月报,2025-09-30,",
        "420500,,invention_grants,2025-11,1,,月报,2026-01-05,",
    )
    assert problems_of(raw) == [
        (3, "地区代码"),
        (3, "统计指标"),
        (3, "期间"),
        (3, "数值"),
        (4, "地区名称"),
        (4, "数值"),
        (4, "来源"),
        (4, "发布日期"),
        (5, "发布日期"),
        (6, "发布日期"),
    ]
    rows, problems = checked(raw)
    assert [row.number for row in rows] == [2]
    messages = {(p.row, p.column): p.msg for p in problems}
    assert messages[(4, "地区名称")] == "420500 is 宜昌市, not 襄阳市"
    assert "before the period 2025-10 began" in messages[(5, "发布日期")]
    assert "a day still to come" in messages[(6, "发布日期")]
    assert RowProblem(3, "期间", "x").as_error() == {"loc": [3, "期间"], "msg": "x"}


def test_a_region_outside_the_caller_s_is_a_problem_of_its_row():
    raw = csv_file("420500,宜昌市,invention_grants,2025-10,1,,月报,2025-11-20,")
    rows, problems = checked(raw, sees=lambda code: code.startswith("32"))
    assert rows == [] and problems[0].msg == "region 420500 宜昌市 is outside your regions"


def test_a_withdrawn_region_keeps_the_figures_of_its_years_and_takes_none_after():
    assert only_row(csv_file("110103,崇文区,gdp,2009,100,亿元,统计公报,2010-03-01,")).region == "110103"
    rows, problems = checked(csv_file("110103,崇文区,gdp,2010,100,亿元,统计公报,2011-03-01,"))
    assert rows == [] and [(p.row, p.column) for p in problems] == [(2, "地区代码")]
    assert problems[0].msg == "region 110103 崇文区 was withdrawn in 2010; use 110101 东城区 (for 2010 and later)"


def test_a_file_without_the_required_columns_or_with_unknown_ones_is_refused_by_its_header():
    with pytest.raises(ReleaseFileInvalid) as refused:
        read_sheet(csv_file("420500,1", header="地区代码,数字"), "csv")
    found = [(p.row, p.column) for p in refused.value.problems]
    assert found == [(1, "数字"), (1, "统计指标"), (1, "期间"), (1, "数值"), (1, "来源"), (1, "发布日期")]
    with pytest.raises(ReleaseFileInvalid) as repeated:
        read_sheet(csv_file(header="region,地区代码,statistic,period,value,source,published_on"), "csv")
    assert [(p.row, p.column) for p in repeated.value.problems] == [(1, "地区代码")]


@pytest.mark.parametrize(
    "raw", [b"", HEADER.encode(), b"PK\x03\x04 not really a zip"], ids=["empty", "header only", "not a workbook"]
)
def test_a_file_with_no_figures_is_refused_as_a_whole(raw):
    with pytest.raises(ReleaseFileInvalid) as refused:
        read_sheet(raw, "xlsx" if raw.startswith(b"PK") else "csv")
    assert [p.as_error()["loc"] for p in refused.value.problems] == [["file"]]


def test_a_csv_file_excel_saved_in_gbk_is_read():
    raw = csv_file("420500,宜昌市,发明专利授权量,2025-10,1,,国家知识产权局统计月报,2025-11-20,", encoding="gbk")
    assert only_row(raw).release.source == "国家知识产权局统计月报"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_template_s_example_rows_pass_every_check(fmt):
    rows, problems = checked(template(fmt), fmt)
    assert problems == []
    assert [(r.cell, r.release.value) for r in rows] == [
        (("420500", "invention_grants", "month", date(2025, 10, 1)), Decimal(1234)),
        (("420500", "resident_population", "year", date(2024, 1, 1)), Decimal("391.4")),
    ]


# --- what a release does to its cell -------------------------------------------------------------

OCTOBER = domain.Recorded(date(2025, 11, 20), Decimal(1234), "月报", "r1")


def test_a_cell_s_first_release_is_created_and_the_same_again_is_unchanged():
    release = domain.Release(date(2025, 11, 20), Decimal(1234), "月报")
    assert domain.release_outcome(release, []) == ("created", None)
    assert domain.release_outcome(release, [OCTOBER]) == ("unchanged", OCTOBER)


def test_a_later_figure_revises_the_latest_and_an_earlier_release_recorded_stays_unchanged():
    revision = domain.Recorded(date(2025, 12, 1), Decimal(1240), "月报(修订)", "r2")
    assert domain.release_outcome(domain.Release(date(2025, 12, 1), Decimal(1240), "月报(修订)"), [OCTOBER]) == (
        "revised",
        OCTOBER,
    )
    assert domain.release_outcome(domain.Release(date(2025, 11, 20), Decimal(1234), "月报"), [OCTOBER, revision])[
        0
    ] == ("unchanged")


def test_another_figure_of_a_day_recorded_or_of_a_day_before_the_latest_is_refused():
    with pytest.raises(domain.ReleaseRefused, match="recorded already, as 1234"):
        domain.release_outcome(domain.Release(date(2025, 11, 20), Decimal(1235), "月报"), [OCTOBER])
    with pytest.raises(domain.ReleaseRefused, match="before the latest release"):
        domain.release_outcome(domain.Release(date(2025, 11, 19), Decimal(1234), "快报"), [OCTOBER])
