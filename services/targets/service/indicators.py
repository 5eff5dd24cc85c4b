"""A plan's indicators: read, and changed one at a time by the rules of a plan file."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.targets import contracts
from services.targets.models import Indicator
from services.targets.plan_document import Problems, indicator_data, read_indicator
from services.targets.service._common import (
    find_part,
    indicator_columns,
    indicator_spec,
    indicator_state,
    page_by_position,
    parts_of,
    plan_invalid,
    plan_parts,
    publish_plan,
    require_open,
    visible_plan,
    writable_plan,
)
from services.targets.service.statistics import statistic_catalogue
from zhichan.api.etag import check_if_match
from zhichan.api.pagination import PageParams
from zhichan.auth import User


def tag(plan_key: str, key: str) -> str:
    """What an indicator's ETag names: its plan and its key."""
    return f"{plan_key}/{key}"


async def list_indicators(
    session: AsyncSession, key: str, user: User | None, page: PageParams
) -> tuple[list[contracts.IndicatorState], str | None]:
    plan = await visible_plan(session, key, user)
    rows, next_cursor = page_by_position(await parts_of(session, Indicator, plan), page)
    return [indicator_state(row) for row in rows], next_cursor


async def get_indicator(session: AsyncSession, key: str, ikey: str, user: User | None) -> contracts.IndicatorState:
    plan = await visible_plan(session, key, user)
    return indicator_state(find_part(await parts_of(session, Indicator, plan), ikey, "indicator", plan))


async def update_indicator(
    session: AsyncSession, key: str, ikey: str, changes: dict[str, Any], if_match: str | None, user: User
) -> contracts.IndicatorState:
    """Changes an indicator as a plan file would say it; a change that changes nothing is no change."""
    plan = await writable_plan(session, key, user)
    indicators, tasks = await plan_parts(session, plan)
    row = find_part(indicators, ikey, "indicator", plan)
    check_if_match(if_match, tag(plan.key, row.key), row.version)
    require_open(plan)
    merged = {**indicator_data(indicator_spec(row)), **changes}
    problems = Problems()
    spec = read_indicator(merged, plan.start, plan.end, (), problems, await statistic_catalogue(session))
    if problems.items:
        raise plan_invalid(problems.items, f"the change of indicator {ikey}")
    if spec != indicator_spec(row):
        row.sqlmodel_update(indicator_columns(spec))
        row.touch()
        plan.touch()
        publish_plan(session, plan, indicators, tasks, "indicator_changed", user, indicator=row.key)
        await session.commit()
    return indicator_state(row)
