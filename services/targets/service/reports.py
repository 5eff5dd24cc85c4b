"""Progress reports: submitted by a responsible department or an officer, append-only (a
correction supersedes), listed in as-of order."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.targets import contracts, domain
from services.targets.models import Indicator, Plan, ProgressReport
from services.targets.schemas import ReportCreate
from services.targets.service._common import (
    find_part,
    indicator_spec,
    parts_of,
    publish,
    require_open,
    review_required,
    visible_plan,
)
from zhichan.api.pagination import PageParams, keyset_page
from zhichan.api.problems import Conflict, Forbidden, Invalid, NotFound
from zhichan.auth import User
from zhichan.clock import today, utcnow
from zhichan.db import commit_or_conflict, state_of
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
    return state_of(
        contracts.ProgressReportState, report, plan=plan.key, indicator=row.key, submission=report.submission_id
    )


async def submit_report(
    session: AsyncSession, key: str, ikey: str, body: ReportCreate, user: User
) -> contracts.ProgressReportState:
    plan = await visible_plan(session, key, user)
    row = find_part(await parts_of(session, Indicator, plan), ikey, "indicator", plan)
    _may_report(user, plan, row)
    require_open(plan)
    if review_required(plan) and not user.has_any_role(("officer",)):
        # what a department reports here would count unreviewed; an officer's own report needs no review
        raise Conflict(
            f"plan {plan.key} reviews what departments report: submit values in a reporting round "
            f"(POST /plans/{plan.key}/rounds/{{round}}/submissions)"
        )
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
    state = report_state(plan, row, report)
    publish(session, "progress_report", "submitted", state.id, state.region, 1, state, user)  # never changed
    # a report is superseded once (a unique column): another correction of it may just have won
    await commit_or_conflict(session, f"report {body.supersedes} has just been superseded; read the reports again")
    return state


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
) -> tuple[tuple[list[contracts.ProgressReportState], str | None], dict[str, str]]:
    """A page of an indicator's reports in as-of order, and, beside it, which later report
    supersedes each one superseded (report id → its correction's id)."""
    plan = await visible_plan(session, key, user)
    if not user.sees(plan.region):
        raise NotFound(f"no reports of plan {key} in your regions")
    row = find_part(await parts_of(session, Indicator, plan), ikey, "indicator", plan)
    query = select(ProgressReport).where(ProgressReport.indicator_id == row.id)
    reports, next_cursor = await keyset_page(session, query, page, ProgressReport.as_of, ProgressReport.id)
    corrections = select(ProgressReport.supersedes, ProgressReport.id).where(
        ProgressReport.supersedes.in_([r.id for r in reports])
    )
    superseded_by = dict((await session.execute(corrections)).all()) if reports else {}
    return ([report_state(plan, row, r) for r in reports], next_cursor), superseded_by
