"""Matchmaking events between banks and enterprises (银企对接活动)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.financing import contracts, domain
from services.financing.models import (
    MatchmakingEvent,
)
from services.financing.schemas import (
    MatchmakingEventCreate,
    MatchmakingEventFilter,
)
from services.financing.service._common import MATCHMAKING_EVENT, between, rules, stage
from zhichan.api.pagination import PageParams, keyset_page
from zhichan.api.scope import get_visible, scoped
from zhichan.auth import User, require_write_access
from zhichan.clock import today
from zhichan.db import commit_or_conflict, state_of


def _matchmaking_state(row: MatchmakingEvent) -> contracts.MatchmakingEventState:
    return state_of(contracts.MatchmakingEventState, row)


async def record_matchmaking_event(
    session: AsyncSession, data: MatchmakingEventCreate, user: User
) -> contracts.MatchmakingEventState:
    state = recorded(session, data, user)
    await commit_or_conflict(session, f"matchmaking event {state.id} already recorded")
    return state


def recorded(session: AsyncSession, data: MatchmakingEventCreate, user: User) -> contracts.MatchmakingEventState:
    """An event recorded in the session with its event, not committed (an import commits its chunk at once)."""
    require_write_access(user, data.region)
    with rules():
        domain.check_not_future("held_on", data.held_on, today())
    row = MatchmakingEvent.new(**data.model_dump(exclude={"banks"}), banks=list(dict.fromkeys(data.banks)))
    state = _matchmaking_state(row)
    stage(session, user, MATCHMAKING_EVENT, [row], state)
    return state


async def get_matchmaking_event(session: AsyncSession, record_id: str, user: User) -> contracts.MatchmakingEventState:
    return _matchmaking_state(await get_visible(session, MatchmakingEvent, record_id, user, "matchmaking event"))


async def list_matchmaking_events(
    session: AsyncSession, user: User, page: PageParams, filters: MatchmakingEventFilter
) -> tuple[list[contracts.MatchmakingEventState], str | None]:
    query = scoped(select(MatchmakingEvent), MatchmakingEvent.region, user, filters.region)
    query = between(query, MatchmakingEvent.held_on, filters.held_from, filters.held_to)
    rows, next_cursor = await keyset_page(session, query, page, MatchmakingEvent.id)
    return [_matchmaking_state(r) for r in rows], next_cursor
