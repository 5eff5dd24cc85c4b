"""A spreadsheet's rows as campaign records: headers in Chinese or English, dates as offices write
them, and every problem at its row and column."""

from datetime import date

from services.enforcement.service.campaign_import import CAMPAIGNS, COLUMNS, EXAMPLES, key_of
from zhichan.tabular import Row, read_table

ROW = {
    "region": "420500",
    "name": " 2024年知识产权执法“铁拳”行动 ",
    "start": "2024/3/1",
    "end": "2024年11月30日",
    "focus": "商标侵权、假冒专利",
}


def csv_of(header: list[str], *rows: list[str]) -> bytes:
    return "\n".join(",".join(cells) for cells in (header, *rows)).encode()


def problems_of(cells: dict) -> list[tuple[str, str]]:
    record, problems = CAMPAIGNS.record_of(Row(2, cells))
    assert record is None
    return [(p.column, p.msg) for p in problems]


def test_a_row_is_a_campaign_record_keyed_by_region_and_name():
    record, problems = CAMPAIGNS.record_of(Row(2, ROW))
    assert problems == [] and record is not None
    assert (record.start, record.end, record.description) == (date(2024, 3, 1), date(2024, 11, 30), None)
    assert key_of(record) == ("420500", "2024年知识产权执法“铁拳”行动")  # the name as stored: stripped


def test_chinese_and_english_headers_read_the_same():
    codes = list(ROW)
    chinese = [next(c.header for c in COLUMNS if c.code == code) for code in codes]
    assert chinese == ["行政区划代码", "行动名称", "开始日期", "结束日期", "重点领域"]
    values = list(ROW.values())
    assert (
        read_table(csv_of(codes, values), "csv", COLUMNS).rows
        == read_table(csv_of(chinese, values), "csv", COLUMNS).rows
    )


def test_each_problem_names_its_column():
    assert problems_of({**ROW, "end": "2024-02-01"}) == [("end", "a campaign ends on or after its start (2024-03-01)")]
    assert [c for c, _ in problems_of({**ROW, "start": "2024-02-30"})] == ["start"]
    assert [c for c, _ in problems_of({**ROW, "region": "999999"})] == ["region"]
    missing = {k: v for k, v in ROW.items() if k not in ("focus", "name")}
    assert sorted(c for c, _ in problems_of(missing)) == ["focus", "name"]
    assert [c for c, _ in problems_of({**ROW, "description": "说" * 4001})] == ["description"]


def test_the_examples_are_records():
    for example in EXAMPLES:
        record, problems = CAMPAIGNS.record_of(Row(2, example))
        assert problems == [] and record is not None
