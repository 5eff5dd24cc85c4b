"""Events the financing service publishes on ``zhichan.financing``. The only module of this service
that another package may import (the gateway reads it).

Every event carries its aggregate's full state after the change. Money is a decimal string in 元
("1234.56"), never a float. The business dates that place a record in time:

- pledge: ``registered_on`` (pledge amount, count and pledged patents are flows by it);
  ``released_on`` / ``defaulted_on`` / ``disposed_on`` for the balance it secures;
- transaction: ``recorded_on`` (备案/登记);
- insurance policy: ``period_start`` (起保日期);
- matchmaking event: ``held_on``.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from zhichan.money import Yuan

SERVICE = "financing"
TOPIC = "zhichan.financing"


class Asset(BaseModel):
    """One IP right: type patent | trademark | copyright | gi | layout_design."""

    type: str
    number: str
    title: str


class Party(BaseModel):
    name: str
    uscc: str | None = None


class StatusChange(BaseModel):
    status: str
    on: date
    at: datetime
    actor: str | None = None
    reason: str | None = None


class Subsidy(BaseModel):
    """Interest subsidy (贴息) granted on a pledge loan."""

    id: str
    amount: Yuan
    period_start: date
    period_end: date
    approving_body: str
    recorded_at: datetime


class RiskCompensation(BaseModel):
    """Risk-compensation claim (风险补偿) on a defaulted pledge loan."""

    id: str
    claimed_on: date
    claim_amount: Yuan
    paid_amount: Yuan
    fund: str | None = None
    recorded_at: datetime


class PledgeState(BaseModel):
    """A pledge registration (质押登记), its assets, status and attachments."""

    id: str
    region: str
    registration_number: str
    pledgor: Party
    pledgee: str
    assets: list[Asset]
    asset_types: list[str] = Field(description="Distinct types among the assets")
    kind: str = Field(description="patent | trademark | copyright | mixed | portfolio, derived from the assets")
    patent_count: int = Field(description="Patents among the assets (件)")
    loan_amount: Yuan
    registered_on: date
    loan_term_start: date
    loan_term_end: date
    guarantee_mode: str
    valuation: Yuan | None = None
    appraisal_agency_uscc: str | None = None
    status: str
    released_on: date | None = None
    defaulted_on: date | None = None
    outstanding_at_default: Yuan | None = None
    disposed_on: date | None = None
    disposal_proceeds: Yuan | None = None
    subsidies: list[Subsidy]
    risk_compensations: list[RiskCompensation]
    status_history: list[StatusChange]
    version: int
    created_at: datetime
    updated_at: datetime


class TransactionState(BaseModel):
    """A transfer, licence, open licence or capital contribution of IP (转让/许可/开放许可/作价入股)."""

    id: str
    region: str
    type: str
    record_number: str | None = None
    grantor: Party
    grantee: Party
    assets: list[Asset]
    patent_count: int
    amount: Yuan
    contract_date: date
    recorded_on: date
    version: int
    created_at: datetime
    updated_at: datetime


class InsurancePolicyState(BaseModel):
    """An IP insurance policy (知识产权保险)."""

    id: str
    region: str
    policy_number: str
    insurer: str
    insured: Party
    assets: list[Asset] = Field(description="The insured IP; its length is the insured IP count")
    insured_amount: Yuan
    premium: Yuan
    period_start: date
    period_end: date
    version: int
    created_at: datetime
    updated_at: datetime


class MatchmakingEventState(BaseModel):
    """A bank–enterprise pledge matchmaking event (质押对接活动)."""

    id: str
    region: str
    title: str
    held_on: date
    organiser: str
    banks: list[str]
    enterprises_attending: int
    intended_amount: Yuan
    signed_amount: Yuan
    version: int
    created_at: datetime
    updated_at: datetime


PLEDGE_REGISTERED = "zhichan.financing.pledge.registered.v1"
PLEDGE_RELEASED = "zhichan.financing.pledge.released.v1"
PLEDGE_DEFAULTED = "zhichan.financing.pledge.defaulted.v1"
PLEDGE_DISPOSED = "zhichan.financing.pledge.disposed.v1"
PLEDGE_SUBSIDY_GRANTED = "zhichan.financing.pledge.subsidy_granted.v1"
PLEDGE_RISK_COMPENSATION_CLAIMED = "zhichan.financing.pledge.risk_compensation_claimed.v1"
TRANSACTION_RECORDED = "zhichan.financing.transaction.recorded.v1"
INSURANCE_POLICY_RECORDED = "zhichan.financing.insurance_policy.recorded.v1"
MATCHMAKING_EVENT_RECORDED = "zhichan.financing.matchmaking_event.recorded.v1"

EVENTS: dict[str, tuple[type[BaseModel], str]] = {
    PLEDGE_REGISTERED: (PledgeState, "A pledge registered (质押登记)"),
    PLEDGE_RELEASED: (PledgeState, "A pledge released (注销): the loan was repaid"),
    PLEDGE_DEFAULTED: (PledgeState, "A pledge loan defaulted"),
    PLEDGE_DISPOSED: (PledgeState, "The pledged IP of a defaulted loan disposed of"),
    PLEDGE_SUBSIDY_GRANTED: (PledgeState, "An interest subsidy (贴息) granted on a pledge loan"),
    PLEDGE_RISK_COMPENSATION_CLAIMED: (PledgeState, "A risk-compensation claim (风险补偿) on a pledge loan"),
    TRANSACTION_RECORDED: (TransactionState, "A transfer, licence or capital contribution of IP recorded"),
    INSURANCE_POLICY_RECORDED: (InsurancePolicyState, "An IP insurance policy recorded"),
    MATCHMAKING_EVENT_RECORDED: (MatchmakingEventState, "A pledge matchmaking event recorded"),
}
