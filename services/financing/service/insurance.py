"""IP insurance policies (知识产权保险)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.financing import contracts, domain
from services.financing.models import (
    InsurancePolicy,
    IpAsset,
)
from services.financing.schemas import (
    InsurancePolicyCreate,
    InsurancePolicyFilter,
)
from services.financing.service._common import (
    INSURANCE_POLICY,
    asset_rows,
    asset_states,
    between,
    party,
    rules,
    stage,
    with_asset_type,
    with_assets,
)
from zhichan.api.pagination import PageParams, keyset_page
from zhichan.api.scope import get_visible, scoped
from zhichan.auth import User, require_write_access
from zhichan.db import commit_or_conflict, state_of


def _policy_state(row: InsurancePolicy, assets: Sequence[IpAsset]) -> contracts.InsurancePolicyState:
    return state_of(
        contracts.InsurancePolicyState,
        row,
        insured=party(row.insured_name, row.insured_uscc),
        assets=asset_states(assets),
    )


async def record_insurance_policy(
    session: AsyncSession, data: InsurancePolicyCreate, user: User
) -> contracts.InsurancePolicyState:
    state = recorded(session, data, user)
    await commit_or_conflict(session, f"policy number {data.policy_number} is already recorded")
    return state


def recorded(session: AsyncSession, data: InsurancePolicyCreate, user: User) -> contracts.InsurancePolicyState:
    """A policy recorded in the session with its event, not committed (an import commits its chunk at once)."""
    require_write_access(user, data.region)
    with rules():
        domain.check_period("period_end", data.period_start, data.period_end, strictly_after=True)
    row = InsurancePolicy.new(
        **data.model_dump(exclude={"insured", "assets"}),
        insured_name=data.insured.name,
        insured_uscc=data.insured.uscc,
    )
    assets = asset_rows(INSURANCE_POLICY, row.id, data.assets)
    state = _policy_state(row, assets)
    stage(session, user, INSURANCE_POLICY, [row, *assets], state)
    return state


async def get_insurance_policy(session: AsyncSession, record_id: str, user: User) -> contracts.InsurancePolicyState:
    row = await get_visible(session, InsurancePolicy, record_id, user, "insurance policy")
    (state,) = await with_assets(session, INSURANCE_POLICY, [row], _policy_state)
    return state


async def list_insurance_policies(
    session: AsyncSession, user: User, page: PageParams, filters: InsurancePolicyFilter
) -> tuple[list[contracts.InsurancePolicyState], str | None]:
    query = scoped(select(InsurancePolicy), InsurancePolicy.region, user, filters.region)
    if filters.insurer:
        query = query.where(InsurancePolicy.insurer.contains(filters.insurer, autoescape=True))
    query = with_asset_type(query, InsurancePolicy, INSURANCE_POLICY, filters.asset_type)
    query = between(query, InsurancePolicy.period_start, filters.starts_from, filters.starts_to)
    rows, next_cursor = await keyset_page(session, query, page, InsurancePolicy.id)
    return await with_assets(session, INSURANCE_POLICY, rows, _policy_state), next_cursor
