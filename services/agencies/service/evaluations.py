"""Yearly performance evaluations, best score first (brand agencies are chosen from the best)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.agencies import contracts
from services.agencies.models import Evaluation
from services.agencies.schemas import EvaluationCreate
from services.agencies.service._common import Paged, agency_of_year, business_date, publish, visible_agency
from zhichan.api.pagination import PageParams, keyset_page
from zhichan.api.problems import Conflict
from zhichan.api.scope import scoped
from zhichan.auth import User
from zhichan.clock import utcnow
from zhichan.db import commit_or_conflict, state_of
from zhichan.ids import new_id


def evaluation_state(evaluation: Evaluation) -> contracts.EvaluationState:
    return state_of(contracts.EvaluationState, evaluation)


async def record_evaluation(
    session: AsyncSession, agency_id: str, data: EvaluationCreate, user: User
) -> contracts.EvaluationState:
    agency = await agency_of_year(session, agency_id, data.year, user)
    evaluated_on = business_date(data.evaluated_on, "evaluated_on", what="evaluation date")
    existing = (
        await session.execute(select(Evaluation).where(Evaluation.agency_id == agency.id, Evaluation.year == data.year))
    ).scalar_one_or_none()
    if existing is not None:
        raise Conflict(f"agency {agency.id} is already evaluated for {data.year}", evaluation_id=existing.id)
    evaluation = Evaluation(
        **data.model_dump(exclude={"evaluated_on"}),
        id=new_id(),
        agency_id=agency.id,
        region=agency.region,
        evaluated_on=evaluated_on,
        created_at=utcnow(),
    )
    session.add(evaluation)
    state = publish(session, "evaluation", "recorded", evaluation_state(evaluation), user)
    await commit_or_conflict(session, f"agency {agency.id} was evaluated for {data.year} at the same time")
    return state


async def _evaluations(session: AsyncSession, query, page: PageParams) -> Paged:
    """Best score first (brand agencies are chosen from the best), then by id."""
    rows, next_cursor = await keyset_page(session, query, page, Evaluation.score.desc(), Evaluation.id)
    return [evaluation_state(e) for e in rows], next_cursor


async def agency_evaluations(session: AsyncSession, agency_id: str, user: User, page: PageParams) -> Paged:
    agency = await visible_agency(session, agency_id, user)
    return await _evaluations(session, select(Evaluation).where(Evaluation.agency_id == agency.id), page)


async def list_evaluations(
    session: AsyncSession, user: User, page: PageParams, region: str | None, year: int | None
) -> Paged:
    query = scoped(select(Evaluation), Evaluation.region, user, region)
    if year is not None:
        query = query.where(Evaluation.year == year)
    return await _evaluations(session, query, page)
