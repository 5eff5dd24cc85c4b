"""Progress reports: submitted by a responsible department or an officer, append-only (a
correction supersedes), listed in as-of order."""

from __future__ import annotations

from datetime import date

from sqlalchemy import false, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.targets import contracts, domain
from services.targets.models import Indicator, Plan, ProgressReport
from services.targets.schemas import ReportCreate
from services.targets.service._common import (
    find_part,
    indicator_spec,
    plan_parts,
    require_open,
    visible_plan,
)
from zhichan.api.pagination import PageParams, encode_cursor
from zhichan.api.problems import Conflict, Forbidden, Invalid, NotFound
from zhichan.auth import User
from zhichan.clock import today, utcnow
from zhichan.events import record_event
from zhichan.ids import new_id


def _may_report(user: User, plan: Plan, row: Indicator) -> None:
    if user.is_admin or ("officer" in user.roles and user.sees(plan.region)):
        return
    if "department" in user.roles and user.sees(plan.region):
        if domain.may_report(user.department, row.responsible):
            return
        responsible = "、".join(row.responsible) or "no department"
        raise Forbidden(
            f"department {user.department or '(none in your token)'} is not responsible for {row.key}; "
            f"responsible: {responsible}"
        )
    raise Forbidden("progress is reported by a responsible department or an officer of the region")


def report_state(plan: Plan, row: Indicator, report: ProgressReport) -> contracts.ProgressReportState:
    return contracts.ProgressReportState(
        id=report.id,
        plan=plan.key,
        indicator=row.key,
        region=report.region,
        as_of=report.as_of,
        value=report.value,
        unit=report.unit,
        note=report.note,
        evidence_url=report.evidence_url,
        department=report.department,
        reporter=report.reporter,
        supersedes=report.supersedes,
        created_at=report.created_at,
    )


async def submit_report(
    session: AsyncSession, key: str, ikey: str, body: ReportCreate, user: User
) -> tuple[Plan, Indicator, ProgressReport]:
    plan = await visible_plan(session, key, user)
    indicators, _tasks = await plan_parts(session, plan)
    row = find_part(indicators, ikey, "indicator", plan)
    _may_report(user, plan, row)
    require_open(plan)
    spec = indicator_spec(row)
    if not spec.accepts_reports:
        raise Conflict(
            f"indicator {ikey} is computed from the metric {spec.source.metric}; only reported indicators take reports",
            metric=spec.source.metric,
        )
    try:
        domain.check_report_date(body.as_of, plan.start, plan.end, today())
    except domain.ReportDateError as exc:
        raise Invalid.field(["as_of"], str(exc)) from None
    if body.supersedes is not None:
        await _check_supersedes(session, row, body.supersedes)
    report = ProgressReport(
        id=new_id(),
        plan_id=plan.id,
        indicator_id=row.id,
        region=plan.region,
        as_of=body.as_of,
        value=body.value,
        unit=row.unit,
        note=body.note,
        evidence_url=str(body.evidence_url) if body.evidence_url else None,
        department=user.department,
        reporter=user.sub,
        supersedes=body.supersedes,
        created_at=utcnow(),
    )
    session.add(report)
    record_event(
        session,
        service=contracts.SERVICE,
        aggregate="progress_report",
        verb="submitted",
        aggregate_id=report.id,
        region=plan.region,
        version=1,
        data=report_state(plan, row, report),
        actor=user.sub,
    )
    try:
        await session.commit()
    except IntegrityError:  # another correction of the same report won the race
        await session.rollback()
        raise Conflict(f"report {body.supersedes} has just been superseded; read the reports again") from None
    return plan, row, report


async def _check_supersedes(session: AsyncSession, row: Indicator, report_id: str) -> None:
    earlier = await session.get(ProgressReport, report_id)
    if earlier is None or earlier.indicator_id != row.id:
        raise Invalid.field(["supersedes"], f"no report {report_id} of indicator {row.key}")
    later = (
        await session.execute(select(ProgressReport.id).where(ProgressReport.supersedes == report_id))
    ).scalar_one_or_none()
    if later is not None:
        raise Conflict(f"report {report_id} is already superseded by {later}; correct that one", superseded_by=later)


async def list_reports(
    session: AsyncSession, key: str, ikey: str, user: User, page: PageParams
) -> tuple[Plan, Indicator, list[tuple[ProgressReport, str | None]], str | None]:
    plan = await visible_plan(session, key, user)
    if not user.sees(plan.region):
        raise NotFound(f"no reports of plan {key} in your regions")
    indicators, _tasks = await plan_parts(session, plan)
    row = find_part(indicators, ikey, "indicator", plan)
    query = (
        select(ProgressReport)
        .where(ProgressReport.indicator_id == row.id)
        .order_by(ProgressReport.as_of, ProgressReport.id)
        .limit(page.limit + 1)
    )
    if page.after:
        after_date = date.fromisoformat(str(page.after.get("as_of", "0001-01-01")))
        after_id = str(page.after.get("id", ""))
        query = query.where(
            or_(
                ProgressReport.as_of > after_date,
                (ProgressReport.as_of == after_date) & (ProgressReport.id > after_id),
            )
        )
    reports = list((await session.execute(query)).scalars())
    next_cursor = None
    if len(reports) > page.limit:
        last = reports[page.limit - 1]
        next_cursor = encode_cursor({"as_of": last.as_of.isoformat(), "id": last.id})
    reports = reports[: page.limit]
    superseded = dict(
        (
            await session.execute(
                select(ProgressReport.supersedes, ProgressReport.id).where(
                    ProgressReport.supersedes.in_([r.id for r in reports]) if reports else false()
                )
            )
        ).all()
    )
    return plan, row, [(r, superseded.get(r.id)) for r in reports], next_cursor
