"""Reporting rounds (填报与审核): a plan's reporting settings, what a department submits for a
round (values of its indicators, each a progress report, and progress of its tasks), an officer's
review of it, and each round's completeness per department.

Rounds are computed from the plan's settings and the calendar (:func:`zhichan.rounds.opened_rounds`), not
stored: only submissions have rows. A submission keeps its round's dates as they were when it was
first made, so a later change of the settings does not move a round already reported.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.targets import contracts, domain
from services.targets.models import Indicator, Plan, ProgressReport, RoundSubmission, Task
from services.targets.schemas import (
    DepartmentCompleteness,
    DepartmentInRound,
    RoundList,
    RoundPublic,
    RoundSubmit,
)
from services.targets.service._common import (
    indicator_spec,
    plan_parts,
    plan_state,
    publish,
    publish_plan,
    reporting_of,
    require_open,
    review_required,
    visible_plan,
    writable_plan,
)
from services.targets.service.reports import report_state
from zhichan.api.etag import check_if_match
from zhichan.api.problems import Conflict, Forbidden, Invalid, NotFound
from zhichan.auth import User
from zhichan.clock import today, utcnow
from zhichan.db import commit_or_conflict, state_of
from zhichan.ids import new_id
from zhichan.rounds import Round, opened_rounds

SUBMISSION_VERBS = {"submit": "submitted", "resubmit": "resubmitted", "approve": "approved", "return": "returned"}


def _settings(plan: Plan) -> contracts.ReportingSettings:
    settings = reporting_of(plan)
    if settings is None:
        raise Conflict(
            f"plan {plan.key} has no reporting rounds; an officer sets them (PUT /plans/{plan.key}/reporting)"
        )
    return settings


def _opened(plan: Plan, settings: contracts.ReportingSettings) -> list[Round]:
    return opened_rounds(settings.period, settings.due_days, plan.start, plan.end, today(), settings.start)


# --- settings ------------------------------------------------------------------------------------


async def set_reporting(
    session: AsyncSession, key: str, settings: contracts.ReportingSettings, if_match: str | None, user: User
) -> contracts.PlanState:
    """Sets how the plan's departments report; one plan event (reporting_changed)."""
    plan = await writable_plan(session, key, user)
    check_if_match(if_match, plan.key, plan.version)
    require_open(plan)
    if settings.start is not None and not plan.start <= settings.start <= plan.end:
        raise Invalid.field(["start"], f"the reporting starts outside the plan period {plan.start}..{plan.end}")
    indicators, tasks = await plan_parts(session, plan)
    # as the plan's row keeps a plan file's reporting block (reporting_row): a start only when one is set
    wanted = settings.model_dump(mode="json", exclude_none=True)
    if plan.reporting == wanted:
        return plan_state(plan, indicators, tasks)
    plan.reporting = wanted
    plan.touch()
    state = publish_plan(session, plan, indicators, tasks, "reporting_changed", user)
    await session.commit()
    return state


# --- who reports what ----------------------------------------------------------------------------


def _reported(indicators: list[Indicator]) -> list[Indicator]:
    return [row for row in indicators if indicator_spec(row).accepts_reports]


def expected_departments(indicators: list[Indicator], tasks: list[Task]) -> list[str]:
    """The departments that report in each round: those responsible for a reported indicator or a task."""
    names = {name for row in [*_reported(indicators), *tasks] for name in row.responsible}
    return sorted(names)


def _department_of(user: User, plan: Plan) -> str:
    if "department" not in user.roles or not user.department:
        raise Forbidden("a round is submitted by a responsible department (a token with its department claim)")
    if not user.sees(plan.region):
        raise Forbidden(f"region {plan.region} is outside your regions")
    return user.department


def _checked_content(
    body: RoundSubmit, department: str, indicators: list[Indicator], tasks: list[Task]
) -> tuple[list[tuple[Indicator, Any]], list[dict[str, str]]]:
    """The indicators the values are for and the task progress, each checked: a part of the plan
    (422), reported (422) and one the department is responsible for (403)."""
    if not body.values and not body.tasks:
        raise Invalid.field(["values"], "submit at least one value or one task's progress")
    by_key = {row.key: row for row in indicators}
    values, seen = [], set()
    for i, value in enumerate(body.values):
        row = by_key.get(value.indicator)
        if row is None:
            raise Invalid.field(["values", i, "indicator"], f"no indicator {value.indicator} in this plan")
        if value.indicator in seen:
            raise Invalid.field(["values", i, "indicator"], f"{value.indicator} is given twice")
        seen.add(value.indicator)
        if not indicator_spec(row).accepts_reports:
            raise Invalid.field(["values", i, "indicator"], f"{row.key} is computed from a metric; it takes no value")
        if not domain.may_report(department, row.responsible):
            responsible = "、".join(row.responsible) or "no department"
            raise Forbidden(f"department {department} is not responsible for {row.key}; responsible: {responsible}")
        values.append((row, value))
    task_by_key = {row.key: row for row in tasks}
    progress, seen = [], set()
    for i, item in enumerate(body.tasks):
        task = task_by_key.get(item.task)
        if task is None:
            raise Invalid.field(["tasks", i, "task"], f"no task {item.task} in this plan")
        if item.task in seen:
            raise Invalid.field(["tasks", i, "task"], f"{item.task} is given twice")
        seen.add(item.task)
        if department not in task.responsible:
            responsible = "、".join(task.responsible) or "no department"
            raise Forbidden(
                f"department {department} is not responsible for task {task.key}; responsible: {responsible}"
            )
        progress.append({"task": task.key, "progress": item.progress})
    return values, progress


# --- submissions ---------------------------------------------------------------------------------


def submission_state(plan: Plan, row: RoundSubmission) -> contracts.RoundSubmissionState:
    return state_of(
        contracts.RoundSubmissionState,
        row,
        plan=plan.key,
        timeliness="on_time" if row.first_submitted_on <= row.due else "late",
    )


def _step(action: str, user: User, reason: str | None = None) -> dict[str, Any]:
    step = {"action": action, "on": today().isoformat(), "at": utcnow().isoformat(), "actor": user.sub}
    if reason:
        step["reason"] = reason
    return step


def _new_reports(
    plan: Plan,
    row: RoundSubmission,
    values: list[tuple[Indicator, Any]],
    previous: dict[str, str],
    user: User,
) -> list[ProgressReport]:
    """A progress report per value, on the round's last day; a value given before in this
    submission is corrected (superseded) by the new one."""
    review = domain.review_of_submitted(review_required(plan))
    return [
        ProgressReport(
            id=new_id(),
            plan_id=plan.id,
            indicator_id=indicator.id,
            region=plan.region,
            as_of=row.end,
            value=value.value,
            unit=indicator.unit,
            note=value.note,
            department=row.department,
            reporter=user.sub,
            supersedes=previous.get(indicator.key),
            created_at=utcnow(),
            round=row.round,
            submission_id=row.id,
            review=review,
        )
        for indicator, value in values
    ]


def _value_entries(reports: list[ProgressReport], values: list[tuple[Indicator, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "indicator": indicator.key,
            "value": format(value.value, "f"),
            "unit": indicator.unit,
            "note": value.note,
            "report": report.id,
        }
        for report, (indicator, value) in zip(reports, values, strict=True)
    ]


def _publish_reports(
    session: AsyncSession,
    plan: Plan,
    reports: list[ProgressReport],
    indicator_by_id: dict[str, Indicator],
    verb: str,
    user: User,
) -> None:
    for report in reports:
        state = report_state(plan, indicator_by_id[report.indicator_id], report)
        publish(session, "progress_report", verb, state.id, state.region, report.version, state, user)


def _publish_submission(
    session: AsyncSession, plan: Plan, row: RoundSubmission, action: str, user: User
) -> contracts.RoundSubmissionState:
    state = submission_state(plan, row)
    publish(session, "round_submission", SUBMISSION_VERBS[action], row.id, row.region, row.version, state, user)
    return state


async def submit(
    session: AsyncSession, key: str, label: str, body: RoundSubmit, user: User
) -> contracts.RoundSubmissionState:
    """A department's first submission for a round (a second one is a resubmission: 409)."""
    plan = await visible_plan(session, key, user)
    department = _department_of(user, plan)
    settings = _settings(plan)
    _require_active(plan)
    found = _round(plan, settings, label)
    indicators, tasks = await plan_parts(session, plan)
    values, progress = _checked_content(body, department, indicators, tasks)
    row = RoundSubmission.new(
        id=new_id(),
        plan_id=plan.id,
        region=plan.region,
        round=found.label,
        start=found.start,
        end=found.end,
        due=found.due,
        department=department,
        status="submitted",
        first_submitted_on=today(),
        note=body.note,
        attachment=body.attachment,
        tasks=progress,
        history=[_step("submitted", user)],
    )
    session.add(row)
    try:
        await session.flush()  # the reports refer to it; and a second submission of the round stops here
    except IntegrityError:
        await session.rollback()
        raise Conflict(
            f"department {department} has submitted round {label} already; resubmit it "
            f"(PUT /plans/{key}/rounds/{label}/submissions/{department})"
        ) from None
    reports = _new_reports(plan, row, values, {}, user)
    session.add_all(reports)
    row.values = _value_entries(reports, values)
    _publish_reports(session, plan, reports, {i.id: i for i in indicators}, "submitted", user)
    state = _publish_submission(session, plan, row, "submit", user)
    await commit_or_conflict(session, f"round {label} of department {department} changed meanwhile; read it again")
    return state


async def resubmit(
    session: AsyncSession,
    key: str,
    label: str,
    department: str,
    body: RoundSubmit,
    if_match: str | None,
    user: User,
) -> contracts.RoundSubmissionState:
    """A department submits a round again: after a return, or, where the plan wants no review, to
    correct it. Each value given again supersedes the one it gave before."""
    plan = await visible_plan(session, key, user)
    if _department_of(user, plan) != department:
        raise Forbidden(f"a round is resubmitted by its department ({department})")
    _require_active(plan)
    row = await _submission(session, plan, label, department, lock=True)
    if if_match is not None:
        check_if_match(if_match, row.id, row.version)
    row.status = _next(row, "resubmit", review_required(plan))
    indicators, tasks = await plan_parts(session, plan)
    values, progress = _checked_content(body, department, indicators, tasks)
    previous = {entry["indicator"]: entry["report"] for entry in row.values}
    reports = _new_reports(plan, row, values, previous, user)
    session.add_all(reports)
    row.values, row.tasks = _value_entries(reports, values), progress
    row.note, row.attachment = body.note, body.attachment
    row.history = [*row.history, _step("resubmitted", user)]
    row.touch()
    _publish_reports(session, plan, reports, {i.id: i for i in indicators}, "submitted", user)
    state = _publish_submission(session, plan, row, "resubmit", user)
    # a report is superseded once: an officer may have corrected one of these values directly
    await commit_or_conflict(session, f"a value of round {label} was corrected meanwhile; read the reports again")
    return state


async def review(
    session: AsyncSession,
    key: str,
    label: str,
    department: str,
    action: str,
    reason: str | None,
    if_match: str | None,
    user: User,
) -> contracts.RoundSubmissionState:
    """An officer of the plan's region approves a submission (its values count) or returns it
    with a reason (they do not; the department resubmits)."""
    plan = await writable_plan(session, key, user)
    require_open(plan)  # a review changes the reports, and a closed plan's reports no longer change
    row = await _submission(session, plan, label, department, lock=True)
    if if_match is not None:
        check_if_match(if_match, row.id, row.version)
    row.status = _next(row, action, review_required(plan), reason)
    verdict = "approved" if action == "approve" else "returned"
    row.history = [*row.history, _step(verdict, user, reason.strip() if reason else None)]
    row.touch()
    ids = [entry["report"] for entry in row.values]
    reports = list((await session.execute(select(ProgressReport).where(ProgressReport.id.in_(ids)))).scalars())
    for report in reports:
        report.review = verdict
        report.version += 1
    indicators = {i.id: i for i in (await plan_parts(session, plan))[0]}
    _publish_reports(session, plan, reports, indicators, "reviewed", user)
    state = _publish_submission(session, plan, row, action, user)
    await session.commit()
    return state


async def get_submission(
    session: AsyncSession, key: str, label: str, department: str, user: User
) -> contracts.RoundSubmissionState:
    plan = await visible_plan(session, key, user)
    if not user.sees(plan.region):
        raise NotFound(f"no submissions of plan {key} in your regions")
    return submission_state(plan, await _submission(session, plan, label, department))


def _require_active(plan: Plan) -> None:
    require_open(plan)
    if plan.status != "active":
        raise Conflict(
            f"plan {plan.key} is a {plan.status}; rounds are submitted once it is active", current_status=plan.status
        )


def _round(plan: Plan, settings: contracts.ReportingSettings, label: str) -> Round:
    try:
        return domain.find_round(
            label, settings.period, settings.due_days, plan.start, plan.end, today(), settings.start
        )
    except domain.RoundError as exc:
        raise Invalid.field(["round"], str(exc)) from None


def _next(row: RoundSubmission, action: str, required: bool, reason: str | None = None) -> str:
    try:
        return domain.next_submission_status(action, row.status, required, reason)
    except domain.TransitionNotAllowed as exc:
        raise Conflict(str(exc), current_status=exc.current, action=action) from None
    except domain.ReasonRequired as exc:
        raise Invalid.field(["reason"], str(exc)) from None


async def _submission(
    session: AsyncSession, plan: Plan, label: str, department: str, *, lock: bool = False
) -> RoundSubmission:
    query = select(RoundSubmission).where(
        RoundSubmission.plan_id == plan.id, RoundSubmission.round == label, RoundSubmission.department == department
    )
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no submission of department {department} for round {label} of plan {plan.key}")
    return row


# --- completeness --------------------------------------------------------------------------------


def _rate(part: int, whole: int) -> Decimal | None:
    return None if whole == 0 else (Decimal(part * 100) / whole).quantize(Decimal("0.1"))


async def list_rounds(session: AsyncSession, key: str, user: User) -> RoundList:
    """Each opened round, newest first, with each expected department's submission and whether it
    came on time; and per department its counts and reporting rate (rounds due only)."""
    plan = await visible_plan(session, key, user)
    if not user.sees(plan.region):
        raise NotFound(f"no rounds of plan {key} in your regions")
    settings = reporting_of(plan)
    if settings is None or plan.status == "draft":
        # a draft's departments cannot submit yet: no round of it is missing
        return RoundList(plan=plan.key, reporting=settings, items=[], departments=[])
    indicators, tasks = await plan_parts(session, plan)
    departments = expected_departments(indicators, tasks)
    rows = (await session.execute(select(RoundSubmission).where(RoundSubmission.plan_id == plan.id))).scalars()
    submitted = {(row.round, row.department): row for row in rows}
    now = today()
    per_department: dict[str, Counter] = {name: Counter() for name in departments}
    items = []
    for found in reversed(_opened(plan, settings)):
        entries = []
        for name in departments:
            row = submitted.get((found.label, name))
            # a submission keeps the due day of its round as it was then
            due = row.due if row is not None else found.due
            timeliness = domain.timeliness(row.first_submitted_on if row else None, due, now)
            per_department[name][timeliness] += 1
            entries.append(
                DepartmentInRound(
                    department=name,
                    timeliness=timeliness,
                    submission=row.id if row else None,
                    status=row.status if row else None,
                    first_submitted_on=row.first_submitted_on if row else None,
                )
            )
        count = sum(1 for e in entries if e.submission is not None)
        items.append(
            RoundPublic(
                round=found.label,
                start=found.start,
                end=found.end,
                due=found.due,
                departments=entries,
                submitted=count,
                expected=len(entries),
                reporting_rate=_rate(count, len(entries)) if now > found.due else None,
            )
        )
    summary = [
        DepartmentCompleteness(
            department=name,
            on_time=counts["on_time"],
            late=counts["late"],
            missing=counts["missing"],
            open=counts["open"],
            reporting_rate=_rate(counts["on_time"] + counts["late"], sum(counts.values()) - counts["open"]),
        )
        for name, counts in per_department.items()
    ]
    return RoundList(plan=plan.key, reporting=settings, items=items, departments=summary)
