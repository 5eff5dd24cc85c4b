from datetime import date, timedelta

import chinese_calendar
import pytest

from zhichan.workdays import (
    CALENDAR,
    FIRST_KNOWN_YEAR,
    LAST_KNOWN_YEAR,
    Deadline,
    add_working_days,
    holiday_name,
    is_known,
    is_working_day,
    working_days_between,
)


def test_national_day_2025_skips_the_holiday_and_counts_both_adjusted_weekend_days():
    # 2025: 1–8 October off; Sunday 28 September and Saturday 11 October are working days (调休).
    assert is_working_day(date(2025, 9, 28)) and date(2025, 9, 28).weekday() == 6
    assert is_working_day(date(2025, 10, 11)) and date(2025, 10, 11).weekday() == 5
    assert not any(is_working_day(date(2025, 10, d)) for d in range(1, 9))
    assert holiday_name(date(2025, 10, 6)) == "Mid-autumn Festival"
    # received Friday 26 September: 28.9, 29.9, 30.9, 9.10, 10.10, 11.10, 13.10 … 23.10 is the 15th
    deadline = add_working_days(date(2025, 9, 26), 15)
    assert deadline.day == date(2025, 10, 23) and not deadline.provisional
    assert working_days_between(date(2025, 9, 26), date(2025, 10, 23)) == 15


def test_spring_festival_2026_counts_the_adjusted_saturdays():
    # 2026: 15–23 February off; Saturdays 14 and 28 February are working days.
    assert is_working_day(date(2026, 2, 14)) and is_working_day(date(2026, 2, 28))
    assert not is_working_day(date(2026, 2, 16)) and not is_working_day(date(2026, 2, 23))
    assert add_working_days(date(2026, 2, 13), 1).day == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 13), 2).day == date(2026, 2, 24)
    assert add_working_days(date(2026, 2, 13), 6).day == date(2026, 2, 28)


def test_ordinary_weekends_are_not_working_days_and_the_start_day_is_not_counted():
    assert not is_working_day(date(2025, 11, 22)) and not is_working_day(date(2025, 11, 23))
    assert add_working_days(date(2025, 11, 21), 1).day == date(2025, 11, 24)  # Friday → Monday
    assert add_working_days(date(2025, 11, 22), 1).day == date(2025, 11, 24)  # received on a Saturday
    assert add_working_days(date(2025, 11, 24), 0).day == date(2025, 11, 24)
    assert working_days_between(date(2025, 11, 24), date(2025, 11, 24)) == 0
    with pytest.raises(ValueError):
        add_working_days(date(2025, 11, 24), -1)


def test_past_the_published_years_only_weekends_count_and_the_deadline_is_provisional():
    first_unknown = date(LAST_KNOWN_YEAR + 1, 1, 1)
    assert not is_known(first_unknown) and holiday_name(first_unknown) is None
    assert is_working_day(first_unknown) == (first_unknown.weekday() < 5)
    within = add_working_days(date(LAST_KNOWN_YEAR, 3, 2), 15)
    assert not within.provisional
    across = add_working_days(date(LAST_KNOWN_YEAR, 12, 20), 15)
    assert across.provisional and across.day.year == LAST_KNOWN_YEAR + 1


def test_the_calendar_answers_as_the_package_does_on_every_day_it_knows():
    day, last = date(FIRST_KNOWN_YEAR, 1, 1), date(LAST_KNOWN_YEAR, 12, 31)
    while day <= last:
        assert CALENDAR.is_working_day(day) == chinese_calendar.is_workday(day), day
        assert CALENDAR.holiday_name(day) == chinese_calendar.get_holiday_detail(day)[1], day
        day += timedelta(days=1)


def test_a_calendar_through_an_earlier_year_counts_the_later_years_by_weekday_and_provisionally():
    before = CALENDAR.through(2025)
    assert (before.first_year, before.last_year) == (FIRST_KNOWN_YEAR, 2025)
    assert not before.is_known(date(2026, 2, 16)) and before.is_working_day(date(2026, 2, 16))  # a Monday
    assert not before.is_working_day(date(2026, 2, 14))  # the Saturday worked in 2026, unknown in 2025
    assert before.holiday_name(date(2026, 2, 16)) is None
    # from Friday 13 February 2026, 2 working days: the weekday rule gives Tuesday 17 February
    assert before.add_working_days(date(2026, 2, 13), 2) == Deadline(date(2026, 2, 17), provisional=True)
    assert CALENDAR.add_working_days(date(2026, 2, 13), 2) == Deadline(date(2026, 2, 24), provisional=False)
    with pytest.raises(ValueError):
        CALENDAR.through(LAST_KNOWN_YEAR + 1)


def test_a_year_added_to_the_calendar_is_known_and_checked():
    before = CALENDAR.through(2025)
    year_2026 = {d: n for d, n in CALENDAR.days_off.items() if d.year == 2026}
    worked_2026 = {d: n for d, n in CALENDAR.days_worked.items() if d.year == 2026}
    after = before.with_year(2026, year_2026, worked_2026)
    assert after.last_year == 2026
    assert after.add_working_days(date(2026, 2, 13), 6) == CALENDAR.add_working_days(date(2026, 2, 13), 6)
    with pytest.raises(ValueError, match="next year to add is 2026"):
        before.with_year(2027, {}, {})
    with pytest.raises(ValueError, match="lies in 2026"):
        before.with_year(2026, {date(2027, 1, 1): "New Year's Day"}, {})
    with pytest.raises(ValueError, match="falls on a weekend"):
        before.with_year(2026, {}, {date(2026, 2, 16): "Spring Festival"})  # a Monday
    with pytest.raises(ValueError, match="both a day off and a day worked"):
        before.with_year(2026, {date(2026, 2, 14): "Spring Festival"}, {date(2026, 2, 14): "Spring Festival"})
