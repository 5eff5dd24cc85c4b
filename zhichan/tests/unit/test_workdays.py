from datetime import date

import pytest

from zhichan.workdays import (
    LAST_KNOWN_YEAR,
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
