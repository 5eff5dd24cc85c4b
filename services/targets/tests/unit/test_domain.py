"""The state machines, the report rules and the vocabularies — no I/O."""

from datetime import date
from decimal import Decimal
from typing import get_args

import pytest

from services.targets import domain
from services.targets.contracts import IndicatorState


@pytest.mark.parametrize(
    "action, status, result",
    [("activate", "draft", "active"), ("close", "active", "closed")],
)
def test_plan_transitions(action, status, result):
    assert domain.next_plan_status(action, status) == result


@pytest.mark.parametrize("action, status", [("activate", "active"), ("activate", "closed"), ("close", "draft")])
def test_plan_transitions_refused(action, status):
    with pytest.raises(domain.TransitionNotAllowed):
        domain.next_plan_status(action, status)


@pytest.mark.parametrize("current", sorted(domain.TASK_STATUSES))
@pytest.mark.parametrize("wanted", sorted(domain.TASK_STATUSES))
def test_every_task_transition(current, wanted):
    allowed = {
        ("planned", "in_progress"),
        ("planned", "delayed"),
        ("in_progress", "done"),
        ("in_progress", "delayed"),
        ("delayed", "in_progress"),
        ("delayed", "done"),
    }
    if (current, wanted) in allowed:
        domain.check_task_transition(current, wanted, "weather")
    else:
        with pytest.raises(domain.TransitionNotAllowed):
            domain.check_task_transition(current, wanted, "weather")


def test_delay_needs_a_reason():
    with pytest.raises(domain.ReasonRequired):
        domain.check_task_transition("in_progress", "delayed", "  ")


def test_report_dates():
    start, end, now = date(2024, 1, 1), date(2026, 12, 31), date(2025, 6, 1)
    domain.check_report_date(date(2024, 1, 1), start, end, now)
    for day in (date(2023, 12, 31), date(2027, 1, 1), date(2025, 6, 2)):
        with pytest.raises(domain.ReportDateError):
            domain.check_report_date(day, start, end, now)


def test_responsible_departments_report():
    assert domain.may_report("县市场监管局", ["县市场监管局", "县财政局"])
    assert not domain.may_report("县公安局", ["县市场监管局"]) and not domain.may_report(None, ["县市场监管局"])


def test_numbers_are_exact_and_never_bools():
    assert domain.parse_number(0.1) == Decimal("0.1") and domain.parse_number("2.81") == Decimal("2.81")
    for bad in (True, None, "NaN", "inf", "12%"):
        with pytest.raises(ValueError):
            domain.parse_number(bad)


def test_the_indicator_contract_names_the_trajectories_of_the_vocabulary():
    # contracts.py, which the gateway reads, writes them out: it imports no rule of the service.
    assert get_args(IndicatorState.model_fields["trajectory"].annotation) == domain.TRAJECTORIES.codes
