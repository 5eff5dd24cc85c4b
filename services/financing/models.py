"""Tables of the financing service. Money columns are ``YuanInFen``: Decimal 元 in Python,
integer fen in the database, so sums are exact on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Column, ForeignKey, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from zhichan.db import Aggregate, UTCDateTime, region_indexes
from zhichan.fields import empty_list
from zhichan.money_column import YuanInFen


def _money(nullable: bool = False):
    if nullable:
        return Field(default=None, sa_column=Column(YuanInFen(), nullable=True))
    return Field(sa_column=Column(YuanInFen(), nullable=False))


class Pledge(Aggregate, table=True):
    __tablename__ = "pledge"
    __table_args__ = (
        *region_indexes("pledge", "registered_on"),
        UniqueConstraint("registration_number", name="uq_pledge_registration_number"),
    )

    registration_number: str = Field(max_length=100)
    pledgor_name: str = Field(max_length=200)
    pledgor_uscc: str = Field(max_length=18, index=True)
    pledgee: str = Field(max_length=200)
    loan_amount: Decimal = _money()
    registered_on: date
    loan_term_start: date
    loan_term_end: date
    guarantee_mode: str = Field(max_length=20)
    valuation: Decimal | None = _money(nullable=True)
    appraisal_agency_uscc: str | None = Field(default=None, max_length=18)
    kind: str = Field(max_length=20, index=True)
    patent_count: int
    status: str = Field(max_length=20, index=True)
    released_on: date | None = None
    defaulted_on: date | None = None
    outstanding_at_default: Decimal | None = _money(nullable=True)
    disposed_on: date | None = None
    disposal_proceeds: Decimal | None = _money(nullable=True)
    status_history: list[dict] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))


class IpAsset(SQLModel, table=True):
    """The IP rights a pledge, a transaction or an insurance policy is about, one row each.

    Joins from a holder use the primary key (holder_type, holder_id); the index leads with
    asset_type so the planner never prefers it for those joins (scanning every holder's assets)."""

    __tablename__ = "ip_asset"
    __table_args__ = (Index("ix_ip_asset_asset_type_holder", "asset_type", "holder_type", "holder_id"),)

    holder_type: str = Field(primary_key=True, max_length=30)  # pledge | transaction | insurance_policy
    holder_id: str = Field(primary_key=True, max_length=26)
    position: int = Field(primary_key=True)
    asset_type: str = Field(max_length=20)
    number: str = Field(max_length=100)
    title: str = Field(max_length=300)


class PledgeSubsidy(SQLModel, table=True):
    __tablename__ = "pledge_subsidy"

    id: str = Field(primary_key=True, max_length=26)
    pledge_id: str = Field(sa_column=Column(String(26), ForeignKey("pledge.id"), nullable=False, index=True))
    amount: Decimal = _money()
    period_start: date
    period_end: date
    approving_body: str = Field(max_length=200)
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class PledgeRiskCompensation(SQLModel, table=True):
    __tablename__ = "pledge_risk_compensation"

    id: str = Field(primary_key=True, max_length=26)
    pledge_id: str = Field(sa_column=Column(String(26), ForeignKey("pledge.id"), nullable=False, index=True))
    claimed_on: date
    claim_amount: Decimal = _money()
    paid_amount: Decimal = _money()
    fund: str | None = Field(default=None, max_length=200)
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class IpTransaction(Aggregate, table=True):
    __tablename__ = "ip_transaction"
    __table_args__ = (
        *region_indexes("ip_transaction", "recorded_on"),
        UniqueConstraint("record_number", name="uq_ip_transaction_record_number"),
    )

    type: str = Field(max_length=30, index=True)
    record_number: str | None = Field(default=None, max_length=100)
    grantor_name: str = Field(max_length=200)
    grantor_uscc: str | None = Field(default=None, max_length=18)
    grantee_name: str = Field(max_length=200)
    grantee_uscc: str | None = Field(default=None, max_length=18)
    amount: Decimal = _money()
    contract_date: date
    recorded_on: date


class InsurancePolicy(Aggregate, table=True):
    __tablename__ = "insurance_policy"
    __table_args__ = (
        *region_indexes("insurance_policy", "period_start"),
        UniqueConstraint("policy_number", name="uq_insurance_policy_policy_number"),
    )

    policy_number: str = Field(max_length=100)
    insurer: str = Field(max_length=200)
    insured_name: str = Field(max_length=200)
    insured_uscc: str | None = Field(default=None, max_length=18)
    insured_amount: Decimal = _money()
    premium: Decimal = _money()
    period_start: date
    period_end: date


class MatchmakingEvent(Aggregate, table=True):
    __tablename__ = "matchmaking_event"
    __table_args__ = region_indexes("matchmaking_event", "held_on")

    title: str = Field(max_length=200)
    held_on: date
    organiser: str = Field(max_length=200)
    banks: list[str] = Field(default_factory=empty_list, sa_column=Column(JSON, nullable=False))
    enterprises_attending: int
    intended_amount: Decimal = _money()
    signed_amount: Decimal = _money()
