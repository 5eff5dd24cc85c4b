"""Reporting rounds: the period arithmetic, due days, on time or late, and a submission's review."""

from datetime import date
from typing import get_args

import pytest

from services.targets import contracts, domain
from zhichan import rounds as kernel_rounds

D = date


@pytest.mark.parametrize(
    "period, day, label, start, end",
    [
        ("monthly", D(2025, 2, 10), "2025-02", D(2025, 2, 1), D(2025, 2, 28)),
        ("monthly", D(2024, 2, 29), "2024-02", D(2024, 2, 1), D(2024, 2, 29)),  # a leap year's February
        ("monthly", D(2025, 12, 31), "2025-12", D(2025, 12, 1), D(2025, 12, 31)),
        ("quarterly", D(2025, 1, 1), "2025Q1", D(2025, 1, 1), D(2025, 3, 31)),
        ("quarterly", D(2025, 8, 15), "2025Q3", D(2025, 7, 1), D(2025, 9, 30)),
        ("quarterly", D(2025, 12, 31), "2025Q4", D(2025, 10, 1), D(2025, 12, 31)),
        ("half_yearly", D(2025, 6, 30), "2025H1", D(2025, 1, 1), D(2025, 6, 30)),
        ("half_yearly", D(2025, 7, 1), "2025H2", D(2025, 7, 1), D(2025, 12, 31)),
        ("yearly", D(2025, 5, 5), "2025", D(2025, 1, 1), D(2025, 12, 31)),
    ],
)
def test_each_period_kind_is_a_calendar_period(period, day, label, start, end):
    found = kernel_rounds.round_at(period, 0, day, D(2000, 1, 1), D(2099, 12, 31))
    assert (found.label, found.start, found.end, found.due) == (label, start, end, end)


@pytest.mark.parametrize(
    "period, due_days, end, due",
    [
        ("monthly", 10, D(2025, 1, 31), D(2025, 2, 10)),
        ("monthly", 10, D(2025, 2, 28), D(2025, 3, 10)),
        ("quarterly", 15, D(2025, 3, 31), D(2025, 4, 15)),
        ("half_yearly", 31, D(2025, 6, 30), D(2025, 7, 31)),
        ("yearly", 60, D(2024, 12, 31), D(2025, 3, 1)),
    ],
)
def test_a_round_is_due_some_days_after_its_period_ends(period, due_days, end, due):
    found = kernel_rounds.round_at(period, due_days, end, D(2020, 1, 1), D(2030, 12, 31))
    assert (found.end, found.due) == (end, due)


def test_rounds_are_cut_to_the_plan_and_open_once_their_period_ends():
    # a plan from 15 March 2024 to 30 June 2025, on 1 April 2025: the quarter under way has no round yet
    rounds = kernel_rounds.opened_rounds("quarterly", 10, D(2024, 3, 15), D(2025, 6, 30), D(2025, 4, 1))
    assert [(r.label, r.start, r.end) for r in rounds] == [
        ("2024Q1", D(2024, 3, 15), D(2024, 3, 31)),
        ("2024Q2", D(2024, 4, 1), D(2024, 6, 30)),
        ("2024Q3", D(2024, 7, 1), D(2024, 9, 30)),
        ("2024Q4", D(2024, 10, 1), D(2024, 12, 31)),
        ("2025Q1", D(2025, 1, 1), D(2025, 3, 31)),
    ]
    # a plan ending mid-year: its last yearly round ends with it, and is due from there
    yearly = kernel_rounds.opened_rounds("yearly", 30, D(2024, 1, 1), D(2025, 6, 30), D(2026, 1, 1))
    assert [(r.label, r.end, r.due) for r in yearly] == [
        ("2024", D(2024, 12, 31), D(2025, 1, 30)),
        ("2025", D(2025, 6, 30), D(2025, 7, 30)),
    ]
    assert kernel_rounds.opened_rounds("monthly", 10, D(2025, 1, 1), D(2025, 12, 31), D(2025, 1, 31)) == []
    assert [
        r.label for r in kernel_rounds.opened_rounds("monthly", 0, D(2025, 1, 1), D(2025, 12, 31), D(2025, 2, 1))
    ] == ["2025-01"]


def test_reporting_that_starts_mid_plan_expects_no_earlier_round():
    # an office going live in August 2025 with a plan of 2024–2026: the first round is 2025Q3, whole
    rounds = kernel_rounds.opened_rounds("quarterly", 10, D(2024, 1, 1), D(2026, 12, 31), D(2026, 1, 5), D(2025, 8, 15))
    assert [(r.label, r.start, r.end) for r in rounds] == [
        ("2025Q3", D(2025, 7, 1), D(2025, 9, 30)),
        ("2025Q4", D(2025, 10, 1), D(2025, 12, 31)),
    ]
    # a start on or before the plan's is the plan's
    assert kernel_rounds.plan_rounds("yearly", 0, D(2024, 3, 1), D(2025, 12, 31), D(2020, 1, 1)) == (
        kernel_rounds.plan_rounds("yearly", 0, D(2024, 3, 1), D(2025, 12, 31))
    )
    with pytest.raises(domain.RoundError, match="2025-08-15"):
        domain.find_round("2025Q2", "quarterly", 10, D(2024, 1, 1), D(2026, 12, 31), D(2026, 1, 5), D(2025, 8, 15))


def test_a_round_is_found_by_label_among_those_opened():
    found = domain.find_round("2024H2", "half_yearly", 10, D(2024, 1, 1), D(2026, 12, 31), D(2025, 1, 5))
    assert (found.start, found.end, found.due) == (D(2024, 7, 1), D(2024, 12, 31), D(2025, 1, 10))
    for label in ("2025H1", "2023H2", "2024Q4", "nonsense"):
        with pytest.raises(domain.RoundError):
            domain.find_round(label, "half_yearly", 10, D(2024, 1, 1), D(2026, 12, 31), D(2025, 1, 5))


@pytest.mark.parametrize(
    "submitted_on, today, expected",
    [
        (D(2025, 4, 10), D(2025, 5, 1), "on_time"),  # on the due day itself
        (D(2025, 4, 1), D(2025, 5, 1), "on_time"),
        (D(2025, 4, 11), D(2025, 5, 1), "late"),
        (None, D(2025, 4, 10), "open"),  # still time on the due day
        (None, D(2025, 4, 11), "missing"),
    ],
)
def test_on_time_late_missing_or_open(submitted_on, today, expected):
    assert domain.timeliness(submitted_on, D(2025, 4, 10), today) == expected


def test_a_submission_is_approved_or_returned_with_a_reason_then_resubmitted():
    assert domain.next_submission_status("approve", "submitted", True) == "approved"
    assert domain.next_submission_status("return", "submitted", True, "数值有误") == "returned"
    assert domain.next_submission_status("resubmit", "returned", True) == "submitted"
    for reason in (None, "", "  "):
        with pytest.raises(domain.ReasonRequired):
            domain.next_submission_status("return", "submitted", True, reason)
    for action, status in [("approve", "approved"), ("approve", "returned"), ("return", "approved")]:
        with pytest.raises(domain.TransitionNotAllowed):
            domain.next_submission_status(action, status, True, "x")
    with pytest.raises(domain.TransitionNotAllowed):  # awaiting its review
        domain.next_submission_status("resubmit", "submitted", True)
    # without review there is nothing to approve, and a submission is corrected by submitting again
    with pytest.raises(domain.TransitionNotAllowed):
        domain.next_submission_status("approve", "submitted", False)
    assert domain.next_submission_status("resubmit", "submitted", False) == "submitted"


def test_which_reports_count_in_the_views():
    assert contracts.report_counts("pending", review_required=False)
    assert not contracts.report_counts("pending", review_required=True)
    assert contracts.report_counts("approved", review_required=True)
    assert contracts.report_counts("not_required", review_required=True)  # an officer's own
    assert not contracts.report_counts("returned", review_required=False)


def test_the_contract_names_the_vocabularies_codes():
    fields = contracts.ReportingSettings.model_fields
    assert set(get_args(fields["period"].annotation)) == set(domain.REPORTING_PERIODS.codes)
    assert set(get_args(fields["review"].annotation)) == set(domain.REVIEW_MODES.codes)
    review = contracts.ProgressReportState.model_fields["review"].annotation
    assert set(get_args(review)) == set(domain.REPORT_REVIEWS.codes)
    status = contracts.RoundSubmissionState.model_fields["status"].annotation
    assert set(get_args(status)) == set(domain.SUBMISSION_STATUSES.codes)
    assert set(kernel_rounds.MONTHS_PER_PERIOD) == set(domain.REPORTING_PERIODS.codes)
