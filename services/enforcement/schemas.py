"""Request and response models of the enforcement API."""

from __future__ import annotations

import datetime as dt
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from services.enforcement import contracts, domain
from zhichan.api.pagination import Page
from zhichan.api.scope import RegionQuery
from zhichan.fields import USCC, Day, RegionCode
from zhichan.money import NON_NEGATIVE_AMOUNT_PATTERN, Yuan

CaseType = domain.CASE_TYPES.literal
Procedure = domain.PROCEDURES.literal
Origin = domain.ORIGINS.literal
Status = domain.STATUSES.literal
Outcome = domain.DECISION_OUTCOMES.literal
TransferTarget = domain.TRANSFER_TARGETS.literal
PartyKind = domain.PARTY_KINDS.literal
PeriodUnit = domain.PERIOD_UNITS.literal


def _not_negative(amount: Decimal) -> Decimal:
    if amount < 0:
        raise ValueError("an amount of money cannot be negative")
    return amount


ID_NUMBER_PATTERN = r"^[0-9]{17}[0-9Xx]$"  # the birth date and check character: validate_id_number
IdNumber = Annotated[
    str, AfterValidator(domain.validate_id_number), WithJsonSchema({"type": "string", "pattern": ID_NUMBER_PATTERN})
]
Amount = Annotated[
    Yuan, AfterValidator(_not_negative), WithJsonSchema({"type": "string", "pattern": NON_NEGATIVE_AMOUNT_PATTERN})
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class Party(BaseModel):
    """A party: an organization (with its USCC) or a natural person."""

    model_config = ConfigDict(extra="forbid")

    kind: PartyKind | None = Field(None, description="Default: organization when a USCC is given")
    name: Name
    uscc: USCC | None = Field(None, description="统一社会信用代码 (GB 32100-2015)")
    id_number: IdNumber | None = Field(None, description="A natural person's identity card number; never published")

    @model_validator(mode="after")
    def _kind_fits(self) -> Party:
        if self.uscc and not self.kind:
            self.kind = "organization"
        if self.kind == "natural_person" and self.uscc:
            raise ValueError("a natural person has no USCC (a sole proprietorship 个体工商户 is an organization)")
        if self.kind == "organization" and self.id_number:
            raise ValueError("an organization has a USCC, not an identity card number")
        return self


class Respondent(Party):
    """A respondent is an organization named with its USCC, or else a natural person."""

    @model_validator(mode="after")
    def _organizations_have_a_uscc(self) -> Respondent:
        self.kind = self.kind or "natural_person"
        if self.kind == "organization" and not self.uscc:
            raise ValueError("a respondent organization is named with its USCC")
        return self


def _party_from_name(value: object) -> object:
    return {"name": value} if isinstance(value, str) else value


# A complainant may be given by name alone; it is never published, so its kind may stay unknown.
Complainant = Annotated[Party, BeforeValidator(_party_from_name)]


class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: RegionCode = Field(examples=["321102"])
    case_number: ShortText = Field(description="立案号, unique in the region", examples=["镇市监知立〔2026〕12号"])
    type: CaseType
    procedure: Procedure
    origin: Origin
    respondent: Respondent
    complainant: Complainant | None = None
    summary: str | None = Field(None, max_length=2000)
    filed_date: date | None = Field(None, description="立案日期; default today; not in the future")
    handling_unit: ShortText = Field(description="承办单位", examples=["市场监管局稽查大队"])
    campaign_id: str | None = Field(None, max_length=26)


class StepIn(BaseModel):
    """Who is the caller; when is ``date`` (default today, never in the future nor before the
    previous step); why is ``reason``."""

    model_config = ConfigDict(extra="forbid")

    date: dt.date | None = Field(None, description="Business date of the step; default today")
    reason: Text | None = None


class ExtendIn(StepIn):
    approver: Name = Field(description="Who approved the extension (负责人)")
    reason: Text


class SuspendIn(StepIn):
    reason: Text


class DecideIn(StepIn):
    outcome: Outcome
    fine: Amount = Field(Decimal("0.00"), description="罚款, 元, decimal string")
    confiscation: Amount = Field(Decimal("0.00"), description="没收, 元, decimal string")
    illegal_revenue: Amount = Field(Decimal("0.00"), description="违法经营额/违法所得, 元, decimal string")
    decision_number: ShortText | None = Field(None, description="决定书文号")


class TransferIn(StepIn):
    to: TransferTarget
    receiving_body: ShortText | None = Field(None, examples=["镇江市公安局京口分局"])


class PartyPublic(BaseModel):
    kind: PartyKind | None
    name: str
    uscc: str | None = None
    id_number: str | None = Field(
        None,
        description="A natural person's identity card number: whole for officers, masked (3203**********1234) "
        "for auditors and departments",
    )


# What readers see: the state, with its parties' identity card numbers, which no event carries
# (whole for officers, masked for auditors and departments). They come beside the state, as
# ``respondent_id_number`` and ``complainant_id_number``; ``complainant_name``, when given, is the
# name as the reader may see it.
class CasePublic(contracts.CaseState):
    respondent: PartyPublic
    complainant: PartyPublic | None = None

    @model_validator(mode="before")
    @classmethod
    def _with_id_numbers(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for party in ("respondent", "complainant"):
                number = data.pop(f"{party}_id_number", None)
                name = data.pop(f"{party}_name", None)
                if isinstance(data.get(party), contracts.PartyState):
                    data[party] = {**dict(data[party]), "id_number": number, **({"name": name} if name else {})}
        return data


class CaseList(Page[CasePublic]):
    pass


class CaseFilter(BaseModel):
    """The query of ``GET /cases``."""

    region: RegionQuery = None
    type: CaseType | None = None
    procedure: Procedure | None = None
    origin: Origin | None = None
    status: Status | None = None
    handling_unit: str | None = None
    overdue: bool | None = Field(None, description="Open and past its deadline today")
    filed_from: Day | None = None
    filed_to: Day | None = None
    closed_from: Day | None = None
    closed_to: Day | None = None
    campaign: str | None = Field(None, description="Campaign id")
    respondent_uscc: str | None = None

    @field_validator("respondent_uscc")
    @classmethod
    def _as_stored(cls, uscc: str | None) -> str | None:
        """USCCs are stored normalised (upper case); a filter that is not one finds nothing."""
        return uscc.strip().upper() if uscc else None


MAX_SUSPENSIONS = 20


class SuspensionIn(BaseModel):
    """A suspension (中止) of a case's record: from ``start`` to its resumption (恢复) on ``end``."""

    model_config = ConfigDict(extra="forbid")

    start: Day
    end: Day | None = Field(None, description="Resumed on; none while the case is suspended")
    reason: Text


class CaseRecord(CaseCreate):
    """A case as another system holds it (a spreadsheet's row, a push by number): its filing and,
    as business dates, every step since. Importing it files the case and takes each step on its
    date, as the step routes would have; a step already recorded is left as it is."""

    investigated_date: Day | None = Field(
        None, description="开始调查; default: the filing date, when a later step needs an investigation"
    )
    extended_date: Day | None = Field(None, description="延长办案期限 approved on")
    extension_approver: Name | None = None
    extension_reason: Text | None = None
    suspensions: list[SuspensionIn] = Field(
        default_factory=list,
        max_length=MAX_SUSPENSIONS,
        description="中止, in order; the last one open while suspended",
    )
    decided_date: Day | None = Field(None, description="作出决定")
    outcome: Outcome | None = None
    fine: Amount = Field(Decimal("0.00"), description="罚款, 元, decimal string")
    confiscation: Amount = Field(Decimal("0.00"), description="没收, 元, decimal string")
    illegal_revenue: Amount = Field(Decimal("0.00"), description="违法经营额/违法所得, 元, decimal string")
    decision_number: ShortText | None = Field(None, description="决定书文号")
    closed_date: Day | None = Field(None, description="结案")
    transferred_date: Day | None = Field(None, description="移送")
    transfer_to: TransferTarget | None = None
    receiving_body: ShortText | None = None
    withdrawn_date: Day | None = Field(None, description="撤销立案")


# ---------------------------------------------------------------- stats and overdue


class Counts(BaseModel):
    filed: int
    closed: int = Field(description="Ended in the window: closed, transferred or withdrawn")
    closed_on_time: int
    overdue_open: int = Field(description="Open and overdue at the window's end")
    on_time_closure_rate: Decimal | None = Field(
        description="按期结案率 in percent: closed on time ÷ (closed + overdue open); null when both are 0"
    )

    @classmethod
    def of(cls, tally: domain.Tally) -> Counts:
        return cls(
            filed=tally.filed,
            closed=tally.closed,
            closed_on_time=tally.closed_on_time,
            overdue_open=tally.overdue_open,
            on_time_closure_rate=tally.rate,
        )


class StatsWindow(BaseModel):
    """The query of ``GET /cases/stats``."""

    region: RegionQuery = None
    from_: Day | None = Field(None, alias="from", description="Default: 1 January of `to`'s year")
    to: Day | None = Field(None, description="Default: today")


class CaseStats(Counts):
    model_config = ConfigDict(populate_by_name=True)

    region: str | None
    from_: date = Field(alias="from")
    to: date
    by_type: dict[str, Counts]
    by_procedure: dict[str, Counts]


class OverdueCase(BaseModel):
    id: str
    case_number: str
    region: str
    type: str
    procedure: str
    status: str = Field(description="Status on the as-of date")
    filed_date: date
    due_date: date = Field(description="The deadline as it stood on the as-of date")
    days_overdue: int


class OverdueUnit(BaseModel):
    handling_unit: str
    count: int
    cases: list[OverdueCase]


class OverdueReport(BaseModel):
    region: str | None
    as_of: date
    total: int
    units: list[OverdueUnit]


# ---------------------------------------------------------------- deadline rules, watch window


class DeadlineRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    procedure: Procedure
    base_amount: int = Field(ge=1, le=3650)
    base_unit: PeriodUnit = "days"
    extension_amount: int = Field(0, ge=0, le=3650, description="0: no extension")
    extension_unit: PeriodUnit = "days"


class DeadlineRulesPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: RegionCode
    rules: list[DeadlineRuleIn] = Field(min_length=1)
    effective_from: date | None = Field(None, description="Cases filed on or after it; default today, not earlier")
    reason: Text | None = None

    @field_validator("rules")
    @classmethod
    def _one_per_procedure(cls, rules: list[DeadlineRuleIn]) -> list[DeadlineRuleIn]:
        procedures = [r.procedure for r in rules]
        if len(set(procedures)) != len(procedures):
            raise ValueError("one rule per procedure")
        return rules


class RuleInForce(contracts.DeadlineRuleState):
    description: str


class RegionSettings(BaseModel):
    """A region's settings in force on a day."""

    region: str | None
    on: date
    # The version of the region's own settings (0: it has none), which the ETag names; not shown.
    version: int = Field(exclude=True)


class DeadlineRulesPublic(RegionSettings):
    rules: list[RuleInForce]
    versions: list[contracts.DeadlineRuleVersion] = Field(description="The region's own versions, oldest first")


class WatchWindowPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: RegionCode
    years: int = Field(ge=1, le=20)
    effective_from: date | None = Field(None, description="Default today, not earlier")
    reason: Text | None = None


class WatchWindowPublic(RegionSettings):
    years: int
    source_region: str | None = Field(description="Region whose setting it is; null: the national default")
    effective_from: date | None
    versions: list[contracts.WatchWindowVersion]


# ---------------------------------------------------------------- campaigns


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(examples=["2026年知识产权执法“铁拳”行动"])
    region: RegionCode
    start: date
    end: date
    focus: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] = Field(
        examples=["商标侵权、假冒专利"]
    )
    description: str | None = Field(None, max_length=4000)

    @model_validator(mode="after")
    def _period(self) -> CampaignCreate:
        if self.end < self.start:
            raise ValueError("a campaign ends on or after its start")
        return self


class CampaignRecord(CampaignCreate):
    """A campaign as another system holds it (a row of ``POST /campaigns/import``): what creating
    it takes, no more — a campaign has no steps, and no route changes it once created."""

    @field_validator("end")
    @classmethod
    def _ends_after_start(cls, end: date, info: ValidationInfo) -> date:
        # The period checked at its end, so that a row's error names the column 结束日期 (the
        # creation's check is of the whole body, which names no column).
        start = info.data.get("start")
        if start is not None and end < start:
            raise ValueError(f"a campaign ends on or after its start ({start.isoformat()})")
        return end


class CampaignCaseCounts(BaseModel):
    total: int
    open: int
    overdue: int
    decided: int
    ended: int
    by_status: dict[str, int]
    by_type: dict[str, int]
    fines_total: Yuan
    confiscations_total: Yuan


class CampaignPublic(contracts.CampaignState):
    case_counts: CampaignCaseCounts


class CampaignList(Page[CampaignPublic]):
    pass


# ---------------------------------------------------------------- watch list, disclosure


class WatchlistCase(contracts.WatchedDecision):
    counts_until: date = Field(description="Last day this decision counts in the window")


class WatchlistItem(BaseModel):
    id: str
    region: str
    uscc: str
    respondent_name: str
    window_years: int
    listed_since: date
    listed_until: date = Field(description="Last day listed unless another decision follows")
    cases: list[WatchlistCase]


class WatchlistPage(BaseModel):
    as_of: date
    items: list[WatchlistItem]
    next_cursor: str | None = None


class DisclosedCase(BaseModel):
    id: str
    case_number: str
    region: str
    region_name: str
    type: str
    procedure: str
    respondent_kind: PartyKind
    respondent_name: str = Field(description="A natural person's name is masked (张三 → 张*)")
    respondent_uscc: str | None = Field(description="Organizations only")
    outcome: str
    decided_date: date
    decision_number: str | None
    fine: Yuan
    confiscation: Yuan
    illegal_revenue: Yuan


class DisclosureList(Page[DisclosedCase]):
    pass


class DisclosureFilter(BaseModel):
    """The query of ``GET /disclosure/cases``."""

    region: RegionQuery = None
    type: CaseType | None = None
    from_: Day | None = Field(None, alias="from", description="Decided on or after")
    to: Day | None = Field(None, description="Decided on or before")
