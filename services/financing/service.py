"""Financing use cases: load, apply the rule, write the rows and their outbox event in one
transaction; and the summary, computed in SQL on integer fen so its sums are exact."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import and_, case, func, select, type_coerce
from sqlalchemy.exc import IntegrityError
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
    InsuranceSummary,
    MatchmakingEventCreate,
    MatchmakingSummary,
    PledgeCreate,
    PledgeSummary,
    Release,
    RiskCompensationCreate,
    SubsidyCreate,
    TransactionCreate,
    TransactionSummary,
    TransactionTypeSummary,
)
from zhichan.api.pagination import PageParams, encode_cursor
from zhichan.api.problems import Conflict, Invalid, NotFound
from zhichan.auth import User, require_write_access
from zhichan.clock import today, utcnow
from zhichan.db import insert_new
from zhichan.events import record_event
from zhichan.ids import new_id
from zhichan.money import in_all_units
from zhichan.money_column import YuanInFen

Row = TypeVar("Row", bound=SQLModel)
ZERO = Decimal("0.00")

PLEDGE, TRANSACTION, INSURANCE_POLICY, MATCHMAKING_EVENT = (
    "pledge",
    "transaction",
    "insurance_policy",
    "matchmaking_event",
)
VERB_OF_ACTION = {"release": "released", "default": "defaulted", "dispose": "disposed"}


def _invalid(exc: domain.RuleViolation) -> Invalid:
    return Invalid.field([exc.field], str(exc))


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


async def _commit(session: AsyncSession, conflict: str) -> None:
    try:
        await session.commit()
    except IntegrityError:
        # The unique numbers' constraints decide, not a lookup beforehand: one statement less on
        # every record (bench/), and no race between look and write. Numbers are unique
        # nationwide, so this answers across regions, without saying where.
        await session.rollback()
        raise Conflict(conflict) from None


async def _visible(
    session: AsyncSession, model: type[Row], record_id: str, user: User, what: str, *, for_update: bool = False
) -> Row:
    # for_update locks the row on PostgreSQL so two changes of one pledge cannot interleave
    # (SQLite's BEGIN IMMEDIATE already serialises writers)
    row = await session.get(model, record_id, with_for_update=for_update)
    if row is None or not user.sees(row.region):  # another region's record does not exist for you
        raise NotFound(f"no {what} {record_id}")
    return row


# --- assets -----------------------------------------------------------------------------------


def _check_assets(assets: Sequence[AssetIn]) -> None:
    seen: set[tuple[str, str]] = set()
    for i, asset in enumerate(assets):
        if (asset.type, asset.number) in seen:
            raise Invalid.field(["assets", i, "number"], f"{asset.type} {asset.number} is listed twice")
        seen.add((asset.type, asset.number))


def _asset_rows(holder_type: str, holder_id: str, assets: Sequence[AssetIn]) -> list[IpAsset]:
    return [
        IpAsset(
            holder_type=holder_type,
            holder_id=holder_id,
            position=i,
            asset_type=a.type,
            number=a.number,
            title=a.title,
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
    return contracts.PledgeState(
        id=pledge.id,
        region=pledge.region,
        registration_number=pledge.registration_number,
        pledgor=_party(pledge.pledgor_name, pledge.pledgor_uscc),
        pledgee=pledge.pledgee,
        assets=_asset_states(assets),
        asset_types=domain.distinct_asset_types([a.asset_type for a in assets]),
        kind=pledge.kind,
        patent_count=pledge.patent_count,
        loan_amount=pledge.loan_amount,
        registered_on=pledge.registered_on,
        loan_term_start=pledge.loan_term_start,
        loan_term_end=pledge.loan_term_end,
        guarantee_mode=pledge.guarantee_mode,
        valuation=pledge.valuation,
        appraisal_agency_uscc=pledge.appraisal_agency_uscc,
        status=pledge.status,
        released_on=pledge.released_on,
        defaulted_on=pledge.defaulted_on,
        outstanding_at_default=pledge.outstanding_at_default,
        disposed_on=pledge.disposed_on,
        disposal_proceeds=pledge.disposal_proceeds,
        subsidies=[
            contracts.Subsidy(
                id=s.id,
                amount=s.amount,
                period_start=s.period_start,
                period_end=s.period_end,
                approving_body=s.approving_body,
                recorded_at=s.recorded_at,
            )
            for s in subsidies
        ],
        risk_compensations=[
            contracts.RiskCompensation(
                id=c.id,
                claimed_on=c.claimed_on,
                claim_amount=c.claim_amount,
                paid_amount=c.paid_amount,
                fund=c.fund,
                recorded_at=c.recorded_at,
            )
            for c in compensations
        ],
        status_history=pledge.status_history,
        version=pledge.version,
        created_at=pledge.created_at,
        updated_at=pledge.updated_at,
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


async def _publish_pledge(session: AsyncSession, pledge: Pledge, verb: str, user: User) -> contracts.PledgeState:
    (state,) = await pledge_states(session, [pledge])
    _publish(session, PLEDGE, verb, state, user)
    return state


async def register_pledge(session: AsyncSession, data: PledgeCreate, user: User) -> contracts.PledgeState:
    require_write_access(user, data.region)
    _check_assets(data.assets)
    try:
        domain.check_not_future("registered_on", data.registered_on, today())
        domain.check_period("loan_term_end", data.loan_term_start, data.loan_term_end, strictly_after=True)
    except domain.RuleViolation as exc:
        raise _invalid(exc) from None
    now = utcnow()
    types = [a.type for a in data.assets]
    pledge = Pledge(
        id=new_id(),
        region=data.region,
        registration_number=data.registration_number,
        pledgor_name=data.pledgor_name,
        pledgor_uscc=data.pledgor_uscc,
        pledgee=data.pledgee,
        loan_amount=data.loan_amount,
        registered_on=data.registered_on,
        loan_term_start=data.loan_term_start,
        loan_term_end=data.loan_term_end,
        guarantee_mode=data.guarantee_mode,
        valuation=data.valuation,
        appraisal_agency_uscc=data.appraisal_agency_uscc,
        kind=domain.pledge_kind(types),
        patent_count=types.count("patent"),
        status="registered",
        status_history=[
            {"status": "registered", "on": data.registered_on.isoformat(), "at": now.isoformat(), "actor": user.sub}
        ],
        version=1,
        created_at=now,
        updated_at=now,
    )
    assets = _asset_rows(PLEDGE, pledge.id, data.assets)
    insert_new(session, pledge, *assets)
    # A new pledge's state needs no reading back: its assets are these, it has nothing else yet.
    state = _pledge_state(pledge, assets, [], [])
    _publish(session, PLEDGE, "registered", state, user)
    await _commit(session, f"registration number {data.registration_number} is already recorded")
    return state


async def get_pledge(session: AsyncSession, pledge_id: str, user: User) -> contracts.PledgeState:
    (state,) = await pledge_states(session, [await _visible(session, Pledge, pledge_id, user, "pledge")])
    return state


async def _writable_pledge(session: AsyncSession, pledge_id: str, user: User) -> Pledge:
    pledge = await _visible(session, Pledge, pledge_id, user, "pledge", for_update=True)
    require_write_access(user, pledge.region)
    return pledge


def _touch(pledge: Pledge) -> None:
    pledge.version += 1
    pledge.updated_at = utcnow()


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
    try:
        domain.check_effective_date("date", effective, since, since_what, today())
        if isinstance(body, Default):
            domain.check_default(body.outstanding, pledge.loan_amount)
    except domain.RuleViolation as exc:
        raise _invalid(exc) from None
    if isinstance(body, Default):
        pledge.defaulted_on, pledge.outstanding_at_default = effective, body.outstanding
    elif isinstance(body, Dispose):
        pledge.disposed_on, pledge.disposal_proceeds = effective, body.proceeds
    else:
        pledge.released_on = effective
    pledge.status = new_status
    entry = {
        "status": new_status,
        "on": effective.isoformat(),
        "at": utcnow().isoformat(),
        "actor": user.sub,
        "reason": body.reason,
    }
    pledge.status_history = [*pledge.status_history, entry]
    _touch(pledge)
    state = await _publish_pledge(session, pledge, VERB_OF_ACTION[action], user)
    await session.commit()
    return state


async def grant_subsidy(
    session: AsyncSession, pledge_id: str, data: SubsidyCreate, user: User
) -> contracts.PledgeState:
    pledge = await _writable_pledge(session, pledge_id, user)
    try:
        domain.check_period("period_end", data.period_start, data.period_end, strictly_after=False)
    except domain.RuleViolation as exc:
        raise _invalid(exc) from None
    session.add(
        PledgeSubsidy(
            id=new_id(),
            pledge_id=pledge.id,
            amount=data.amount,
            period_start=data.period_start,
            period_end=data.period_end,
            approving_body=data.approving_body,
            recorded_at=utcnow(),
        )
    )
    _touch(pledge)
    state = await _publish_pledge(session, pledge, "subsidy_granted", user)
    await session.commit()
    return state


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
    try:
        domain.check_effective_date("claimed_on", claimed_on, pledge.defaulted_on, "default", today())
        domain.check_risk_compensation(
            data.claim_amount, data.paid_amount, pledge.outstanding_at_default - already_claimed
        )
    except domain.RuleViolation as exc:
        raise _invalid(exc) from None
    session.add(
        PledgeRiskCompensation(
            id=new_id(),
            pledge_id=pledge.id,
            claimed_on=claimed_on,
            claim_amount=data.claim_amount,
            paid_amount=data.paid_amount,
            fund=data.fund,
            recorded_at=utcnow(),
        )
    )
    _touch(pledge)
    state = await _publish_pledge(session, pledge, "risk_compensation_claimed", user)
    await session.commit()
    return state


# --- lists ------------------------------------------------------------------------------------


def _scoped(query: Select, model, user: User, region: str | None) -> Select:
    scope = user.scope(region)
    return query if scope is None else query.where(model.region.in_(sorted(scope)))


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


async def _page(
    session: AsyncSession, query: Select, model: type[Row], page: PageParams
) -> tuple[list[Row], str | None]:
    query = query.order_by(model.id).limit(page.limit + 1)
    if page.after:
        query = query.where(model.id > str(page.after.get("id", "")))
    rows = list((await session.execute(query)).scalars())
    next_cursor = encode_cursor({"id": rows[page.limit - 1].id}) if len(rows) > page.limit else None
    return rows[: page.limit], next_cursor


async def list_pledges(
    session: AsyncSession,
    user: User,
    page: PageParams,
    *,
    region: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    asset_type: str | None = None,
    pledgee: str | None = None,
    pledgor_uscc: str | None = None,
    registered_from: date | None = None,
    registered_to: date | None = None,
    min_amount: Decimal | None = None,
    max_amount: Decimal | None = None,
) -> tuple[list[contracts.PledgeState], str | None]:
    query = _scoped(select(Pledge), Pledge, user, region)
    for column, value in ((Pledge.status, status), (Pledge.kind, kind), (Pledge.pledgor_uscc, pledgor_uscc)):
        if value is not None:
            query = query.where(column == value)
    if pledgee:
        query = query.where(Pledge.pledgee.contains(pledgee, autoescape=True))
    query = _with_asset_type(query, Pledge, PLEDGE, asset_type)
    query = _between(query, Pledge.registered_on, registered_from, registered_to)
    query = _between(query, Pledge.loan_amount, min_amount, max_amount)
    rows, next_cursor = await _page(session, query, Pledge, page)
    return await pledge_states(session, rows), next_cursor


# --- transactions, insurance policies, matchmaking events -------------------------------------


def _transaction_state(row: IpTransaction, assets: Sequence[IpAsset]) -> contracts.TransactionState:
    return contracts.TransactionState(
        id=row.id,
        region=row.region,
        type=row.type,
        record_number=row.record_number,
        grantor=_party(row.grantor_name, row.grantor_uscc),
        grantee=_party(row.grantee_name, row.grantee_uscc),
        assets=_asset_states(assets),
        patent_count=sum(a.asset_type == "patent" for a in assets),
        amount=row.amount,
        contract_date=row.contract_date,
        recorded_on=row.recorded_on,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _policy_state(row: InsurancePolicy, assets: Sequence[IpAsset]) -> contracts.InsurancePolicyState:
    return contracts.InsurancePolicyState(
        id=row.id,
        region=row.region,
        policy_number=row.policy_number,
        insurer=row.insurer,
        insured=_party(row.insured_name, row.insured_uscc),
        assets=_asset_states(assets),
        insured_amount=row.insured_amount,
        premium=row.premium,
        period_start=row.period_start,
        period_end=row.period_end,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _matchmaking_state(row: MatchmakingEvent) -> contracts.MatchmakingEventState:
    return contracts.MatchmakingEventState(
        id=row.id,
        region=row.region,
        title=row.title,
        held_on=row.held_on,
        organiser=row.organiser,
        banks=list(row.banks),
        enterprises_attending=row.enterprises_attending,
        intended_amount=row.intended_amount,
        signed_amount=row.signed_amount,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _record(
    session: AsyncSession,
    user: User,
    aggregate: str,
    rows: Sequence[SQLModel],
    state: Any,
    conflict: str,
) -> Any:
    """Writes a new transaction, policy or matchmaking event (with its assets) and its event."""
    session.add_all(rows)
    _publish(session, aggregate, "recorded", state, user)
    await _commit(session, conflict)
    return state


def _stamps() -> dict[str, Any]:
    now = utcnow()
    return {"id": new_id(), "version": 1, "created_at": now, "updated_at": now}


async def record_transaction(session: AsyncSession, data: TransactionCreate, user: User) -> contracts.TransactionState:
    require_write_access(user, data.region)
    _check_assets(data.assets)
    try:
        domain.check_not_future("recorded_on", data.recorded_on, today())
        if data.contract_date > data.recorded_on:
            raise domain.RuleViolation("contract_date", "the contract date lies after the recording date")
    except domain.RuleViolation as exc:
        raise _invalid(exc) from None
    row = IpTransaction(
        **_stamps(),
        region=data.region,
        type=data.type,
        record_number=data.record_number,
        grantor_name=data.grantor.name,
        grantor_uscc=data.grantor.uscc,
        grantee_name=data.grantee.name,
        grantee_uscc=data.grantee.uscc,
        amount=data.amount,
        contract_date=data.contract_date,
        recorded_on=data.recorded_on,
    )
    assets = _asset_rows(TRANSACTION, row.id, data.assets)
    conflict = f"record number {data.record_number} is already recorded"
    return await _record(session, user, TRANSACTION, [row, *assets], _transaction_state(row, assets), conflict)


async def record_insurance_policy(
    session: AsyncSession, data: InsurancePolicyCreate, user: User
) -> contracts.InsurancePolicyState:
    require_write_access(user, data.region)
    _check_assets(data.assets)
    try:
        domain.check_period("period_end", data.period_start, data.period_end, strictly_after=True)
    except domain.RuleViolation as exc:
        raise _invalid(exc) from None
    row = InsurancePolicy(
        **_stamps(),
        region=data.region,
        policy_number=data.policy_number,
        insurer=data.insurer,
        insured_name=data.insured.name,
        insured_uscc=data.insured.uscc,
        insured_amount=data.insured_amount,
        premium=data.premium,
        period_start=data.period_start,
        period_end=data.period_end,
    )
    assets = _asset_rows(INSURANCE_POLICY, row.id, data.assets)
    conflict = f"policy number {data.policy_number} is already recorded"
    return await _record(session, user, INSURANCE_POLICY, [row, *assets], _policy_state(row, assets), conflict)


async def record_matchmaking_event(
    session: AsyncSession, data: MatchmakingEventCreate, user: User
) -> contracts.MatchmakingEventState:
    require_write_access(user, data.region)
    try:
        domain.check_not_future("held_on", data.held_on, today())
    except domain.RuleViolation as exc:
        raise _invalid(exc) from None
    row = MatchmakingEvent(
        **_stamps(),
        region=data.region,
        title=data.title,
        held_on=data.held_on,
        organiser=data.organiser,
        banks=list(dict.fromkeys(data.banks)),
        enterprises_attending=data.enterprises_attending,
        intended_amount=data.intended_amount,
        signed_amount=data.signed_amount,
    )
    state = _matchmaking_state(row)
    return await _record(session, user, MATCHMAKING_EVENT, [row], state, f"matchmaking event {row.id} already recorded")


async def get_transaction(session: AsyncSession, record_id: str, user: User) -> contracts.TransactionState:
    row = await _visible(session, IpTransaction, record_id, user, "transaction")
    return _transaction_state(row, (await _assets_of(session, TRANSACTION, [row.id]))[row.id])


async def get_insurance_policy(session: AsyncSession, record_id: str, user: User) -> contracts.InsurancePolicyState:
    row = await _visible(session, InsurancePolicy, record_id, user, "insurance policy")
    return _policy_state(row, (await _assets_of(session, INSURANCE_POLICY, [row.id]))[row.id])


async def get_matchmaking_event(session: AsyncSession, record_id: str, user: User) -> contracts.MatchmakingEventState:
    return _matchmaking_state(await _visible(session, MatchmakingEvent, record_id, user, "matchmaking event"))


async def list_transactions(
    session: AsyncSession,
    user: User,
    page: PageParams,
    *,
    region: str | None = None,
    type: str | None = None,
    asset_type: str | None = None,
    recorded_from: date | None = None,
    recorded_to: date | None = None,
) -> tuple[list[contracts.TransactionState], str | None]:
    query = _scoped(select(IpTransaction), IpTransaction, user, region)
    if type is not None:
        query = query.where(IpTransaction.type == type)
    query = _with_asset_type(query, IpTransaction, TRANSACTION, asset_type)
    query = _between(query, IpTransaction.recorded_on, recorded_from, recorded_to)
    rows, next_cursor = await _page(session, query, IpTransaction, page)
    assets = await _assets_of(session, TRANSACTION, [r.id for r in rows])
    return [_transaction_state(r, assets[r.id]) for r in rows], next_cursor


async def list_insurance_policies(
    session: AsyncSession,
    user: User,
    page: PageParams,
    *,
    region: str | None = None,
    insurer: str | None = None,
    asset_type: str | None = None,
    starts_from: date | None = None,
    starts_to: date | None = None,
) -> tuple[list[contracts.InsurancePolicyState], str | None]:
    query = _scoped(select(InsurancePolicy), InsurancePolicy, user, region)
    if insurer:
        query = query.where(InsurancePolicy.insurer.contains(insurer, autoescape=True))
    query = _with_asset_type(query, InsurancePolicy, INSURANCE_POLICY, asset_type)
    query = _between(query, InsurancePolicy.period_start, starts_from, starts_to)
    rows, next_cursor = await _page(session, query, InsurancePolicy, page)
    assets = await _assets_of(session, INSURANCE_POLICY, [r.id for r in rows])
    return [_policy_state(r, assets[r.id]) for r in rows], next_cursor


async def list_matchmaking_events(
    session: AsyncSession,
    user: User,
    page: PageParams,
    *,
    region: str | None = None,
    held_from: date | None = None,
    held_to: date | None = None,
) -> tuple[list[contracts.MatchmakingEventState], str | None]:
    query = _scoped(select(MatchmakingEvent), MatchmakingEvent, user, region)
    query = _between(query, MatchmakingEvent.held_on, held_from, held_to)
    rows, next_cursor = await _page(session, query, MatchmakingEvent, page)
    return [_matchmaking_state(r) for r in rows], next_cursor


# --- summary ----------------------------------------------------------------------------------


def _amount(value: Decimal | None) -> Amount:
    return Amount(**in_all_units(value if value is not None else ZERO))


def _money_sum(expression) -> ColumnElement[Decimal]:
    """SUM over fen, read back as exact Decimal 元 (0 when there is nothing to sum)."""
    return type_coerce(func.coalesce(func.sum(expression), 0), YuanInFen())


def _where(model, user: User, region: str | None, column, start: date | None, end: date) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [column <= end] if start is None else [column >= start, column <= end]
    scope = user.scope(region)
    if scope is not None:
        clauses.append(model.region.in_(sorted(scope)))
    return clauses


def _holder_assets(holder_type: str, holder_id) -> ColumnElement[bool]:
    return and_(IpAsset.holder_type == holder_type, IpAsset.holder_id == holder_id)


async def _pledge_summary(
    session: AsyncSession, user: User, region: str | None, start: date, end: date
) -> PledgeSummary:
    window = _where(Pledge, user, region, Pledge.registered_on, start, end)
    by_kind = {k: CountAmount(count=0, amount=_amount(ZERO)) for k in domain.PLEDGE_KINDS}
    total_count, total_amount = 0, ZERO
    query = select(Pledge.kind, func.count(), _money_sum(Pledge.loan_amount)).where(*window).group_by(Pledge.kind)
    for kind, count, amount in await session.execute(query):
        by_kind[kind] = CountAmount(count=count, amount=_amount(amount))
        total_count, total_amount = total_count + count, total_amount + amount

    # one row per (type, pledge) first, so a pledge of two patents counts once under patent
    per_pledge = (
        select(IpAsset.asset_type, Pledge.loan_amount)
        .join_from(Pledge, IpAsset, _holder_assets(PLEDGE, Pledge.id))
        .where(*window)
        .group_by(IpAsset.asset_type, Pledge.id, Pledge.loan_amount)
        .subquery()
    )
    by_type = {t: CountAmount(count=0, amount=_amount(ZERO)) for t in domain.ASSET_TYPES}
    query = select(per_pledge.c.asset_type, func.count(), _money_sum(per_pledge.c.loan_amount)).group_by(
        per_pledge.c.asset_type
    )
    for asset_type, count, amount in await session.execute(query):
        by_type[asset_type] = CountAmount(count=count, amount=_amount(amount))

    patents = (
        await session.execute(select(func.coalesce(func.sum(Pledge.patent_count), 0)).where(*window))
    ).scalar_one()

    # the same rule as domain.outstanding_on, in SQL (a NULL date compares as not true)
    balance = case(
        (Pledge.disposed_on <= end, 0),
        (Pledge.defaulted_on <= end, Pledge.outstanding_at_default),
        (Pledge.released_on <= end, 0),
        else_=Pledge.loan_amount,
    )
    stock = _where(Pledge, user, region, Pledge.registered_on, None, end)
    outstanding = (await session.execute(select(_money_sum(balance)).where(*stock))).scalar_one()
    return PledgeSummary(
        count=total_count,
        amount=_amount(total_amount),
        by_kind=by_kind,
        by_asset_type=by_type,
        patents_pledged=int(patents),
        outstanding_at_to=_amount(outstanding),
    )


async def _transaction_summary(
    session: AsyncSession, user: User, region: str | None, start: date, end: date
) -> TransactionSummary:
    window = _where(IpTransaction, user, region, IpTransaction.recorded_on, start, end)
    totals = {t: {"count": 0, "asset_count": 0, "patent_count": 0, "amount": ZERO} for t in domain.TRANSACTION_TYPES}
    query = (
        select(IpTransaction.type, func.count(), _money_sum(IpTransaction.amount))
        .where(*window)
        .group_by(IpTransaction.type)
    )
    for type_, count, amount in await session.execute(query):
        totals[type_].update(count=count, amount=amount)
    query = (
        select(IpTransaction.type, func.count(), func.sum(case((IpAsset.asset_type == "patent", 1), else_=0)))
        .join(IpAsset, _holder_assets(TRANSACTION, IpTransaction.id))
        .where(*window)
        .group_by(IpTransaction.type)
    )
    for type_, assets, patents in await session.execute(query):
        totals[type_].update(asset_count=assets, patent_count=int(patents))
    return TransactionSummary(
        count=sum(t["count"] for t in totals.values()),
        asset_count=sum(t["asset_count"] for t in totals.values()),
        patent_count=sum(t["patent_count"] for t in totals.values()),
        amount=_amount(sum((t["amount"] for t in totals.values()), ZERO)),
        by_type={type_: TransactionTypeSummary(**{**t, "amount": _amount(t["amount"])}) for type_, t in totals.items()},
    )


async def _insurance_summary(
    session: AsyncSession, user: User, region: str | None, start: date, end: date
) -> InsuranceSummary:
    window = _where(InsurancePolicy, user, region, InsurancePolicy.period_start, start, end)
    policies, insured, premium = (
        await session.execute(
            select(func.count(), _money_sum(InsurancePolicy.insured_amount), _money_sum(InsurancePolicy.premium)).where(
                *window
            )
        )
    ).one()
    by_type = dict.fromkeys(domain.ASSET_TYPES, 0)
    query = (
        select(IpAsset.asset_type, func.count())
        .join_from(InsurancePolicy, IpAsset, _holder_assets(INSURANCE_POLICY, InsurancePolicy.id))
        .where(*window)
        .group_by(IpAsset.asset_type)
    )
    for asset_type, count in await session.execute(query):
        by_type[asset_type] = count
    return InsuranceSummary(
        policies=policies,
        insured_ip_count=sum(by_type.values()),
        insured_ip_by_type=by_type,
        insured_amount=_amount(insured),
        premium=_amount(premium),
    )


async def _matchmaking_summary(
    session: AsyncSession, user: User, region: str | None, start: date, end: date
) -> MatchmakingSummary:
    window = _where(MatchmakingEvent, user, region, MatchmakingEvent.held_on, start, end)
    events, enterprises, intended, signed = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(MatchmakingEvent.enterprises_attending), 0),
                _money_sum(MatchmakingEvent.intended_amount),
                _money_sum(MatchmakingEvent.signed_amount),
            ).where(*window)
        )
    ).one()
    return MatchmakingSummary(
        events=events,
        enterprises_attending=int(enterprises),
        intended_amount=_amount(intended),
        signed_amount=_amount(signed),
    )


async def summary(
    session: AsyncSession, user: User, region: str | None, start: date | None, end: date | None
) -> FinancingSummary:
    try:
        start, end = domain.default_window(today(), start, end)
    except domain.RuleViolation as exc:
        raise _invalid(exc) from None
    return FinancingSummary(
        region=region,
        from_=start,
        to=end,
        pledges=await _pledge_summary(session, user, region, start, end),
        transactions=await _transaction_summary(session, user, region, start, end),
        insurance=await _insurance_summary(session, user, region, start, end),
        matchmaking=await _matchmaking_summary(session, user, region, start, end),
    )
