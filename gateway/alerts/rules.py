"""From an event, the alerts its record calls for now, each with the business day it is due to be
raised. An event carries its record's full state, so the plan is the whole of what the record
needs: what the previous state planned and this one does not is cancelled (a case closed before
its deadline never alerts).

A cause names the alert and its deadline, so that the same cause is raised once, and a deadline
that moved (an extension, a suspension's days) makes a new one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from services.agencies.contracts import ComplaintState
from services.enforcement.contracts import CaseState
from services.financing.contracts import PledgeState
from services.targets.contracts import PlanState
from zhichan.clock import SHANGHAI
from zhichan.events.envelope import Envelope
from zhichan.rounds import plan_rounds

# A case that reached one of these has ended for the office: nothing is due any more.
CASE_ENDED = frozenset({"closed", "transferred", "withdrawn"})


@dataclass(frozen=True)
class PlannedAlert:
    kind: str
    cause: str
    raise_on: date
    due_date: date | None
    title: str
    link: str
    responsible: tuple[str, ...]


@dataclass(frozen=True)
class RecordAlerts:
    """What one record calls for, as of its state at ``version``."""

    record: str
    region: str
    version: int
    alerts: tuple[PlannedAlert, ...]


PLANNED_KINDS = frozenset(
    {("enforcement", "case"), ("agencies", "complaint"), ("financing", "pledge"), ("targets", "plan")}
)


def concerns(envelope: Envelope) -> bool:
    """Whether :func:`planned` plans anything from events of this kind of record."""
    return (envelope.service, envelope.aggregate) in PLANNED_KINDS


def planned(envelope: Envelope, due_soon_days: int) -> list[RecordAlerts]:
    """The alerts of each record the event is about (none: an event alerts never concern)."""
    kind = (envelope.service, envelope.aggregate)
    if (nothing_due := _nothing_due(kind, envelope.data)) is not None:
        return [nothing_due]
    if kind == ("enforcement", "case"):
        return [_case(CaseState.model_validate(envelope.data), due_soon_days)]
    if kind == ("agencies", "complaint"):
        return [_complaint(ComplaintState.model_validate(envelope.data), due_soon_days)]
    if kind == ("financing", "pledge"):
        return [_pledge(PledgeState.model_validate(envelope.data))]
    if kind == ("targets", "plan"):
        plan = PlanState.model_validate(envelope.data)
        return [*_tasks(plan), *_rounds(plan, due_soon_days, envelope.time.astimezone(SHANGHAI).date())]
    return []


def round_record(plan_key: str, label: str, department: str) -> str:
    """A department's report in a round: what a round's alerts are about (and what its submission
    event names: the plan's key, the round, the department)."""
    return f"targets/plan/{plan_key}/rounds/{label}/{department}"


def _rounds(plan: PlanState, due_soon_days: int, on: date) -> list[RecordAlerts]:
    """Each department's report in each round of an active plan that has rounds: due soon, then
    missed the day after its due day (a submission cancels both: :func:`gateway.alerts.service.schedule`).
    A round already past its due day when the plan's state was published (``on``) is history, not
    an alert: rounds set up mid-plan would otherwise raise every earlier round at once."""
    if plan.reporting is None:
        return []
    settings = plan.reporting
    departments = sorted(
        {d for i in plan.indicators if i.accepts_reports for d in i.responsible}
        | {d for t in plan.tasks for d in t.responsible}
    )
    found = []
    for found_round in plan_rounds(settings.period, settings.due_days, plan.start, plan.end, settings.start):
        due, opens = found_round.due, found_round.end + timedelta(days=1)
        for department in departments:
            record = round_record(plan.key, found_round.label, department)
            alerts: tuple[PlannedAlert, ...] = ()
            if plan.status == "active" and due >= on:
                what = f"{department}「{plan.title}」{found_round.label} 轮次填报"
                link = f"/api/plans/{plan.key}/rounds"
                alerts = (
                    PlannedAlert(
                        "round_due_soon",
                        f"round_due_soon:{record}:{due.isoformat()}",
                        max(due - timedelta(days=due_soon_days), opens),
                        due,
                        f"{what}将于 {due.isoformat()} 截止",
                        link,
                        (department,),
                    ),
                    PlannedAlert(
                        "round_missed",
                        f"round_missed:{record}:{due.isoformat()}",
                        due + timedelta(days=1),
                        due,
                        f"{what}已逾期未报（截止 {due.isoformat()}）",
                        link,
                        (department,),
                    ),
                )
            found.append(RecordAlerts(record, plan.region, plan.version, alerts))
    return found


def _nothing_due(kind: tuple[str, str], data: dict) -> RecordAlerts | None:
    """The plan of a case that has ended or of a pledge that never defaulted — most records —
    read from the few fields that say so, without validating the whole state (a third of the
    consumer's CPU for a backlog of cases, bench/catchup.py). None: validate, then plan."""
    if not (type(data.get("id")) is str and type(data.get("region")) is str and type(data.get("version")) is int):
        return None
    if kind == ("enforcement", "case"):
        if data.get("status") not in CASE_ENDED:
            return None
        record = f"enforcement/case/{data['id']}"
    elif kind == ("financing", "pledge"):
        history = data.get("status_history")
        if type(history) is not list or any(type(c) is not dict or c.get("status") == "defaulted" for c in history):
            return None
        record = f"financing/pledge/{data['id']}"
    else:
        return None
    return RecordAlerts(record, data["region"], data["version"], ())


def _deadline(
    record: str, what: str, due: date, due_soon_days: int, link: str, responsible: tuple[str, ...], prefix: str
) -> tuple[PlannedAlert, ...]:
    return (
        PlannedAlert(
            f"{prefix}_due_soon",
            f"{prefix}_due_soon:{record}:{due.isoformat()}",
            due - timedelta(days=due_soon_days),
            due,
            f"{what} 将于 {due.isoformat()} 到期",
            link,
            responsible,
        ),
        PlannedAlert(
            f"{prefix}_overdue",
            f"{prefix}_overdue:{record}:{due.isoformat()}",
            due + timedelta(days=1),
            due,
            f"{what} 已超期（期限 {due.isoformat()}）",
            link,
            responsible,
        ),
    )


def _case(case: CaseState, due_soon_days: int) -> RecordAlerts:
    record = f"enforcement/case/{case.id}"
    alerts: tuple[PlannedAlert, ...] = ()
    # Suspended, its deadline is null: the clock stands still and nothing is due.
    if case.status not in CASE_ENDED and case.closed_date is None and case.due_date is not None:
        what = f"案件 {case.case_number}"
        responsible = (case.handling_unit,)
        alerts = _deadline(record, what, case.due_date, due_soon_days, f"/api/cases/{case.id}", responsible, "case")
    return RecordAlerts(record, case.region, case.version, alerts)


def _complaint(complaint: ComplaintState, due_soon_days: int) -> RecordAlerts:
    record = f"agencies/complaint/{complaint.id}"
    alerts: tuple[PlannedAlert, ...] = ()
    if complaint.status == "open":
        what = f"对服务机构的投诉（{complaint.received_on.isoformat()} 收到）"
        link = f"/api/complaints/{complaint.id}"
        alerts = _deadline(record, what, complaint.deadline, due_soon_days, link, (), "complaint")
    return RecordAlerts(record, complaint.region, complaint.version, alerts)


def _pledge(pledge: PledgeState) -> RecordAlerts:
    record = f"financing/pledge/{pledge.id}"
    defaulted = next((change.on for change in pledge.status_history if change.status == "defaulted"), None)
    alerts: tuple[PlannedAlert, ...] = ()
    if defaulted is not None:  # once: a pledge defaults once, whatever comes after (disposal)
        alerts = (
            PlannedAlert(
                "pledge_defaulted",
                f"pledge_defaulted:{record}",
                defaulted,
                None,
                f"质押登记 {pledge.registration_number} 贷款违约（质权人 {pledge.pledgee}）",
                f"/api/pledges/{pledge.id}",
                (),
            ),
        )
    return RecordAlerts(record, pledge.region, pledge.version, alerts)


def _tasks(plan: PlanState) -> list[RecordAlerts]:
    found = []
    for task in plan.tasks:
        record = f"targets/plan/{plan.id}/tasks/{task.key}"
        alerts: tuple[PlannedAlert, ...] = ()
        if plan.status == "active" and task.status != "done" and task.due is not None:
            alerts = (
                PlannedAlert(
                    "task_overdue",
                    f"task_overdue:{record}:{task.due.isoformat()}",
                    task.due + timedelta(days=1),
                    task.due,
                    f"任务「{task.title}」已逾期（期限 {task.due.isoformat()}，{plan.title}）",
                    f"/api/plans/{plan.key}",
                    tuple(task.responsible),
                ),
            )
        found.append(RecordAlerts(record, plan.region, plan.version, alerts))
    return found
