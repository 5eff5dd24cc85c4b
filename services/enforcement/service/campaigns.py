"""Campaigns (专项行动): created, read and listed with the counts of their cases the caller sees."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.enforcement import contracts, domain
from services.enforcement.models import Campaign, Case
from services.enforcement.schemas import CampaignCaseCounts, CampaignCreate
from services.enforcement.service._common import publish
from zhichan.api.pagination import PageParams, keyset_page
from zhichan.api.scope import get_visible, scoped
from zhichan.auth import User, require_write_access
from zhichan.clock import today
from zhichan.db import commit_or_conflict, state_of
from zhichan.money import from_fen


def campaign_state(campaign: Campaign) -> contracts.CampaignState:
    return state_of(contracts.CampaignState, campaign, start=campaign.start_date, end=campaign.end_date)


def _case_counts(cases: list[Case]) -> dict[str, CampaignCaseCounts]:
    """What a reader sees beside a campaign's state: counts of its cases."""
    now = today()
    counts = CampaignCaseCounts(
        total=len(cases),
        open=sum(c.status in domain.OPEN_STATUSES for c in cases),
        overdue=sum(c.overdue_since is not None and c.overdue_since <= now for c in cases),
        decided=sum(c.decided_date is not None for c in cases),
        ended=sum(c.status in domain.ENDED_STATUSES for c in cases),
        by_status=dict(Counter(c.status for c in cases)),
        by_type=dict(Counter(c.case_type for c in cases)),
        fines_total=from_fen(sum(c.fine_fen or 0 for c in cases)),
        confiscations_total=from_fen(sum(c.confiscation_fen or 0 for c in cases)),
    )
    return {"case_counts": counts}


async def _counted(session: AsyncSession, user: User, campaigns: list[Campaign]) -> dict[str, dict]:
    """Each campaign's case counts, among the cases the caller sees, by campaign id."""
    query = scoped(select(Case).where(Case.campaign_id.in_([c.id for c in campaigns])), Case.region, user)
    grouped: dict[str, list[Case]] = defaultdict(list)
    for case in (await session.execute(query)).scalars():
        grouped[case.campaign_id].append(case)
    return {c.id: _case_counts(grouped[c.id]) for c in campaigns}


def created(session: AsyncSession, data: CampaignCreate, user: User) -> Campaign:
    """The campaign added to the session with its event ``created`` (the caller commits): the
    route and the import (:mod:`.campaign_import`) create campaigns through it alike."""
    require_write_access(user, data.region)
    campaign = Campaign.new(
        **data.model_dump(exclude={"start", "end"}), start_date=data.start, end_date=data.end, created_by=user.sub
    )
    session.add(campaign)
    publish(session, "campaign", "created", campaign_state(campaign), user)
    return campaign


async def create_campaign(
    session: AsyncSession, data: CampaignCreate, user: User
) -> tuple[contracts.CampaignState, dict]:
    state = campaign_state(created(session, data, user))
    await commit_or_conflict(session, f"region {data.region} already has a campaign named {data.name}")
    return state, _case_counts([])  # no case names it yet


async def get_campaign(session: AsyncSession, campaign_id: str, user: User) -> tuple[contracts.CampaignState, dict]:
    campaign = await get_visible(session, Campaign, campaign_id, user, "campaign")
    return campaign_state(campaign), (await _counted(session, user, [campaign]))[campaign.id]


async def list_campaigns(
    session: AsyncSession, user: User, page: PageParams, region: str | None, active_on: date | None
) -> tuple[tuple[list[contracts.CampaignState], str | None], dict[str, dict]]:
    """A page of campaigns, and each one's case counts by its id."""
    query = scoped(select(Campaign), Campaign.region, user, region)
    if active_on is not None:
        query = query.where(Campaign.start_date <= active_on, Campaign.end_date >= active_on)
    rows, next_cursor = await keyset_page(session, query, page, Campaign.id)
    return ([campaign_state(c) for c in rows], next_cursor), await _counted(session, user, rows)
