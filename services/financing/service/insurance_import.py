"""Insurance policies from another system (``POST /insurance-policies/import``): IP insurance
(知识产权保险).

A row is a policy (:class:`~services.financing.schemas.InsurancePolicyRecord`); its natural key is
its policy number (保单号), unique nationwide. A policy not yet here is recorded by the function
the route uses (:func:`insurance.recorded`), with the same checks and event (``recorded``, dated
by its ``period_start``). One here is ``unchanged`` when the row says what it holds; the service
keeps no correction of a policy (no route, no event), so a row that says otherwise is the row's
error.
"""

from __future__ import annotations

from datetime import date

from services.financing.models import InsurancePolicy
from services.financing.schemas import InsurancePolicyRecord
from services.financing.service import insurance
from services.financing.service._common import INSURANCE_POLICY
from services.financing.service._import import ASSET_COLUMNS, numbered, recorded_once_kind
from zhichan.record_import import number_cell
from zhichan.tabular import Column, parse_day

COLUMNS = [
    Column("region", "行政区划代码", "6-digit region code (GB/T 2260), e.g. 321100", required=True),
    Column("policy_number", "保单号", "unique nationwide: the policy's key", required=True),
    Column("insurer", "保险公司", "e.g. 中国人民财产保险股份有限公司镇江市分公司", required=True),
    Column("insured_name", "被保险人", "the insured enterprise", required=True),
    Column("insured_uscc", "被保险人统一社会信用代码", "18 characters, when an organisation"),
    *ASSET_COLUMNS,
    Column("insured_amount", "保险金额(元)", "yuan", required=True),
    Column("premium", "保费(元)", "yuan (0 allowed)", required=True),
    Column("period_start", "起保日期", "2024-03-01", required=True),
    Column("period_end", "终保日期", "after the start", required=True),
]
EXAMPLES = [
    {
        "region": "321100",
        "policy_number": "PICC2023321100000456",
        "insurer": "中国人民财产保险股份有限公司镇江市分公司",
        "insured_name": "镇江某某光电科技有限公司",
        "insured_uscc": "91321100000000004X",
        "asset_types": "专利",
        "asset_numbers": "ZL202110555666.1；ZL202120777888.2",
        "asset_titles": "一种光纤传感器封装方法；一种激光测距装置",
        "insured_amount": 2000000,
        "premium": "24000.00",
        "period_start": date(2023, 7, 1),
        "period_end": date(2024, 6, 30),
    },
    {
        "region": "420500",
        "policy_number": "CPIC2024420500000078",
        "insurer": "中国太平洋财产保险股份有限公司宜昌中心支公司",
        "insured_name": "宜昌某某茶业有限公司",
        "asset_types": "商标",
        "asset_numbers": "23456789",
        "asset_titles": "某某红",
        "insured_amount": "500000.00",
        "premium": "6000.00",
        "period_start": date(2024, 3, 1),
        "period_end": date(2025, 2, 28),
    },
]

ROUTE_DESCRIPTION = (
    "A policy already here (by policy number) is `unchanged` when the row says what it holds; a recorded "
    "policy does not change, so a row that says otherwise is refused (409)."
)

INSURANCE_POLICIES = recorded_once_kind(
    "insurance policy",
    COLUMNS,
    InsurancePolicyRecord,
    key=lambda record: record.policy_number,
    key_column="policy_number",
    found=numbered(InsurancePolicy, "policy_number", INSURANCE_POLICY),
    recorded=insurance.recorded,
    cells={
        **{name: number_cell for name in ("insured_amount", "premium")},
        **{name: parse_day for name in ("period_start", "period_end")},
    },
)
