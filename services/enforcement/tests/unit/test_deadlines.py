"""Deadline arithmetic (办案期限), with dates worked out by hand."""

from datetime import date

import pytest

from services.enforcement.domain import (
    DEFAULT_RULES,
    CaseFile,
    DeadlineRule,
    InvalidStep,
    StepRefused,
    Versioned,
    add_months,
    in_force,
    new_case,
)

TODAY = date(2030, 1, 1)
PENALTY = DEFAULT_RULES["administrative_penalty"]
ADJUDICATION = DEFAULT_RULES["administrative_adjudication"]
MEDIATION = DEFAULT_RULES["mediation"]


def case(filed: date, rule: DeadlineRule = PENALTY) -> CaseFile:
    return new_case(rule.procedure, filed, rule, "national default rule", TODAY)


def run(c: CaseFile, *steps) -> CaseFile:
    for action, on, details in steps:
        c = c.apply(action, on, TODAY, **details)
    return c


def investigating(c: CaseFile, on: date) -> CaseFile:
    return c.apply("investigate", on, TODAY)


def test_penalty_is_90_calendar_days_from_filing():
    c = case(date(2026, 1, 10))
    assert c.base_due == date(2026, 4, 10)
    assert c.due_date == date(2026, 4, 10)
    assert "90 days from filing on 2026-01-10" in c.basis()


def test_extension_adds_30_days_to_the_original_deadline():
    c = run(case(date(2026, 1, 10)), ("extend", date(2026, 4, 1), {"approver": "王局长", "reason": "案情复杂"}))
    assert c.due_date == date(2026, 5, 10)
    assert "Extended by 30 days (approved by 王局长 on 2026-04-01) → 2026-05-10" in c.basis()


def test_several_suspensions_add_their_days():
    c = investigating(case(date(2026, 1, 10)), date(2026, 1, 12))
    c = run(
        c,
        ("suspend", date(2026, 2, 1), {"reason": "等待专利无效宣告结论"}),
        ("resume", date(2026, 2, 11), {}),
        ("suspend", date(2026, 3, 1), {"reason": "鉴定"}),
        ("resume", date(2026, 3, 6), {}),
    )
    assert c.suspended_days() == 15
    assert c.due_date == date(2026, 4, 25)
    assert "15 days suspended (2026-02-01–2026-02-11, 2026-03-01–2026-03-06) do not count → 2026-04-25" in c.basis()


def test_suspension_with_extension_counts_both():
    c = investigating(case(date(2026, 1, 10)), date(2026, 1, 12))
    c = run(
        c,
        ("suspend", date(2026, 2, 1), {"reason": "鉴定"}),
        ("resume", date(2026, 2, 11), {}),
        ("extend", date(2026, 4, 15), {"approver": "王局长", "reason": "案情复杂"}),
    )
    assert c.due_date == date(2026, 5, 20)


def test_a_suspension_spanning_the_original_deadline_keeps_the_case_on_time():
    c = investigating(case(date(2026, 1, 10)), date(2026, 1, 12))
    c = c.apply("suspend", date(2026, 4, 1), TODAY, reason="等待专利无效宣告结论")
    assert c.due_date is None  # the clock is stopped
    assert "Suspended since 2026-04-01" in c.basis()
    assert c.due_as_of(date(2026, 4, 15)) == date(2026, 4, 24)
    assert not c.overdue_on(date(2026, 4, 15))  # past the original deadline, but suspended before it
    c = c.apply("resume", date(2026, 4, 20), TODAY)
    assert c.due_date == date(2026, 4, 29)
    assert not c.overdue_on(date(2026, 4, 29)) and c.overdue_on(date(2026, 4, 30))
    c = run(c, ("decide", date(2026, 4, 28), {"outcome": "penalty_decision"}), ("close", date(2026, 4, 29), {}))
    assert c.closed_on_time is True and c.overdue_periods() == []


def test_a_suspension_after_the_deadline_does_not_hide_an_overdue_case():
    c = investigating(case(date(2026, 1, 10)), date(2026, 1, 12))
    c = c.apply("suspend", date(2026, 4, 20), TODAY, reason="鉴定")
    assert c.overdue_on(date(2026, 4, 25))
    assert c.overdue_periods() == [(date(2026, 4, 11), None)]
    assert c.overdue_since == date(2026, 4, 11)


def test_suspended_and_resumed_the_same_day_costs_nothing():
    c = investigating(case(date(2026, 1, 10)), date(2026, 1, 12))
    c = run(c, ("suspend", date(2026, 2, 1), {"reason": "x"}), ("resume", date(2026, 2, 1), {}))
    assert c.due_date == date(2026, 4, 10)


@pytest.mark.parametrize(
    "filed, due",
    [
        (date(2025, 12, 15), date(2026, 3, 15)),  # across the year end
        (date(2025, 10, 31), date(2026, 1, 29)),
        (date(2027, 12, 1), date(2028, 2, 29)),  # into a leap February
        (date(2028, 1, 1), date(2028, 3, 31)),
    ],
)
def test_days_across_year_ends_and_leap_years(filed, due):
    assert case(filed).due_date == due


@pytest.mark.parametrize(
    "filed, base, extended",
    [
        (date(2026, 1, 10), date(2026, 4, 10), date(2026, 5, 10)),
        (date(2025, 10, 15), date(2026, 1, 15), date(2026, 2, 15)),  # across the year end
        (date(2026, 1, 31), date(2026, 4, 30), date(2026, 5, 30)),  # no 31 April: the month's last day
        (date(2025, 11, 30), date(2026, 2, 28), date(2026, 3, 28)),  # extension counts from the 28th
        (date(2023, 11, 30), date(2024, 2, 29), date(2024, 3, 29)),  # leap February
        (date(2025, 12, 31), date(2026, 3, 31), date(2026, 4, 30)),
    ],
)
def test_adjudication_counts_calendar_months(filed, base, extended):
    c = case(filed, ADJUDICATION)
    assert c.due_date == base
    c = c.apply("extend", base, TODAY, approver="李处长", reason="需要技术鉴定")
    assert c.due_date == extended
    assert "3 months from filing" in c.basis() and "Extended by 1 month " in c.basis()


def test_month_arithmetic():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(date(2026, 5, 20), 60) == date(2031, 5, 20)


def test_mediation_is_30_days_and_cannot_be_extended():
    c = case(date(2026, 3, 1), MEDIATION)
    assert c.due_date == date(2026, 3, 31)
    with pytest.raises(StepRefused, match="allows no extension"):
        c.apply("extend", date(2026, 3, 5), TODAY, approver="a", reason="b")
    assert "Not extended" not in c.basis()


def test_an_extension_is_granted_once_and_before_the_deadline():
    c = case(date(2026, 1, 10))
    with pytest.raises(InvalidStep, match="by the deadline") as late:
        c.apply("extend", date(2026, 4, 11), TODAY, approver="a", reason="b")
    assert late.value.loc == "date"
    c = c.apply("extend", date(2026, 4, 10), TODAY, approver="a", reason="b")  # the last day is still in time
    with pytest.raises(StepRefused, match="already extended on 2026-04-10"):
        c.apply("extend", date(2026, 4, 12), TODAY, approver="a", reason="b")


def test_the_deadline_as_it_stood_on_a_past_date():
    c = investigating(case(date(2026, 1, 10)), date(2026, 1, 12))
    c = run(
        c,
        ("suspend", date(2026, 2, 1), {"reason": "x"}),
        ("resume", date(2026, 2, 11), {}),
        ("extend", date(2026, 4, 15), {"approver": "a", "reason": "b"}),
    )
    assert c.due_as_of(date(2026, 1, 20)) == date(2026, 4, 10)  # before the suspension
    assert c.due_as_of(date(2026, 2, 5)) == date(2026, 4, 14)  # four days into it
    assert c.due_as_of(date(2026, 4, 14)) == date(2026, 4, 20)  # not yet extended
    assert c.due_as_of(date(2026, 4, 15)) == date(2026, 5, 20)


def test_overdue_periods_of_a_case_closed_late():
    c = investigating(case(date(2026, 1, 10)), date(2026, 1, 12))
    c = run(c, ("decide", date(2026, 5, 1), {"outcome": "penalty_decision"}), ("close", date(2026, 5, 3), {}))
    assert c.closed_on_time is False
    assert c.overdue_periods() == [(date(2026, 4, 11), date(2026, 5, 2))]
    assert c.overdue_since is None
    assert c.overdue_on(date(2026, 5, 2)) and not c.overdue_on(date(2026, 5, 3))


def test_open_case_predicts_when_it_becomes_overdue():
    c = case(date(2026, 1, 10))
    assert c.overdue_periods() == [(date(2026, 4, 11), None)]
    assert not c.overdue_on(date(2026, 4, 10)) and c.overdue_on(date(2026, 4, 11))
    assert not c.overdue_on(date(2026, 1, 9))  # not yet filed


def test_transfer_and_withdrawal_close_the_case_and_end_a_suspension():
    c = investigating(case(date(2026, 1, 10)), date(2026, 1, 12))
    c = c.apply("suspend", date(2026, 3, 1), TODAY, reason="x")
    transferred = c.apply("transfer", date(2026, 3, 11), TODAY, to="police", receiving_body="市公安局")
    assert transferred.ended_on == date(2026, 3, 11) and transferred.suspended_days() == 10
    assert transferred.due_date == date(2026, 4, 20) and transferred.closed_on_time is True
    withdrawn = c.apply("withdraw", date(2026, 5, 1), TODAY)
    assert withdrawn.suspensions[-1].end == date(2026, 5, 1)


def test_a_region_rule_in_force_follows_dates_and_ancestors():
    default = Versioned(PENALTY)
    city_rule = DeadlineRule("administrative_penalty", 60, "days", 30, "days")
    district_rule = DeadlineRule("administrative_penalty", 45, "days", 15, "days")
    district = [Versioned(district_rule, "320311", date(2026, 6, 1))]
    city = [Versioned(city_rule, "320300", date(2026, 1, 1)), Versioned(PENALTY, "320300", date(2026, 9, 1))]
    chain = [district, city]
    assert in_force(chain, date(2025, 12, 31), default) is default
    assert in_force(chain, date(2026, 1, 1), default).value == city_rule
    assert in_force(chain, date(2026, 6, 1), default).value == district_rule
    assert in_force([[], city], date(2026, 9, 1), default).value == PENALTY
    same_day = [Versioned(city_rule, "320300", date(2026, 1, 1)), Versioned(district_rule, "320300", date(2026, 1, 1))]
    assert in_force([same_day], date(2026, 2, 1), default).value == district_rule  # the later one set


def test_filing_in_the_future_is_refused():
    with pytest.raises(InvalidStep) as exc:
        new_case("administrative_penalty", date(2030, 1, 2), PENALTY, "national default rule", TODAY)
    assert exc.value.loc == "filed_date"
