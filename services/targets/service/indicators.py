"""A plan's indicators: read, and changed one at a time by the rules of a plan file."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.targets.models import Indicator, Plan
from services.targets.plan_document import (
    Problems,
    indicator_data,
    read_indicator,
)
from services.targets.service._common import (
    find_part,
    indicator_columns,
    indicator_spec,
    plan_invalid,
    plan_parts,
    publish_plan,
    require_open,
    writable_plan,
)
from zhichan.api.etag import check_if_match
from zhichan.auth import User
from zhichan.clock import utcnow


def indicator_etag_id(plan: Plan, row: Indicator) -> str:
    return f"{plan.key}/{row.key}"


async def update_indicator(
    session: AsyncSession, key: str, ikey: str, changes: dict[str, Any], if_match: str | None, user: User
) -> tuple[Plan, Indicator]:
    plan = await writable_plan(session, key, user)
    indicators, tasks = await plan_parts(session, plan)
    row = find_part(indicators, ikey, "indicator", plan)
    check_if_match(if_match, indicator_etag_id(plan, row), row.version)
    require_open(plan)
    merged = {**indicator_data(indicator_spec(row)), **changes}
    problems = Problems()
    spec = read_indicator(merged, plan.start, plan.end, (), problems)
    if problems.items:
        raise plan_invalid(problems.items, f"the change of indicator {ikey}")
    if spec == indicator_spec(row):
        return plan, row
    row.sqlmodel_update(indicator_columns(spec))
    now = utcnow()
    row.version += 1
    row.updated_at = plan.updated_at = now
    plan.version += 1
    publish_plan(session, plan, indicators, tasks, "indicator_changed", user, indicator=row.key)
    await session.commit()
    return plan, row
