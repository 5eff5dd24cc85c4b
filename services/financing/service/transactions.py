"""Transfers, licences, open licences and capital contributions of IP (转让/许可/开放许可/作价入股)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.financing import contracts, domain
from services.financing.models import (
    IpAsset,
    IpTransaction,
)
from services.financing.schemas import (
    TransactionCreate,
    TransactionFilter,
)
from services.financing.service._common import (
    TRANSACTION,
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
from zhichan.clock import today
from zhichan.db import commit_or_conflict, state_of


def _transaction_state(row: IpTransaction, assets: Sequence[IpAsset]) -> contracts.TransactionState:
    return state_of(
        contracts.TransactionState,
        row,
        grantor=party(row.grantor_name, row.grantor_uscc),
        grantee=party(row.grantee_name, row.grantee_uscc),
        assets=asset_states(assets),
        patent_count=sum(a.asset_type == "patent" for a in assets),
    )


async def record_transaction(session: AsyncSession, data: TransactionCreate, user: User) -> contracts.TransactionState:
    state = recorded(session, data, user)
    await commit_or_conflict(session, f"record number {data.record_number} is already recorded")
    return state


def recorded(session: AsyncSession, data: TransactionCreate, user: User) -> contracts.TransactionState:
    """A transaction recorded in the session with its event, not committed (an import commits its chunk at once)."""
    require_write_access(user, data.region)
    with rules():
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
    assets = asset_rows(TRANSACTION, row.id, data.assets)
    state = _transaction_state(row, assets)
    stage(session, user, TRANSACTION, [row, *assets], state)
    return state


async def get_transaction(session: AsyncSession, record_id: str, user: User) -> contracts.TransactionState:
    row = await get_visible(session, IpTransaction, record_id, user, "transaction")
    (state,) = await with_assets(session, TRANSACTION, [row], _transaction_state)
    return state


async def list_transactions(
    session: AsyncSession, user: User, page: PageParams, filters: TransactionFilter
) -> tuple[list[contracts.TransactionState], str | None]:
    query = scoped(select(IpTransaction), IpTransaction.region, user, filters.region)
    if filters.type is not None:
        query = query.where(IpTransaction.type == filters.type)
    query = with_asset_type(query, IpTransaction, TRANSACTION, filters.asset_type)
    query = between(query, IpTransaction.recorded_on, filters.recorded_from, filters.recorded_to)
    rows, next_cursor = await keyset_page(session, query, page, IpTransaction.id)
    return await with_assets(session, TRANSACTION, rows, _transaction_state), next_cursor
