"""What alerts a record's state calls for, and on which day each is raised."""

from __future__ import annotations

from datetime import UTC, date, datetime

from gateway.alerts.rules import planned
from gateway.tests.events import (
    T0,
    case_event,
    case_state,
    indicator_state,
    plan_event,
    plan_state,
    pledge_event,
    pledge_state,
)
from services.financing import contracts as financing
from services.targets import contracts as targets

WEEK = 7


def only(envelope) -> list:
    [record] = planned(envelope, WEEK)
    return list(record.alerts)


def test_an_open_case_is_due_soon_a_week_before_its_deadline_and_overdue_the_day_after():
    state = case_state("c1", "2025-03-01", region="321102")  # due 90 days after filing: 2025-05-30
    due_soon, overdue = only(case_event(state))
    assert (due_soon.kind, due_soon.raise_on, due_soon.due_date) == (
        "case_due_soon",
        date(2025, 5, 23),
        date(2025, 5, 30),
    )
    assert (overdue.kind, overdue.raise_on) == ("case_overdue", date(2025, 5, 31))
    assert overdue.title == f"案件 {state.case_number} 已超期（期限 2025-05-30）"
    assert overdue.link == "/api/cases/c1" and overdue.responsible == ("区市场监管局",)
    assert overdue.cause == "case_overdue:enforcement/case/c1:2025-05-30"


def test_a_case_ended_or_suspended_calls_for_nothing():
    assert only(case_event(case_state("c1", "2025-03-01", closed="2025-04-01", on_time=True))) == []
    suspended = case_state("c1", "2025-03-01").model_copy(update={"due_date": None, "status": "suspended"})
    assert only(case_event(suspended)) == []


def test_a_moved_deadline_is_another_cause():
    state = case_state("c1", "2025-03-01")
    extended = state.model_copy(update={"due_date": date(2025, 6, 29), "version": 2})
    assert {a.cause for a in only(case_event(state))}.isdisjoint(a.cause for a in only(case_event(extended)))


def test_a_defaulted_pledge_alerts_once_on_its_default_day():
    state = pledge_state("p1", "2024-03-01", "5000000", region="420502")
    assert only(pledge_event(state)) == []
    change = financing.StatusChange(status="defaulted", on=date(2025, 2, 10), at=state.updated_at)
    defaulted = state.model_copy(update={"status": "defaulted", "status_history": [*state.status_history, change]})
    [alert] = only(pledge_event(defaulted))
    assert (alert.kind, alert.raise_on, alert.due_date) == ("pledge_defaulted", date(2025, 2, 10), None)
    assert alert.cause == "pledge_defaulted:financing/pledge/p1"


def task(key: str, due: str | None, status: str = "in_progress") -> targets.TaskState:
    return targets.TaskState(
        key=key, title="建设知识产权保护中心", responsible=["市知识产权局"], due=due, indicators=[], status=status,
        status_history=[], version=1, updated_at="2025-01-01T00:00:00Z",
    )  # fmt: skip


def test_an_active_plans_tasks_are_overdue_the_day_after_they_are_due_unless_done():
    plan = plan_state("zj", []).model_copy(
        update={"tasks": [task("t1", "2025-06-30"), task("t2", "2025-06-30", "done"), task("t3", None)]}
    )
    records = {r.record.rsplit("/", 1)[1]: r.alerts for r in planned(plan_event(plan), WEEK)}
    [overdue] = records["t1"]
    assert (overdue.kind, overdue.raise_on, overdue.responsible) == (
        "task_overdue",
        date(2025, 7, 1),
        ("市知识产权局",),
    )
    assert records["t2"] == () and records["t3"] == ()
    closed = plan.model_copy(update={"status": "closed"})
    assert all(r.alerts == () for r in planned(plan_event(closed), WEEK))


def test_each_department_owes_each_round_due_soon_then_missed():
    reported = indicator_state("patents", "件", "stock", "850", "reported", responsible=["区市场监管局"])
    plan = plan_state("zj", [reported], start="2025-01-01", end="2025-12-31").model_copy(
        update={
            "reporting": targets.ReportingSettings(period="quarterly", due_days=10, review="required"),
            "tasks": [task("t1", None).model_copy(update={"responsible": ["区财政局"]})],
        }
    )
    records = {r.record: r.alerts for r in planned(plan_event(plan, time=T0), WEEK) if "/rounds/" in r.record}
    assert len(records) == 4 * 2  # four quarters, two departments (an indicator's, a task's)
    due_soon, missed = records["targets/plan/zj/rounds/2025Q1/区市场监管局"]
    assert (due_soon.kind, due_soon.raise_on, due_soon.due_date) == (
        "round_due_soon",
        date(2025, 4, 3),
        date(2025, 4, 10),
    )
    assert (missed.kind, missed.raise_on, missed.responsible) == ("round_missed", date(2025, 4, 11), ("区市场监管局",))
    # a round is not "due soon" before it opens: due 3 days after its quarter, the alert waits for it
    short = plan.model_copy(update={"reporting": targets.ReportingSettings(period="quarterly", due_days=3)})
    [(soon, _missed)] = [
        r.alerts for r in planned(plan_event(short, time=T0), WEEK) if r.record.endswith("2025Q2/区财政局")
    ]
    assert soon.raise_on == date(2025, 7, 1)
    # rounds set up in May: the first quarter's, due in April, is history
    may = datetime(2025, 5, 1, tzinfo=UTC)
    later = {
        r.record.split("/")[4]: r.alerts for r in planned(plan_event(plan, time=may), WEEK) if "/rounds/" in r.record
    }
    assert later["2025Q1"] == () and later["2025Q2"] != ()
    # reporting that starts with the third quarter: no department owes the first two
    from_july = targets.ReportingSettings(period="quarterly", due_days=10, start=date(2025, 7, 1))
    rounds = {
        r.record.split("/")[4]
        for r in planned(plan_event(plan.model_copy(update={"reporting": from_july}), time=T0), WEEK)
        if "/rounds/" in r.record
    }
    assert rounds == {"2025Q3", "2025Q4"}


def test_an_ended_case_or_a_pledge_never_defaulted_plans_nothing_without_validating_its_state():
    closed = case_event(case_state("c2", "2025-03-01", closed="2025-04-01", on_time=True))
    closed.data = {**closed.data, "timeline": "not a list"}  # the rest of the state is not read
    [record] = planned(closed, WEEK)
    assert (record.record, record.alerts, record.version) == ("enforcement/case/c2", (), closed.data["version"])
    registered = pledge_event(pledge_state("p2", "2025-03-01", "100"))
    [record] = planned(registered, WEEK)
    assert (record.record, record.alerts) == ("financing/pledge/p2", ())


def test_a_case_not_ended_is_validated_as_before():
    import pytest
    from pydantic import ValidationError

    open_case = case_event(case_state("c3", "2025-03-01"))
    open_case.data = {**open_case.data, "timeline": "not a list"}
    with pytest.raises(ValidationError):
        planned(open_case, WEEK)


def test_only_each_records_newest_event_of_a_fetch_is_planned():
    from gateway.alerts.service import newest_per_aggregate

    filed = case_event(case_state("c4", "2025-03-01"))
    closed = case_event(case_state("c4", "2025-03-01", closed="2025-04-01", on_time=True, version=2))
    other = pledge_event(pledge_state("p4", "2025-03-01", "100"))
    assert newest_per_aggregate([filed, other, closed]) == [other, closed]
    assert newest_per_aggregate([closed, filed]) == [closed]
