"""Working days (工作日) in mainland China, for statutory handling deadlines.

A working day is a day the State Council's holiday arrangement (国务院办公厅关于部分节假日安排的通知)
makes a working day: Monday to Friday unless it is a public holiday or a day off in lieu, plus the
adjusted working days (调休) that fall on a Saturday or Sunday. The arrangement for each year comes
from the PyPI package ``chinese-calendar``, which carries every year published so far.

The arrangement of a year is published only in the November or December before it, so a deadline
can run past the last year the package knows. Such days count by the weekday rule alone (Monday to
Friday), and the answer says so (``provisional``): the deadline may move when the package learns
the year. Updating the package is how the calendar learns a new year.

A deadline of *n* working days from a start date is the *n*-th working day after that date: the
start date itself is not counted (期间开始之日不计算在内), whatever kind of day it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar

FIRST_KNOWN_YEAR = min(chinese_calendar.holidays).year
LAST_KNOWN_YEAR = max(chinese_calendar.holidays).year
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Deadline:
    day: date
    provisional: bool  # some day counted lies outside the published arrangements


def is_known(day: date) -> bool:
    """Whether the holiday arrangement of ``day``'s year is published (and in the package)."""
    return FIRST_KNOWN_YEAR <= day.year <= LAST_KNOWN_YEAR


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day; outside the known years, Monday to Friday."""
    if is_known(day):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def holiday_name(day: date) -> str | None:
    """The holiday or adjusted working day ``day`` belongs to (e.g. "National Day"), if any."""
    if not is_known(day):
        return None
    return chinese_calendar.get_holiday_detail(day)[1]


def add_working_days(start: date, days: int) -> Deadline:
    """The ``days``-th working day after ``start`` (``start`` itself not counted)."""
    if days < 0:
        raise ValueError("a number of working days is never negative")
    day, counted, provisional = start, 0, False
    while counted < days:
        day += ONE_DAY
        provisional = provisional or not is_known(day)
        if is_working_day(day):
            counted += 1
    return Deadline(day, provisional)


def working_days_between(start: date, end: date) -> int:
    """How many working days lie after ``start`` up to and including ``end`` (0 if end ≤ start)."""
    count, day = 0, start
    while day < end:
        day += ONE_DAY
        if is_working_day(day):
            count += 1
    return count
