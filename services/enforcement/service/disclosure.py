"""Public disclosure of decided cases (行政执法信息公开): no token, every region, natural persons
masked."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.enforcement import domain
from services.enforcement.models import Case
from services.enforcement.schemas import DisclosedCase, DisclosureFilter, DisclosureList
from services.enforcement.service._common import between
from zhichan.api.pagination import PageParams, keyset_page
from zhichan.api.scope import scoped
from zhichan.money import from_fen
from zhichan.regions import registry


async def disclosed_cases(session: AsyncSession, page: PageParams, filters: DisclosureFilter) -> DisclosureList:
    """Decided cases of penalty and adjudication procedures, newest decision first, with natural
    persons' names masked and no identity card numbers."""
    query = select(Case).where(Case.decided_date.is_not(None), Case.procedure.in_(sorted(domain.DISCLOSED_PROCEDURES)))
    query = scoped(query, Case.region, None, filters.region)
    if filters.type is not None:
        query = query.where(Case.case_type == filters.type)
    query = between(query, Case.decided_date, filters.from_, filters.to)
    rows, next_cursor = await keyset_page(session, query, page, Case.decided_date.desc(), Case.id.desc())
    return DisclosureList(items=[_disclosed(c) for c in rows], next_cursor=next_cursor)


def _disclosed(c: Case) -> DisclosedCase:
    return DisclosedCase(
        id=c.id,
        case_number=c.case_number,
        region=c.region,
        region_name=registry().get(c.region).name if c.region in registry() else c.region,
        type=c.case_type,
        procedure=c.procedure,
        respondent_kind=c.respondent_kind,
        respondent_name=domain.disclosed_name(c.respondent_kind, c.respondent_name),
        respondent_uscc=c.respondent_uscc if c.respondent_kind == "organization" else None,
        outcome=c.outcome,
        decided_date=c.decided_date,
        decision_number=c.decision_number,
        fine=from_fen(c.fine_fen or 0),
        confiscation=from_fen(c.confiscation_fen or 0),
        illegal_revenue=from_fen(c.illegal_revenue_fen or 0),
    )
