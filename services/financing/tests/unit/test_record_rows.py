"""A spreadsheet's rows as financing records: headers in Chinese or English, a record's assets as
three columns of lists, vocabularies by code or label, amounts exact, and every problem at its row
and column; a pledge's changes of status in the order they were taken."""

from datetime import date
from decimal import Decimal

import pytest

from services.financing.domain import RuleViolation
from services.financing.service import insurance_import, matchmaking_import, pledge_import, transaction_import
from zhichan.tabular import Row, read_table

PLEDGE_ROW = {
    "region": "420502",
    "registration_number": "Y2023420000158",
    "pledgor_name": "宜昌某某新材料科技有限公司",
    "pledgor_uscc": "91420502000000001G",
    "pledgee": "中国银行宜昌分行",
    "asset_types": "专利",
    "asset_numbers": "ZL202110123456.7；ZL202120654321.0",
    "asset_titles": "一种磷酸铁锂正极材料的制备方法；一种电池隔膜涂布装置, 及其用途",
    "loan_amount": Decimal("5000000.1"),
    "registered_on": "2023/4/12",
    "loan_term_start": "2023年4月12日",
    "loan_term_end": date(2024, 4, 11),
    "guarantee_mode": "担保公司担保",
    "released_on": "20240408",
}


def pledge(cells: dict) -> tuple:
    return pledge_import.PLEDGES.record_of(Row(2, cells))


def csv_of(header: list[str], *rows: list[str]) -> bytes:
    return "\n".join(",".join(f'"{cell}"' for cell in cells) for cells in (header, *rows)).encode()


def test_chinese_and_english_headers_read_the_same():
    codes = list(PLEDGE_ROW)
    chinese = [next(c.header for c in pledge_import.COLUMNS if c.code == code) for code in codes]
    values = [str(v) for v in PLEDGE_ROW.values()]
    by_code = read_table(csv_of(codes, values), "csv", pledge_import.COLUMNS)
    by_header = read_table(csv_of(chinese, values), "csv", pledge_import.COLUMNS)
    assert by_code.rows == by_header.rows


def test_a_pledge_row_becomes_a_record():
    record, problems = pledge(dict(PLEDGE_ROW))
    assert problems == []
    assert [(a.type, a.number) for a in record.assets] == [
        ("patent", "ZL202110123456.7"),
        ("patent", "ZL202120654321.0"),
    ]
    assert record.assets[1].title == "一种电池隔膜涂布装置, 及其用途"  # a comma is no separator
    assert (record.loan_amount, record.guarantee_mode) == (Decimal("5000000.10"), "guarantor")
    assert (record.registered_on, record.loan_term_start, record.released_on) == (
        date(2023, 4, 12),
        date(2023, 4, 12),
        date(2024, 4, 8),
    )


def test_every_problem_is_at_its_column():
    cells = {**PLEDGE_ROW, "pledgor_uscc": "91420502000000001X", "guarantee_mode": "口头", "released_on": "2024-02-30"}
    cells["asset_types"] = "专利；商标；著作权"
    del cells["pledgee"]
    record, problems = pledge(cells)
    assert record is None
    assert sorted(p.column for p in problems) == [
        "asset_types",
        "guarantee_mode",
        "pledgee",
        "pledgor_uscc",
        "released_on",
    ]
    assert next(p for p in problems if p.column == "asset_types").msg == "3 given for 2 number(s)"
    assert next(p for p in problems if p.column == "pledgee").msg == "质权人 is required"


def test_missing_assets_are_said_at_their_columns_once():
    cells = {k: v for k, v in PLEDGE_ROW.items() if not k.startswith("asset_")}
    record, problems = pledge(cells)
    assert record is None
    assert [p.column for p in problems] == ["asset_types", "asset_numbers", "asset_titles"]
    _record, problems = pledge({**PLEDGE_ROW, "asset_types": "专利；股票"})
    assert [(p.column, p.msg.split(":")[0]) for p in problems] == [("asset_types", "ZL202120654321.0")]


def test_changes_are_taken_in_date_order_those_of_one_day_in_the_lifecycle_order():
    record, _ = pledge(PLEDGE_ROW)
    same_day = record.model_copy(
        update={
            "released_on": None,
            "disposed_on": date(2024, 5, 1),
            "disposal_proceeds": Decimal("0.00"),
            "defaulted_on": date(2024, 5, 1),
            "outstanding_at_default": Decimal("100.00"),
        }
    )
    assert [(action, body.date) for action, body in pledge_import.planned_steps(same_day)] == [
        ("default", date(2024, 5, 1)),
        ("dispose", date(2024, 5, 1)),
    ]
    with pytest.raises(RuleViolation) as refused:
        pledge_import.planned_steps(record.model_copy(update={"defaulted_on": date(2024, 5, 1)}))
    assert refused.value.field == "outstanding_at_default"
    with pytest.raises(RuleViolation) as refused:
        pledge_import.planned_steps(record.model_copy(update={"disposal_proceeds": Decimal("1.00")}))
    assert refused.value.field == "disposed_on"


def test_rows_of_the_other_kinds():
    kind = transaction_import.TRANSACTIONS
    transaction, problems = kind.record_of(
        Row(2, {"region": "320300", "type": "作价入股", "record_number": 2023320000012345,
                "grantor_name": "中国矿业大学", "grantee_name": "徐州某某重型机械有限公司",
                "asset_types": "集成电路布图设计", "asset_numbers": "BS.215500123", "asset_titles": "一种电源管理芯片",
                "amount": 0, "contract_date": "2023年5月10日", "recorded_on": "2023-06-02"}),
    )  # fmt: skip
    assert problems == []
    assert (transaction.type, transaction.record_number, transaction.amount) == (
        "capital_contribution",
        "2023320000012345",
        Decimal("0.00"),
    )
    assert transaction.as_create().grantor.name == "中国矿业大学"

    kind = insurance_import.INSURANCE_POLICIES
    policy, problems = kind.record_of(
        Row(3, {"region": "321100", "policy_number": "PICC2023321100000456", "insurer": "人保财险镇江市分公司",
                "insured_name": "镇江某某光电科技有限公司", "asset_types": "patent",
                "asset_numbers": "ZL202110555666.1",
                "asset_titles": "一种光纤传感器封装方法", "insured_amount": 0, "premium": "1.555",
                "period_start": "2023-07-01", "period_end": "2024-06-30"}),
    )  # fmt: skip
    assert policy is None and sorted((p.row, p.column) for p in problems) == [(3, "insured_amount"), (3, "premium")]

    kind = matchmaking_import.MATCHMAKING_EVENTS
    event, problems = kind.record_of(
        Row(4, {"region": "420500", "title": "宜昌市知识产权质押融资银企对接会", "held_on": "2023.9.21",
                "organiser": "宜昌市市场监督管理局", "banks": "中国银行宜昌分行，湖北银行宜昌分行；中国银行宜昌分行",
                "enterprises_attending": 56, "intended_amount": 150000000, "signed_amount": "48600000.00"}),
    )  # fmt: skip
    assert problems == [] and event.banks == ["中国银行宜昌分行", "湖北银行宜昌分行"]
    assert matchmaking_import.key_of(event) == ("420500", "宜昌市知识产权质押融资银企对接会", date(2023, 9, 21))
