"""The financing summary of a region and window, computed in SQL on integer fen so its sums are exact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Select

from services.financing import domain
from services.financing.models import (
    InsurancePolicy,
    IpAsset,
    IpTransaction,
    MatchmakingEvent,
    Pledge,
)
from services.financing.schemas import (
    Amount,
    CountAmount,
    FinancingSummary,
    InsuranceSummary,
    MatchmakingSummary,
    PledgeSummary,
    SummaryWindow,
    TransactionSummary,
    TransactionTypeSummary,
)
from services.financing.service._common import INSURANCE_POLICY, PLEDGE, TRANSACTION, ZERO, money_sum, rules
from zhichan.api.scope import scoped
from zhichan.auth import User
from zhichan.clock import today
from zhichan.money import in_all_units


def _amount(value: Decimal | None) -> Amount:
    return Amount(**in_all_units(value if value is not None else ZERO))


@dataclass(frozen=True)
class _Window:
    """What a summary counts: the caller's records of a region, dated from ``start`` to ``end``."""

    user: User
    region: str | None
    start: date
    end: date

    def of(self, query: Select, model: Any, dated_by: Any, *, stock: bool = False) -> Select:
        """``query`` cut to ``model``'s records in the window; ``stock``: every record dated up to
        its end, whatever its start."""
        query = scoped(query, model.region, self.user, self.region)
        if stock:
            return query.where(dated_by <= self.end)
        return query.where(dated_by >= self.start, dated_by <= self.end)


def _holder_assets(holder_type: str, holder_id) -> ColumnElement[bool]:
    return and_(IpAsset.holder_type == holder_type, IpAsset.holder_id == holder_id)


async def _pledge_summary(session: AsyncSession, window: _Window) -> PledgeSummary:
    by_kind = {k: CountAmount(count=0, amount=_amount(ZERO)) for k in domain.PLEDGE_KINDS}
    total_count, total_amount = 0, ZERO
    query = window.of(select(Pledge.kind, func.count(), money_sum(Pledge.loan_amount)), Pledge, Pledge.registered_on)
    query = query.group_by(Pledge.kind)
    for kind, count, amount in await session.execute(query):
        by_kind[kind] = CountAmount(count=count, amount=_amount(amount))
        total_count, total_amount = total_count + count, total_amount + amount

    # one row per (type, pledge) first, so a pledge of two patents counts once under patent
    per_pledge = select(IpAsset.asset_type, Pledge.loan_amount).join_from(
        Pledge, IpAsset, _holder_assets(PLEDGE, Pledge.id)
    )
    per_pledge = (
        window.of(per_pledge, Pledge, Pledge.registered_on)
        .group_by(IpAsset.asset_type, Pledge.id, Pledge.loan_amount)
        .subquery()
    )
    by_type = {t: CountAmount(count=0, amount=_amount(ZERO)) for t in domain.ASSET_TYPES}
    query = select(per_pledge.c.asset_type, func.count(), money_sum(per_pledge.c.loan_amount)).group_by(
        per_pledge.c.asset_type
    )
    for asset_type, count, amount in await session.execute(query):
        by_type[asset_type] = CountAmount(count=count, amount=_amount(amount))

    patents = select(func.coalesce(func.sum(Pledge.patent_count), 0))
    patents = (await session.execute(window.of(patents, Pledge, Pledge.registered_on))).scalar_one()

    # the same rule as domain.outstanding_on, in SQL (a NULL date compares as not true)
    end = window.end
    balance = case(
        (Pledge.disposed_on <= end, 0),
        (Pledge.defaulted_on <= end, Pledge.outstanding_at_default),
        (Pledge.released_on <= end, 0),
        else_=Pledge.loan_amount,
    )
    stock = window.of(select(money_sum(balance)), Pledge, Pledge.registered_on, stock=True)
    outstanding = (await session.execute(stock)).scalar_one()
    return PledgeSummary(
        count=total_count,
        amount=_amount(total_amount),
        by_kind=by_kind,
        by_asset_type=by_type,
        patents_pledged=int(patents),
        outstanding_at_to=_amount(outstanding),
    )


async def _transaction_summary(session: AsyncSession, window: _Window) -> TransactionSummary:
    totals = {t: {"count": 0, "asset_count": 0, "patent_count": 0, "amount": ZERO} for t in domain.TRANSACTION_TYPES}
    query = select(IpTransaction.type, func.count(), money_sum(IpTransaction.amount))
    query = window.of(query, IpTransaction, IpTransaction.recorded_on).group_by(IpTransaction.type)
    for type_, count, amount in await session.execute(query):
        totals[type_].update(count=count, amount=amount)
    query = select(IpTransaction.type, func.count(), func.sum(case((IpAsset.asset_type == "patent", 1), else_=0))).join(
        IpAsset, _holder_assets(TRANSACTION, IpTransaction.id)
    )
    query = window.of(query, IpTransaction, IpTransaction.recorded_on).group_by(IpTransaction.type)
    for type_, assets, patents in await session.execute(query):
        totals[type_].update(asset_count=assets, patent_count=int(patents))
    return TransactionSummary(
        count=sum(t["count"] for t in totals.values()),
        asset_count=sum(t["asset_count"] for t in totals.values()),
        patent_count=sum(t["patent_count"] for t in totals.values()),
        amount=_amount(sum((t["amount"] for t in totals.values()), ZERO)),
        by_type={type_: TransactionTypeSummary(**{**t, "amount": _amount(t["amount"])}) for type_, t in totals.items()},
    )


async def _insurance_summary(session: AsyncSession, window: _Window) -> InsuranceSummary:
    totals = select(func.count(), money_sum(InsurancePolicy.insured_amount), money_sum(InsurancePolicy.premium))
    totals = window.of(totals, InsurancePolicy, InsurancePolicy.period_start)
    policies, insured, premium = (await session.execute(totals)).one()
    by_type = dict.fromkeys(domain.ASSET_TYPES, 0)
    query = select(IpAsset.asset_type, func.count()).join_from(
        InsurancePolicy, IpAsset, _holder_assets(INSURANCE_POLICY, InsurancePolicy.id)
    )
    query = window.of(query, InsurancePolicy, InsurancePolicy.period_start).group_by(IpAsset.asset_type)
    for asset_type, count in await session.execute(query):
        by_type[asset_type] = count
    return InsuranceSummary(
        policies=policies,
        insured_ip_count=sum(by_type.values()),
        insured_ip_by_type=by_type,
        insured_amount=_amount(insured),
        premium=_amount(premium),
    )


async def _matchmaking_summary(session: AsyncSession, window: _Window) -> MatchmakingSummary:
    totals = select(
        func.count(),
        func.coalesce(func.sum(MatchmakingEvent.enterprises_attending), 0),
        money_sum(MatchmakingEvent.intended_amount),
        money_sum(MatchmakingEvent.signed_amount),
    )
    totals = window.of(totals, MatchmakingEvent, MatchmakingEvent.held_on)
    events, enterprises, intended, signed = (await session.execute(totals)).one()
    return MatchmakingSummary(
        events=events,
        enterprises_attending=int(enterprises),
        intended_amount=_amount(intended),
        signed_amount=_amount(signed),
    )


async def region_summary(session: AsyncSession, user: User, query: SummaryWindow) -> FinancingSummary:
    with rules():
        start, end = domain.default_window(today(), query.from_, query.to)
    window = _Window(user, query.region, start, end)
    return FinancingSummary(
        region=query.region,
        from_=start,
        to=end,
        pledges=await _pledge_summary(session, window),
        transactions=await _transaction_summary(session, window),
        insurance=await _insurance_summary(session, window),
        matchmaking=await _matchmaking_summary(session, window),
    )
