"""Request and response models of the financing API."""

from __future__ import annotations

import datetime as dt
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema

from services.financing import contracts
from services.financing.domain import (
    ASSET_TYPES,
    GUARANTEE_MODES,
    MAX_AMOUNT,
    PLEDGE_KINDS,
    PLEDGE_STATUSES,
    TRANSACTION_TYPES,
)
from zhichan.api.pagination import Page
from zhichan.api.scope import RegionQuery
from zhichan.fields import USCC, Day, RegionCode
from zhichan.money import Yuan, amount_pattern

AssetType = ASSET_TYPES.literal
PledgeKind = PLEDGE_KINDS.literal
GuaranteeMode = GUARANTEE_MODES.literal
PledgeStatus = PLEDGE_STATUSES.literal
TransactionType = TRANSACTION_TYPES.literal

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Number = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# Amounts in 元 as decimal strings with at most two decimals ("1234.56"); floats are refused.
# The bounds as the OpenAPI document says them (in a field that may be null too): 11 digits keep
# below MAX_AMOUNT (10^11).
PositiveYuan = Annotated[
    Yuan,
    Field(gt=0, le=MAX_AMOUNT),
    WithJsonSchema({"type": "string", "pattern": amount_pattern(positive=True, digits=11), "examples": ["5000000.00"]}),
]
NonNegativeYuan = Annotated[
    Yuan,
    Field(ge=0, le=MAX_AMOUNT),
    WithJsonSchema({"type": "string", "pattern": amount_pattern(digits=11), "examples": ["0.00"]}),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssetIn(Strict):
    type: AssetType
    number: Number = Field(examples=["ZL202310123456.7"])
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


Assets = Annotated[list[AssetIn], Field(min_length=1, max_length=1000)]


# The flat fields of a record's parties, as an import's columns hold them.
PARTY_FIELDS = {side: [f"{side}_name", f"{side}_uscc"] for side in ("grantor", "grantee", "insured")}


class PartyIn(Strict):
    name: Name
    uscc: USCC | None = Field(None, description="统一社会信用代码, when the party is an organisation")


class PledgeCreate(Strict):
    region: RegionCode = Field(examples=["321100"])
    registration_number: Number = Field(description="质押登记号", examples=["Y2025320000123"])
    pledgor_name: Name = Field(examples=["镇江某某科技有限公司"])
    pledgor_uscc: USCC = Field(examples=["91321191MA1MBD3K78"])
    pledgee: Name = Field(description="Bank or guarantor", examples=["中国银行镇江分行"])
    assets: Assets = Field(
        description="The pledged IP. The pledge kind follows from it: assets of more than one family → mixed; "
        "several assets of one family → portfolio; one asset → patent | trademark | copyright "
        "(a GI counts as a trademark, a layout design as a patent)."
    )
    loan_amount: PositiveYuan
    registered_on: date = Field(description="Registration date (登记日期); not in the future")
    loan_term_start: date
    loan_term_end: date = Field(description="After loan_term_start")
    guarantee_mode: GuaranteeMode
    valuation: PositiveYuan | None = Field(None, description="Appraised value of the assets")
    appraisal_agency_uscc: USCC | None = Field(None, description="USCC of the appraising agency (评估机构)")


class PledgeRecord(PledgeCreate):
    """A pledge as another system holds it: its registration and, as business dates, each change of
    status since (注销, 违约, 处置). Importing it registers the pledge and takes each change on its
    date, as the routes would have; a change already recorded is left as it is."""

    released_on: date | None = Field(None, description="注销日期: the loan repaid, the pledge released")
    defaulted_on: date | None = Field(None, description="违约日期")
    outstanding_at_default: PositiveYuan | None = Field(None, description="Principal outstanding at the default")
    disposed_on: date | None = Field(None, description="处置日期, after the default")
    disposal_proceeds: NonNegativeYuan | None = Field(None, description="What the disposal raised")


class TransitionBase(Strict):
    date: dt.date | None = Field(None, description="Business date the change takes effect; default today")
    reason: str | None = Field(None, max_length=1000)


class Release(TransitionBase):
    """注销: the loan was repaid and the pledge released."""


class Default(TransitionBase):
    outstanding: PositiveYuan = Field(description="Principal outstanding at default, at most the loan amount")


class Dispose(TransitionBase):
    proceeds: NonNegativeYuan = Field(description="What the disposal of the pledged IP raised")


class SubsidyCreate(Strict):
    amount: PositiveYuan
    period_start: date
    period_end: date = Field(description="On or after period_start")
    approving_body: Name = Field(examples=["镇江市市场监督管理局"])


class RiskCompensationCreate(Strict):
    claimed_on: date | None = Field(None, description="Default today; not before the default")
    claim_amount: PositiveYuan = Field(description="At most the principal outstanding at default")
    paid_amount: NonNegativeYuan = Field(Decimal("0.00"), description="At most the claim")
    fund: Name | None = Field(None, description="The compensation fund or body paying")


class PledgePublic(contracts.PledgeState):
    outstanding_balance: Yuan = Field(description="The balance this pledge secures today")


class PledgeList(Page[PledgePublic]):
    pass


class PledgeFilter(BaseModel):
    """The query of ``GET /pledges``."""

    region: RegionQuery = None
    status: PledgeStatus | None = None
    kind: PledgeKind | None = None
    asset_type: AssetType | None = Field(None, description="Pledges with at least one asset of this type")
    pledgee: str | None = Field(None, max_length=200, description="Part of the pledgee's name")
    pledgor_uscc: USCC | None = None
    registered_from: Day | None = None
    registered_to: Day | None = None
    min_amount: Yuan | None = Field(None, description="Smallest loan amount, 元")
    max_amount: Yuan | None = Field(None, description="Largest loan amount, 元")


class TransactionCreate(Strict):
    region: RegionCode
    type: TransactionType
    record_number: Number | None = Field(None, description="备案/登记号, unique when given")
    grantor: PartyIn = Field(description="Transferor, licensor or contributor")
    grantee: PartyIn = Field(description="Transferee, licensee or the company invested in")
    assets: Assets
    amount: NonNegativeYuan = Field(description="Price, licence fee or value contributed")
    contract_date: date = Field(description="On or before recorded_on")
    recorded_on: date = Field(description="备案/登记 date; not in the future")


class TransactionRecord(Strict):
    """A transaction as a row of an import holds it: flat parties, and its record number (备案号)
    required, as it is the natural key an import finds the transaction by."""

    region: RegionCode
    type: TransactionType
    record_number: Number
    grantor_name: Name
    grantor_uscc: USCC | None = None
    grantee_name: Name
    grantee_uscc: USCC | None = None
    assets: Assets
    amount: NonNegativeYuan
    contract_date: date
    recorded_on: date

    def as_create(self) -> TransactionCreate:
        parties = {side: PartyIn(name=getattr(self, f"{side}_name"), uscc=getattr(self, f"{side}_uscc"))
                   for side in ("grantor", "grantee")}  # fmt: skip
        return TransactionCreate(
            **self.model_dump(exclude=set(PARTY_FIELDS["grantor"] + PARTY_FIELDS["grantee"])), **parties
        )


class TransactionPublic(contracts.TransactionState):
    pass


class TransactionList(Page[TransactionPublic]):
    pass


class TransactionFilter(BaseModel):
    """The query of ``GET /transactions``."""

    region: RegionQuery = None
    type: TransactionType | None = None
    asset_type: AssetType | None = None
    recorded_from: Day | None = None
    recorded_to: Day | None = None


class InsurancePolicyCreate(Strict):
    region: RegionCode
    policy_number: Number
    insurer: Name = Field(examples=["中国人民财产保险股份有限公司镇江市分公司"])
    insured: PartyIn
    assets: Assets = Field(description="The insured IP")
    insured_amount: PositiveYuan
    premium: NonNegativeYuan
    period_start: date
    period_end: date = Field(description="After period_start")


class InsurancePolicyRecord(Strict):
    """An insurance policy as a row of an import holds it: the insured flat."""

    region: RegionCode
    policy_number: Number
    insurer: Name
    insured_name: Name
    insured_uscc: USCC | None = None
    assets: Assets
    insured_amount: PositiveYuan
    premium: NonNegativeYuan
    period_start: date
    period_end: date

    def as_create(self) -> InsurancePolicyCreate:
        insured = PartyIn(name=self.insured_name, uscc=self.insured_uscc)
        return InsurancePolicyCreate(**self.model_dump(exclude=set(PARTY_FIELDS["insured"])), insured=insured)


class InsurancePolicyPublic(contracts.InsurancePolicyState):
    pass


class InsurancePolicyList(Page[InsurancePolicyPublic]):
    pass


class InsurancePolicyFilter(BaseModel):
    """The query of ``GET /insurance-policies``."""

    region: RegionQuery = None
    insurer: str | None = Field(None, max_length=200, description="Part of the insurer's name")
    asset_type: AssetType | None = None
    starts_from: Day | None = None
    starts_to: Day | None = None


class MatchmakingEventCreate(Strict):
    region: RegionCode
    title: Name = Field(examples=["知识产权质押融资银企对接会"])
    held_on: date = Field(description="Not in the future")
    organiser: Name
    banks: list[Name] = Field(default_factory=list, max_length=200)
    enterprises_attending: int = Field(ge=0, le=100_000)
    intended_amount: NonNegativeYuan = Field(description="意向金额")
    signed_amount: NonNegativeYuan = Field(description="签约金额")


class MatchmakingEventRecord(MatchmakingEventCreate):
    """A matchmaking event as a row of an import holds it: as it is recorded."""

    def as_create(self) -> MatchmakingEventCreate:
        return MatchmakingEventCreate(**self.model_dump())


class MatchmakingEventPublic(contracts.MatchmakingEventState):
    pass


class MatchmakingEventList(Page[MatchmakingEventPublic]):
    pass


class MatchmakingEventFilter(BaseModel):
    """The query of ``GET /matchmaking-events``."""

    region: RegionQuery = None
    held_from: Day | None = None
    held_to: Day | None = None


class SummaryWindow(BaseModel):
    """The query of ``GET /financing/summary``."""

    region: RegionQuery = None
    from_: Day | None = Field(None, alias="from", description="Default: 1 January of `to`'s year")
    to: Day | None = Field(None, description="Default: today (Asia/Shanghai)")


class Amount(BaseModel):
    """One amount in 元, 万元 and 亿元 (decimal strings, exact)."""

    yuan: str
    wan_yuan: str
    yi_yuan: str


class CountAmount(BaseModel):
    count: int
    amount: Amount


class PledgeSummary(BaseModel):
    count: int = Field(description="Pledges registered in the window (笔)")
    amount: Amount = Field(description="Their loan amounts")
    by_kind: dict[PledgeKind, CountAmount]
    by_asset_type: dict[AssetType, CountAmount] = Field(
        description="Pledges with at least one asset of the type; a mixed pledge counts under each of its types"
    )
    patents_pledged: int = Field(description="Patents among the pledged assets (件)")
    outstanding_at_to: Amount = Field(
        description="Balance secured on `to` by every pledge registered on or before it, whatever `from`"
    )


class TransactionTypeSummary(BaseModel):
    count: int = Field(description="Transactions recorded in the window")
    asset_count: int = Field(description="IP rights they cover (件)")
    patent_count: int
    amount: Amount


class TransactionSummary(BaseModel):
    count: int
    asset_count: int
    patent_count: int
    amount: Amount
    by_type: dict[TransactionType, TransactionTypeSummary]


class InsuranceSummary(BaseModel):
    policies: int = Field(description="Policies starting in the window")
    insured_ip_count: int
    insured_ip_by_type: dict[AssetType, int]
    insured_amount: Amount
    premium: Amount


class MatchmakingSummary(BaseModel):
    events: int = Field(description="Events held in the window (场)")
    enterprises_attending: int
    intended_amount: Amount
    signed_amount: Amount


class FinancingSummary(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    region: str | None
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    pledges: PledgeSummary
    transactions: TransactionSummary
    insurance: InsuranceSummary
    matchmaking: MatchmakingSummary
