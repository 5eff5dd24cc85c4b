"""Pledge registrations (质押登记): register, move through release, default and disposal, subsidies
and risk compensation, read and list."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.financing import contracts, domain
from services.financing.models import (
    IpAsset,
    Pledge,
    PledgeRiskCompensation,
    PledgeSubsidy,
)
from services.financing.schemas import (
    Default,
    Dispose,
    PledgeCreate,
    PledgeFilter,
    Release,
    RiskCompensationCreate,
    SubsidyCreate,
)
from services.financing.service._common import (
    PLEDGE,
    VERB_OF_ACTION,
    asset_rows,
    asset_states,
    assets_of,
    between,
    money_sum,
    party,
    publish,
    rules,
    stage,
    with_asset_type,
)
from zhichan.api.pagination import PageParams, keyset_page
from zhichan.api.problems import Conflict
from zhichan.api.scope import get_visible, scoped
from zhichan.auth import User, require_write_access
from zhichan.clock import today, utcnow
from zhichan.db import commit_or_conflict, state_of
from zhichan.ids import new_id


def _pledge_state(
    pledge: Pledge,
    assets: Sequence[IpAsset],
    subsidies: Sequence[PledgeSubsidy],
    compensations: Sequence[PledgeRiskCompensation],
) -> contracts.PledgeState:
    return state_of(
        contracts.PledgeState,
        pledge,
        pledgor=party(pledge.pledgor_name, pledge.pledgor_uscc),
        assets=asset_states(assets),
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
    assets = await assets_of(session, PLEDGE, ids)
    subsidies = await _children(session, PledgeSubsidy, ids)
    compensations = await _children(session, PledgeRiskCompensation, ids)
    return [_pledge_state(p, assets[p.id], subsidies[p.id], compensations[p.id]) for p in pledges]


async def register_pledge(session: AsyncSession, data: PledgeCreate, user: User) -> contracts.PledgeState:
    _pledge, _assets, state = registered(session, data, user)
    await commit_or_conflict(session, f"registration number {data.registration_number} is already recorded")
    return state


def registered(
    session: AsyncSession, data: PledgeCreate, user: User
) -> tuple[Pledge, list[IpAsset], contracts.PledgeState]:
    """A pledge registered in the session with its event ``registered``, not committed (an import
    commits its chunk at once)."""
    require_write_access(user, data.region)
    with rules():
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
    assets = asset_rows(PLEDGE, pledge.id, data.assets)
    # A new pledge's state needs no reading back: its assets are these, it has nothing else yet.
    state = _pledge_state(pledge, assets, [], [])
    stage(session, user, PLEDGE, [pledge, *assets], state, verb="registered")
    return pledge, assets, state


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
    state = await changed(session, pledge, verb, user)
    await session.commit()
    return state


async def changed(
    session: AsyncSession, pledge: Pledge, verb: str, user: User, assets: Sequence[IpAsset] | None = None
) -> contracts.PledgeState:
    """A changed pledge's next version and its event, not committed. ``assets``: those of a pledge
    registered in the same session, which has nothing else yet (its state is then not read back)."""
    pledge.touch()
    if assets is None:
        (state,) = await pledge_states(session, [pledge])
    else:
        state = _pledge_state(pledge, assets, [], [])
    publish(session, PLEDGE, verb, state, user)
    return state


async def transition(
    session: AsyncSession, pledge_id: str, action: str, body: Release | Default | Dispose, user: User
) -> contracts.PledgeState:
    pledge = await _writable_pledge(session, pledge_id, user)
    take_action(pledge, action, body, user)
    return await _save_pledge(session, pledge, VERB_OF_ACTION[action], user)


def take_action(pledge: Pledge, action: str, body: Release | Default | Dispose, user: User) -> None:
    """Moves the pledge by ``action`` on the body's date, as the state machine and the rules allow
    (409, 422); the caller publishes the change (:func:`changed`)."""
    try:
        new_status = domain.next_status(action, pledge.status)
    except domain.TransitionNotAllowed as exc:
        raise Conflict(str(exc), current_status=pledge.status, action=action) from None
    effective = body.date or today()
    since, since_what = (
        (pledge.defaulted_on, "default") if pledge.status == "defaulted" else (pledge.registered_on, "registration")
    )
    with rules():
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


async def grant_subsidy(
    session: AsyncSession, pledge_id: str, data: SubsidyCreate, user: User
) -> contracts.PledgeState:
    pledge = await _writable_pledge(session, pledge_id, user)
    with rules():
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
    claimed = select(money_sum(PledgeRiskCompensation.claim_amount)).where(
        PledgeRiskCompensation.pledge_id == pledge.id
    )
    already_claimed = (await session.execute(claimed)).scalar_one()
    with rules():
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
    query = with_asset_type(query, Pledge, PLEDGE, filters.asset_type)
    query = between(query, Pledge.registered_on, filters.registered_from, filters.registered_to)
    query = between(query, Pledge.loan_amount, filters.min_amount, filters.max_amount)
    rows, next_cursor = await keyset_page(session, query, page, Pledge.id)
    return await pledge_states(session, rows), next_cursor
