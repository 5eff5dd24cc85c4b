"""Financing use cases: load, apply the rule, write the rows and their outbox event in one
transaction; and the summary, computed in SQL on integer fen so its sums are exact."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Select
from sqlmodel import SQLModel

from services.financing import contracts, domain
from services.financing.models import (
    InsurancePolicy,
    IpAsset,
    IpTransaction,
    MatchmakingEvent,
    Pledge,
    PledgeRiskCompensation,
    PledgeSubsidy,
)
from services.financing.schemas import (
    Amount,
    AssetIn,
    CountAmount,
    Default,
    Dispose,
    FinancingSummary,
    InsurancePolicyCreate,
    InsurancePolicyFilter,
    InsuranceSummary,
    MatchmakingEventCreate,
    MatchmakingEventFilter,
    MatchmakingSummary,
    PledgeCreate,
    PledgeFilter,
    PledgeSummary,
    Release,
    RiskCompensationCreate,
    SubsidyCreate,
    SummaryWindow,
    TransactionCreate,
    TransactionFilter,
    TransactionSummary,
    TransactionTypeSummary,
)
from zhichan.api.pagination import PageParams, keyset_page
from zhichan.api.problems import Conflict, Invalid
from zhichan.api.scope import get_visible, scoped
from zhichan.auth import User, require_write_access
from zhichan.clock import today, utcnow
from zhichan.db import commit_or_conflict, state_of
from zhichan.events import record_event
from zhichan.ids import new_id
from zhichan.money import in_all_units
from zhichan.money_column import YuanInFen

ZERO = Decimal("0.00")

PLEDGE, TRANSACTION, INSURANCE_POLICY, MATCHMAKING_EVENT = (
    "pledge",
    "transaction",
    "insurance_policy",
    "matchmaking_event",
)
VERB_OF_ACTION = {"release": "released", "default": "defaulted", "dispose": "disposed"}


@contextmanager
def _rules() -> Iterator[None]:
    """A rule of the domain the request breaks answers 422, naming the field at fault."""
    try:
        yield
    except domain.RuleViolation as exc:
        raise Invalid.field([exc.field], str(exc)) from None


def _publish(session: AsyncSession, aggregate: str, verb: str, state: Any, user: User) -> None:
    record_event(
        session,
        service=contracts.SERVICE,
        aggregate=aggregate,
        verb=verb,
        aggregate_id=state.id,
        region=state.region,
        version=state.version,
        data=state,
        actor=user.sub,
    )


# --- assets -----------------------------------------------------------------------------------


def _asset_rows(holder_type: str, holder_id: str, assets: Sequence[AssetIn]) -> list[IpAsset]:
    """The rows of a record's assets, in the order given; an asset listed twice is refused."""
    seen: set[tuple[str, str]] = set()
    for i, asset in enumerate(assets):
        if (asset.type, asset.number) in seen:
            raise Invalid.field(["assets", i, "number"], f"{asset.type} {asset.number} is listed twice")
        seen.add((asset.type, asset.number))
    return [
        IpAsset(
            holder_type=holder_type, holder_id=holder_id, position=i, asset_type=a.type, number=a.number, title=a.title
        )
        for i, a in enumerate(assets)
    ]


async def _assets_of(session: AsyncSession, holder_type: str, ids: Sequence[str]) -> dict[str, list[IpAsset]]:
    found: dict[str, list[IpAsset]] = defaultdict(list)
    if ids:
        query = (
            select(IpAsset)
            .where(IpAsset.holder_type == holder_type, IpAsset.holder_id.in_(list(ids)))
            .order_by(IpAsset.holder_id, IpAsset.position)
        )
        for asset in (await session.execute(query)).scalars():
            found[asset.holder_id].append(asset)
    return found


def _asset_states(rows: Sequence[IpAsset]) -> list[contracts.Asset]:
    return [contracts.Asset(type=a.asset_type, number=a.number, title=a.title) for a in rows]


def _party(name: str, uscc: str | None) -> contracts.Party:
    return contracts.Party(name=name, uscc=uscc)


# --- pledges ----------------------------------------------------------------------------------


def _pledge_state(
    pledge: Pledge,
    assets: Sequence[IpAsset],
    subsidies: Sequence[PledgeSubsidy],
    compensations: Sequence[PledgeRiskCompensation],
) -> contracts.PledgeState:
    return state_of(
        contracts.PledgeState,
        pledge,
        pledgor=_party(pledge.pledgor_name, pledge.pledgor_uscc),
        assets=_asset_states(assets),
        asset_types=domain.distinct_asset_types([a.asset_type for a in assets]),
        subsidies=[state_of(contracts.Subsidy, s) for s in subsidies],
        risk_compensations=[state_of(contracts.RiskCompensation, c) for c in compensations],
    )


async def _children(session: AsyncSession, model, pledge_ids: list[str]) -> dict[str, list]:
    found: dict[str, list] = defaultdict(list)
    if pledge_ids:
        query = select(model).where(model.pledge_id.in_(pledge_ids)).order_by(model.id)
        for row in (await session.execute(query)).scalars():
            found[row.pledge_id].append(row)
    return found


async def pledge_states(session: AsyncSession, pledges: Sequence[Pledge]) -> list[contracts.PledgeState]:
    ids = [p.id for p in pledges]
    assets = await _assets_of(session, PLEDGE, ids)
    subsidies = await _children(session, PledgeSubsidy, ids)
    compensations = await _children(session, PledgeRiskCompensation, ids)
    return [_pledge_state(p, assets[p.id], subsidies[p.id], compensations[p.id]) for p in pledges]


async def register_pledge(session: AsyncSession, data: PledgeCreate, user: User) -> contracts.PledgeState:
    require_write_access(user, data.region)
    with _rules():
        domain.check_not_future("registered_on", data.registered_on, today())
        domain.check_period("loan_term_end", data.loan_term_start, data.loan_term_end, strictly_after=True)
    types = [a.type for a in data.assets]
    pledge = Pledge.new(
        **data.model_dump(exclude={"assets"}),
        kind=domain.pledge_kind(types),
        patent_count=types.count("patent"),
        status="registered",
        status_history=[_status_change("registered", data.registered_on, user)],
    )
    assets = _asset_rows(PLEDGE, pledge.id, data.assets)
    # A new pledge's state needs no reading back: its assets are these, it has nothing else yet.
    state = _pledge_state(pledge, assets, [], [])
    conflict = f"registration number {data.registration_number} is already recorded"
    return await _record(session, user, PLEDGE, [pledge, *assets], state, conflict, verb="registered")


def _status_change(status: str, on: date, user: User, **reason: str | None) -> dict[str, Any]:
    return {"status": status, "on": on.isoformat(), "at": utcnow().isoformat(), "actor": user.sub, **reason}


async def get_pledge(session: AsyncSession, pledge_id: str, user: User) -> contracts.PledgeState:
    (state,) = await pledge_states(session, [await get_visible(session, Pledge, pledge_id, user, "pledge")])
    return state


async def _writable_pledge(session: AsyncSession, pledge_id: str, user: User) -> Pledge:
    pledge = await get_visible(session, Pledge, pledge_id, user, "pledge", for_update=True)
    require_write_access(user, pledge.region)
    return pledge


async def _save_pledge(session: AsyncSession, pledge: Pledge, verb: str, user: User) -> contracts.PledgeState:
    """A changed pledge: its next version, its event, the commit."""
    pledge.touch()
    (state,) = await pledge_states(session, [pledge])
    _publish(session, PLEDGE, verb, state, user)
    await session.commit()
    return state


async def transition(
    session: AsyncSession, pledge_id: str, action: str, body: Release | Default | Dispose, user: User
) -> contracts.PledgeState:
    pledge = await _writable_pledge(session, pledge_id, user)
    try:
        new_status = domain.next_status(action, pledge.status)
    except domain.TransitionNotAllowed as exc:
        raise Conflict(str(exc), current_status=pledge.status, action=action) from None
    effective = body.date or today()
    since, since_what = (
        (pledge.defaulted_on, "default") if pledge.status == "defaulted" else (pledge.registered_on, "registration")
    )
    with _rules():
        domain.check_effective_date("date", effective, since, since_what, today())
        if isinstance(body, Default):
            domain.check_default(body.outstanding, pledge.loan_amount)
    if isinstance(body, Default):
        pledge.defaulted_on, pledge.outstanding_at_default = effective, body.outstanding
    elif isinstance(body, Dispose):
        pledge.disposed_on, pledge.disposal_proceeds = effective, body.proceeds
    else:
        pledge.released_on = effective
    pledge.status = new_status
    pledge.status_history = [*pledge.status_history, _status_change(new_status, effective, user, reason=body.reason)]
    return await _save_pledge(session, pledge, VERB_OF_ACTION[action], user)


async def grant_subsidy(
    session: AsyncSession, pledge_id: str, data: SubsidyCreate, user: User
) -> contracts.PledgeState:
    pledge = await _writable_pledge(session, pledge_id, user)
    with _rules():
        domain.check_period("period_end", data.period_start, data.period_end, strictly_after=False)
    session.add(PledgeSubsidy(id=new_id(), pledge_id=pledge.id, recorded_at=utcnow(), **data.model_dump()))
    return await _save_pledge(session, pledge, "subsidy_granted", user)


async def claim_risk_compensation(
    session: AsyncSession, pledge_id: str, data: RiskCompensationCreate, user: User
) -> contracts.PledgeState:
    pledge = await _writable_pledge(session, pledge_id, user)
    if pledge.defaulted_on is None or pledge.outstanding_at_default is None:
        raise Conflict(
            f"risk compensation covers defaulted loans; this pledge is {pledge.status}",
            current_status=pledge.status,
        )
    claimed_on = data.claimed_on or today()
    claimed = select(_money_sum(PledgeRiskCompensation.claim_amount)).where(
        PledgeRiskCompensation.pledge_id == pledge.id
    )
    already_claimed = (await session.execute(claimed)).scalar_one()
    with _rules():
        domain.check_effective_date("claimed_on", claimed_on, pledge.defaulted_on, "default", today())
        domain.check_risk_compensation(
            data.claim_amount, data.paid_amount, pledge.outstanding_at_default - already_claimed
        )
    compensation = data.model_dump(exclude={"claimed_on"})
    session.add(
        PledgeRiskCompensation(
            id=new_id(), pledge_id=pledge.id, claimed_on=claimed_on, recorded_at=utcnow(), **compensation
        )
    )
    return await _save_pledge(session, pledge, "risk_compensation_claimed", user)


# --- lists ------------------------------------------------------------------------------------


def _between(query: Select, column, start: date | None, end: date | None) -> Select:
    if start is not None:
        query = query.where(column >= start)
    if end is not None:
        query = query.where(column <= end)
    return query


def _with_asset_type(query: Select, model, holder_type: str, asset_type: str | None) -> Select:
    if asset_type is None:
        return query
    holders = select(IpAsset.holder_id).where(IpAsset.holder_type == holder_type, IpAsset.asset_type == asset_type)
    return query.where(model.id.in_(holders))


async def list_pledges(
    session: AsyncSession, user: User, page: PageParams, filters: PledgeFilter
) -> tuple[list[contracts.PledgeState], str | None]:
    query = scoped(select(Pledge), Pledge.region, user, filters.region)
    for column, value in (
        (Pledge.status, filters.status),
        (Pledge.kind, filters.kind),
        (Pledge.pledgor_uscc, filters.pledgor_uscc),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.pledgee:
        query = query.where(Pledge.pledgee.contains(filters.pledgee, autoescape=True))
    query = _with_asset_type(query, Pledge, PLEDGE, filters.asset_type)
    query = _between(query, Pledge.registered_on, filters.registered_from, filters.registered_to)
    query = _between(query, Pledge.loan_amount, filters.min_amount, filters.max_amount)
    rows, next_cursor = await keyset_page(session, query, page, Pledge.id)
    return await pledge_states(session, rows), next_cursor


# --- transactions, insurance policies, matchmaking events -------------------------------------


def _transaction_state(row: IpTransaction, assets: Sequence[IpAsset]) -> contracts.TransactionState:
    return state_of(
        contracts.TransactionState,
        row,
        grantor=_party(row.grantor_name, row.grantor_uscc),
        grantee=_party(row.grantee_name, row.grantee_uscc),
        assets=_asset_states(assets),
        patent_count=sum(a.asset_type == "patent" for a in assets),
    )


def _policy_state(row: InsurancePolicy, assets: Sequence[IpAsset]) -> contracts.InsurancePolicyState:
    return state_of(
        contracts.InsurancePolicyState,
        row,
        insured=_party(row.insured_name, row.insured_uscc),
        assets=_asset_states(assets),
    )


def _matchmaking_state(row: MatchmakingEvent) -> contracts.MatchmakingEventState:
    return state_of(contracts.MatchmakingEventState, row)


async def _with_assets(session: AsyncSession, holder_type: str, rows: Sequence[Any], state) -> list:
    """The states of ``rows`` (transactions or policies), each made by ``state`` with its assets."""
    assets = await _assets_of(session, holder_type, [r.id for r in rows])
    return [state(r, assets[r.id]) for r in rows]


async def _record(
    session: AsyncSession,
    user: User,
    aggregate: str,
    rows: Sequence[SQLModel],
    state: Any,
    conflict: str,
    verb: str = "recorded",
) -> Any:
    """Writes a new record (a pledge, transaction, policy or matchmaking event, with its assets)
    and its event. Registration, record and policy numbers are unique nationwide: a number taken
    answers 409 across regions, without saying where."""
    session.add_all(rows)
    _publish(session, aggregate, verb, state, user)
    await commit_or_conflict(session, conflict)
    return state


async def record_transaction(session: AsyncSession, data: TransactionCreate, user: User) -> contracts.TransactionState:
    require_write_access(user, data.region)
    with _rules():
        domain.check_not_future("recorded_on", data.recorded_on, today())
        if data.contract_date > data.recorded_on:
            raise domain.RuleViolation("contract_date", "the contract date lies after the recording date")
    row = IpTransaction.new(
        **data.model_dump(exclude={"grantor", "grantee", "assets"}),
        grantor_name=data.grantor.name,
        grantor_uscc=data.grantor.uscc,
        grantee_name=data.grantee.name,
        grantee_uscc=data.grantee.uscc,
    )
    assets = _asset_rows(TRANSACTION, row.id, data.assets)
    conflict = f"record number {data.record_number} is already recorded"
    return await _record(session, user, TRANSACTION, [row, *assets], _transaction_state(row, assets), conflict)


async def record_insurance_policy(
    session: AsyncSession, data: InsurancePolicyCreate, user: User
) -> contracts.InsurancePolicyState:
    require_write_access(user, data.region)
    with _rules():
        domain.check_period("period_end", data.period_start, data.period_end, strictly_after=True)
    row = InsurancePolicy.new(
        **data.model_dump(exclude={"insured", "assets"}),
        insured_name=data.insured.name,
        insured_uscc=data.insured.uscc,
    )
    assets = _asset_rows(INSURANCE_POLICY, row.id, data.assets)
    conflict = f"policy number {data.policy_number} is already recorded"
    return await _record(session, user, INSURANCE_POLICY, [row, *assets], _policy_state(row, assets), conflict)


async def record_matchmaking_event(
    session: AsyncSession, data: MatchmakingEventCreate, user: User
) -> contracts.MatchmakingEventState:
    require_write_access(user, data.region)
    with _rules():
        domain.check_not_future("held_on", data.held_on, today())
    row = MatchmakingEvent.new(**data.model_dump(exclude={"banks"}), banks=list(dict.fromkeys(data.banks)))
    state = _matchmaking_state(row)
    return await _record(session, user, MATCHMAKING_EVENT, [row], state, f"matchmaking event {row.id} already recorded")


async def get_transaction(session: AsyncSession, record_id: str, user: User) -> contracts.TransactionState:
    row = await get_visible(session, IpTransaction, record_id, user, "transaction")
    (state,) = await _with_assets(session, TRANSACTION, [row], _transaction_state)
    return state


async def get_insurance_policy(session: AsyncSession, record_id: str, user: User) -> contracts.InsurancePolicyState:
    row = await get_visible(session, InsurancePolicy, record_id, user, "insurance policy")
    (state,) = await _with_assets(session, INSURANCE_POLICY, [row], _policy_state)
    return state


async def get_matchmaking_event(session: AsyncSession, record_id: str, user: User) -> contracts.MatchmakingEventState:
    return _matchmaking_state(await get_visible(session, MatchmakingEvent, record_id, user, "matchmaking event"))


async def list_transactions(
    session: AsyncSession, user: User, page: PageParams, filters: TransactionFilter
) -> tuple[list[contracts.TransactionState], str | None]:
    query = scoped(select(IpTransaction), IpTransaction.region, user, filters.region)
    if filters.type is not None:
        query = query.where(IpTransaction.type == filters.type)
    query = _with_asset_type(query, IpTransaction, TRANSACTION, filters.asset_type)
    query = _between(query, IpTransaction.recorded_on, filters.recorded_from, filters.recorded_to)
    rows, next_cursor = await keyset_page(session, query, page, IpTransaction.id)
    return await _with_assets(session, TRANSACTION, rows, _transaction_state), next_cursor


async def list_insurance_policies(
    session: AsyncSession, user: User, page: PageParams, filters: InsurancePolicyFilter
) -> tuple[list[contracts.InsurancePolicyState], str | None]:
    query = scoped(select(InsurancePolicy), InsurancePolicy.region, user, filters.region)
    if filters.insurer:
        query = query.where(InsurancePolicy.insurer.contains(filters.insurer, autoescape=True))
    query = _with_asset_type(query, InsurancePolicy, INSURANCE_POLICY, filters.asset_type)
    query = _between(query, InsurancePolicy.period_start, filters.starts_from, filters.starts_to)
    rows, next_cursor = await keyset_page(session, query, page, InsurancePolicy.id)
    return await _with_assets(session, INSURANCE_POLICY, rows, _policy_state), next_cursor


async def list_matchmaking_events(
    session: AsyncSession, user: User, page: PageParams, filters: MatchmakingEventFilter
) -> tuple[list[contracts.MatchmakingEventState], str | None]:
    query = scoped(select(MatchmakingEvent), MatchmakingEvent.region, user, filters.region)
    query = _between(query, MatchmakingEvent.held_on, filters.held_from, filters.held_to)
    rows, next_cursor = await keyset_page(session, query, page, MatchmakingEvent.id)
    return [_matchmaking_state(r) for r in rows], next_cursor


# --- summary ----------------------------------------------------------------------------------


def _amount(value: Decimal | None) -> Amount:
    return Amount(**in_all_units(value if value is not None else ZERO))


def _money_sum(expression) -> ColumnElement[Decimal]:
    """SUM over fen, read back as exact Decimal 元 (0 when there is nothing to sum)."""
    return type_coerce(func.coalesce(func.sum(expression), 0), YuanInFen())


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
    query = window.of(select(Pledge.kind, func.count(), _money_sum(Pledge.loan_amount)), Pledge, Pledge.registered_on)
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
    query = select(per_pledge.c.asset_type, func.count(), _money_sum(per_pledge.c.loan_amount)).group_by(
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
    stock = window.of(select(_money_sum(balance)), Pledge, Pledge.registered_on, stock=True)
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
    query = select(IpTransaction.type, func.count(), _money_sum(IpTransaction.amount))
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
    totals = select(func.count(), _money_sum(InsurancePolicy.insured_amount), _money_sum(InsurancePolicy.premium))
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
        _money_sum(MatchmakingEvent.intended_amount),
        _money_sum(MatchmakingEvent.signed_amount),
    )
    totals = window.of(totals, MatchmakingEvent, MatchmakingEvent.held_on)
    events, enterprises, intended, signed = (await session.execute(totals)).one()
    return MatchmakingSummary(
        events=events,
        enterprises_attending=int(enterprises),
        intended_amount=_amount(intended),
        signed_amount=_amount(signed),
    )


async def summary(session: AsyncSession, user: User, query: SummaryWindow) -> FinancingSummary:
    with _rules():
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
