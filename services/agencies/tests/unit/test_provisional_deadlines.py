"""A complaint's handling deadline counted into a year whose holiday arrangement is not yet known is
provisional, and is counted again once the calendar knows the year.

The 2027 arrangement below is the test's own, of the shape the State Council publishes (the real
one is whatever its notice says, and reaches the platform with the ``chinese-calendar`` package):
New Year's Day Friday 1 – Sunday 3 January, off; Spring Festival Friday 5 February (除夕) – Saturday
13 February, off, with Sunday 31 January and Saturday 20 February worked in their stead. The
calendar before it is the package's as it was while 2026 was the last year published, so these
tests hold whatever the package learns later."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.agencies.domain import DEFAULT_HANDLING_WORKING_DAYS, handling_deadline, recounted_deadline
from zhichan.workdays import CALENDAR, Deadline

BEFORE_2027 = CALENDAR.through(2026)
DAYS_OFF_2027 = {date(2027, 1, 1) + timedelta(days=n): "New Year's Day" for n in range(3)} | {
    date(2027, 2, 5) + timedelta(days=n): "Spring Festival" for n in range(9)
}
DAYS_WORKED_2027 = {date(2027, 1, 31): "Spring Festival", date(2027, 2, 20): "Spring Festival"}
WITH_2027 = BEFORE_2027.with_year(2027, DAYS_OFF_2027, DAYS_WORKED_2027)


def recount(
    received_on: date,
    deadline: Deadline,
    calendar,
    working_days: int = DEFAULT_HANDLING_WORKING_DAYS,
    known_through: int | None = 2026,
):
    return recounted_deadline(
        received_on=received_on,
        working_days=working_days,
        deadline=deadline.day,
        provisional=deadline.provisional,
        known_through=known_through,
        calendar=calendar,
    )


def test_the_spring_festival_moves_a_deadline_counted_before_the_2027_arrangement_was_known():
    received = date(2027, 1, 22)  # a Friday, the package not yet updated for 2027
    # By the weekday rule alone: 25–29 January (5), 1–5 February (10), 8–12 February (15).
    before = handling_deadline(received, 15, BEFORE_2027)
    assert before == Deadline(date(2027, 2, 12), provisional=True)
    # With the arrangement: 25–29 January (5), Sunday 31 January worked (6), 1–4 February (10);
    # 5–13 February off; 15–19 February (15). A week later, and final.
    after = recount(received, before, WITH_2027)
    assert after == Deadline(date(2027, 2, 19), provisional=False)
    assert after == handling_deadline(received, 15, WITH_2027)


def test_new_year_s_day_moves_a_deadline_counted_across_the_year_end():
    received = date(2026, 12, 22)  # a Tuesday
    # 23–31 December (7); Friday 1 January by the weekday rule (8); 4–8 January (13); 11, 12 (15).
    before = handling_deadline(received, 15, BEFORE_2027)
    assert before == Deadline(date(2027, 1, 12), provisional=True)
    # 1 January off: 23–31 December (7); 4–8 January (12); 11, 12, 13 January (15).
    assert recount(received, before, WITH_2027) == Deadline(date(2027, 1, 13), provisional=False)


def test_a_longer_handling_period_moves_by_both_holidays():
    received = date(2026, 12, 28)  # a Monday; an office allowing 30 working days
    before = handling_deadline(received, 30, BEFORE_2027)
    assert before == Deadline(date(2027, 2, 8), provisional=True)
    # 1 January off, 31 January worked, 5–13 February off: Tuesday 16 February, eight days later.
    assert recount(received, before, WITH_2027, working_days=30) == Deadline(date(2027, 2, 16), provisional=False)


def test_counting_again_with_the_same_calendar_changes_nothing():
    received = date(2027, 1, 22)
    before = handling_deadline(received, 15, BEFORE_2027)
    assert recount(received, before, BEFORE_2027) is None, "the calendar learnt nothing: the deadline stands"
    assert recount(received, before, BEFORE_2027, known_through=None) is None, "nor when not recorded"
    after = recount(received, before, WITH_2027)
    assert recount(received, after, WITH_2027, known_through=2027) is None, "counted again, it stays where it moved"


def test_a_calendar_that_knows_fewer_years_never_undoes_a_newer_count():
    # 100 working days from Friday 25 September 2026 run into February 2027: counted with 2026
    # known, the deadline is provisional; a replica of an older release (2025 the last year it
    # knows) counts otherwise, ignoring National Day 2026, and must leave it alone.
    received = date(2026, 9, 25)
    counted = handling_deadline(received, 100, BEFORE_2027)
    assert counted.provisional
    assert handling_deadline(received, 100, CALENDAR.through(2025)) != counted
    assert recount(received, counted, CALENDAR.through(2025), working_days=100, known_through=2026) is None
    # a deadline whose calendar was not recorded is counted again by any calendar that differs
    assert recount(received, counted, CALENDAR.through(2025), working_days=100, known_through=None) is not None


def test_a_final_deadline_is_never_counted_again():
    received = date(2026, 9, 25)
    final = handling_deadline(received, 15, CALENDAR)
    assert not final.provisional
    # even shown a calendar that would count it otherwise (one that knows nothing of 2026's holidays)
    assert handling_deadline(received, 15, CALENDAR.through(2025)) != final
    assert recount(received, final, CALENDAR.through(2025), known_through=None) is None
    assert recount(received, final, WITH_2027) is None


def test_a_deadline_still_past_the_known_years_moves_but_stays_provisional():
    received = date(2026, 9, 25)  # 100 working days: into February 2027
    counted_in_2025 = handling_deadline(received, 100, CALENDAR.through(2025))
    assert counted_in_2025 == Deadline(date(2027, 2, 12), provisional=True)
    # The 2026 arrangement published: National Day (1–7 October off, Saturday 10 October worked)
    # now counts, 2027 still does not.
    counted_in_2026 = recount(received, counted_in_2025, BEFORE_2027, working_days=100, known_through=2025)
    assert counted_in_2026 == Deadline(date(2027, 2, 18), provisional=True)
    assert recount(received, counted_in_2026, WITH_2027, working_days=100, known_through=2026) == Deadline(
        date(2027, 2, 25), provisional=False
    )


@pytest.mark.parametrize("working_days", [1, 5, 15, 30, 60, 250])
def test_a_recounted_deadline_is_the_one_a_complaint_received_now_would_get(working_days):
    for offset in range(0, 120, 7):
        received = date(2026, 11, 1) + timedelta(days=offset)
        before = handling_deadline(received, working_days, BEFORE_2027)
        after = recount(received, before, WITH_2027, working_days=working_days)
        expected = handling_deadline(received, working_days, WITH_2027)
        assert (after or before) == expected, received
