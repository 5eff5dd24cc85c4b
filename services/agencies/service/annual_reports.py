"""Annual reports (年度报告), and their corrections, which supersede them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.agencies import contracts
from services.agencies.models import Agency, AnnualReport
from services.agencies.schemas import AnnualReportCreate, AnnualReportFilter
from services.agencies.service._common import Paged, agency_of_year, publish, visible_agency
from zhichan.api.pagination import PageParams, keyset_page
from zhichan.api.problems import Conflict, Invalid
from zhichan.api.scope import scoped
from zhichan.auth import User
from zhichan.clock import today
from zhichan.db import commit_or_conflict, state_of


def annual_report_state(report: AnnualReport) -> contracts.AnnualReportState:
    return state_of(contracts.AnnualReportState, report)


async def submit_annual_report(
    session: AsyncSession, agency_id: str, data: AnnualReportCreate, user: User
) -> contracts.AnnualReportState:
    agency = await agency_of_year(session, agency_id, data.year, user)
    state = await submitted(session, agency, data, today(), user)
    await commit_or_conflict(session, f"a report for {data.year} was submitted at the same time")
    return state


async def submitted(
    session: AsyncSession, agency: Agency, data: AnnualReportCreate, submitted_on: date, user: User
) -> contracts.AnnualReportState:
    """The agency's report of the year, superseding the year's current one when it gives a
    reason (409 when it does not), with the events (the caller commits)."""
    current = (
        await session.execute(
            select(AnnualReport).where(
                AnnualReport.agency_id == agency.id, AnnualReport.year == data.year, AnnualReport.status == "current"
            )
        )
    ).scalar_one_or_none()
    if current is not None and not data.supersede_reason:
        raise Conflict(
            f"agency {agency.id} has a report for {data.year}; send supersede_reason to correct it",
            current_report=current.id,
        )
    if current is None and data.supersede_reason:
        raise Invalid.field(["supersede_reason"], f"there is no report for {data.year} to supersede")
    report = AnnualReport.new(
        **data.model_dump(),
        agency_id=agency.id,
        region=agency.region,
        status="current",
        submitted_on=submitted_on,
        supersedes=current.id if current else None,
    )
    if current is not None:
        current.status = "superseded"
        current.superseded_by = report.id
        current.touch()
        publish(session, "annual_report", "superseded", annual_report_state(current), user)
        await session.flush()  # the old report leaves the one-current-per-year index before the new one enters
    session.add(report)
    return publish(session, "annual_report", "submitted", annual_report_state(report), user)


async def _annual_reports(session: AsyncSession, query, page: PageParams, include_superseded: bool) -> Paged:
    if not include_superseded:
        query = query.where(AnnualReport.status == "current")
    rows, next_cursor = await keyset_page(session, query, page, AnnualReport.id)
    return [annual_report_state(r) for r in rows], next_cursor


async def agency_annual_reports(
    session: AsyncSession, agency_id: str, user: User, page: PageParams, include_superseded: bool
) -> Paged:
    agency = await visible_agency(session, agency_id, user)
    query = select(AnnualReport).where(AnnualReport.agency_id == agency.id)
    return await _annual_reports(session, query, page, include_superseded)


async def list_annual_reports(
    session: AsyncSession, user: User, page: PageParams, filters: AnnualReportFilter
) -> Paged:
    query = scoped(select(AnnualReport), AnnualReport.region, user, filters.region)
    if filters.year is not None:
        query = query.where(AnnualReport.year == filters.year)
    return await _annual_reports(session, query, page, filters.include_superseded)
