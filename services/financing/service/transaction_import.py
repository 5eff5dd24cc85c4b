"""Transactions from another system (``POST /transactions/import``): transfers, licences, open
licences and capital contributions of IP (转让/许可/开放许可/作价入股).

A row is a transaction as recorded (:class:`~services.financing.schemas.TransactionRecord`). Its
natural key is its record number (备案/登记号): the only number a transaction has, unique
nationwide when given. The API takes a transaction without one, but an import requires it: a
row without a key could not be told from one imported before, and importing a file twice would
count its transactions twice. A transaction not yet here is recorded by the function the route
uses (:func:`transactions.recorded`), with the same checks and event (``recorded``, dated by its
``recorded_on``). One here is ``unchanged`` when the row says what it holds; the service keeps no
correction of a transaction (no route, no event), so a row that says otherwise is the row's error.
"""

from __future__ import annotations

from datetime import date

from services.financing.domain import TRANSACTION_TYPES
from services.financing.models import IpTransaction
from services.financing.schemas import TransactionRecord
from services.financing.service import transactions
from services.financing.service._common import TRANSACTION
from services.financing.service._import import ASSET_COLUMNS, numbered, recorded_once_kind
from zhichan.record_import import number_cell, vocabulary_cell
from zhichan.tabular import Column, parse_day

COLUMNS = [
    Column("region", "行政区划代码", "6-digit region code (GB/T 2260), e.g. 320300", required=True),
    Column(
        "type", "交易类型", "transfer 转让 / licence 许可 / open_licence 开放许可 / capital_contribution 作价入股", True
    ),
    Column("record_number", "备案号", "备案/登记号, unique nationwide: the transaction's key", required=True),
    Column("grantor_name", "让与人/许可人", "transferor, licensor or contributor", required=True),
    Column("grantor_uscc", "让与人统一社会信用代码", "18 characters, when an organisation"),
    Column("grantee_name", "受让人/被许可人", "transferee, licensee or the company invested in", required=True),
    Column("grantee_uscc", "受让人统一社会信用代码", "18 characters, when an organisation"),
    *ASSET_COLUMNS,
    Column("amount", "金额(元)", "price, licence fee or value contributed, yuan (0 allowed)", required=True),
    Column("contract_date", "合同日期", "2024-03-01; on or before the recording date", required=True),
    Column("recorded_on", "备案日期", "备案/登记 date; not in the future", required=True),
]
EXAMPLES = [
    {
        "region": "320300",
        "type": "许可",
        "record_number": "2023320000012345",
        "grantor_name": "中国矿业大学",
        "grantor_uscc": "123203000000000067",
        "grantee_name": "徐州某某重型机械有限公司",
        "grantee_uscc": "91320300000000003Q",
        "asset_types": "专利",
        "asset_numbers": "ZL201910987654.3",
        "asset_titles": "一种矿用液压支架的控制方法",
        "amount": 600000,
        "contract_date": date(2023, 5, 10),
        "recorded_on": date(2023, 6, 2),
    },
    {
        "region": "420502",
        "type": "transfer",
        "record_number": "2024420000006789",
        "grantor_name": "三峡大学",
        "grantee_name": "宜昌某某电气有限公司",
        "asset_types": "patent",
        "asset_numbers": "ZL202010111222.4；ZL202020333444.5",
        "asset_titles": "一种水电机组振动监测方法；一种变压器散热装置",
        "amount": "1250000.00",
        "contract_date": date(2024, 1, 8),
        "recorded_on": date(2024, 2, 20),
    },
]

ROUTE_DESCRIPTION = (
    "A transaction already here (by record number, required here) is `unchanged` when the row says what it "
    "holds; a recorded transaction does not change, so a row that says otherwise is refused (409)."
)

TRANSACTIONS = recorded_once_kind(
    "transaction",
    COLUMNS,
    TransactionRecord,
    key=lambda record: record.record_number,
    key_column="record_number",
    found=numbered(IpTransaction, "record_number", TRANSACTION),
    recorded=transactions.recorded,
    cells={"type": vocabulary_cell(TRANSACTION_TYPES), "amount": number_cell, "contract_date": parse_day},
)
