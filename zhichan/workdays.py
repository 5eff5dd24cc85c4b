"""Working days (工作日) in mainland China, for statutory handling deadlines.

A working day is a day the State Council's holiday arrangement (国务院办公厅关于部分节假日安排的通知)
makes a working day: Monday to Friday unless it is a public holiday or a day off in lieu, plus the
adjusted working days (调休) that fall on a Saturday or Sunday. The arrangement for each year comes
from the PyPI package ``chinese-calendar``, which carries every year published so far.

The arrangement of a year is published only in the November or December before it, so a deadline
can run past the last year the package knows. Such days count by the weekday rule alone (Monday to
Friday), and the answer says so (``provisional``): the deadline may move when the package learns
the year. Updating the package (a new release of the image) is how the calendar learns a new year;
a service that stores provisional deadlines counts them again when it starts with a calendar that
knows more (the agencies service's complaints: ``services/agencies/domain.py``).

A deadline of *n* working days from a start date is the *n*-th working day after that date: the
start date itself is not counted (期间开始之日不计算在内), whatever kind of day it is.

:class:`WorkdayCalendar` is the calendar as a value — the package's (:data:`CALENDAR`), as it was
before a year was published (:meth:`~WorkdayCalendar.through`), or with a year added
(:meth:`~WorkdayCalendar.with_year`) — so a rule can be shown what a new year changes. The module's
functions answer with :data:`CALENDAR`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType

import chinese_calendar

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Deadline:
    day: date
    provisional: bool  # some day counted lies outside the published arrangements


@dataclass(frozen=True)
class WorkdayCalendar:
    """The holiday arrangements of the years ``first_year`` to ``last_year``.

    ``days_off``: every day of a holiday break (weekend days included), with the holiday's name;
    ``days_worked``: the weekend days made working days (调休), with the holiday they make up for.
    """

    first_year: int
    last_year: int
    days_off: Mapping[date, str] = field(repr=False)
    days_worked: Mapping[date, str] = field(repr=False)

    @classmethod
    def from_package(cls) -> WorkdayCalendar:
        """Every year ``chinese-calendar`` carries."""
        days_off = {day: str(name) for day, name in chinese_calendar.holidays.items()}
        days_worked = {day: str(name) for day, name in chinese_calendar.workdays.items() if day.weekday() >= 5}
        return cls(
            min(days_off).year,
            max(days_off).year,
            MappingProxyType(days_off),
            MappingProxyType(days_worked),
        )

    def through(self, year: int) -> WorkdayCalendar:
        """This calendar as it was while ``year`` was the last year published."""
        if not self.first_year <= year <= self.last_year:
            raise ValueError(f"{year} lies outside {self.first_year}–{self.last_year}")
        return WorkdayCalendar(
            self.first_year,
            year,
            MappingProxyType({d: n for d, n in self.days_off.items() if d.year <= year}),
            MappingProxyType({d: n for d, n in self.days_worked.items() if d.year <= year}),
        )

    def with_year(self, year: int, days_off: Mapping[date, str], days_worked: Mapping[date, str]) -> WorkdayCalendar:
        """This calendar with the next year's arrangement added, as the State Council publishes it:
        the days of each holiday break, and the weekend days worked in their stead."""
        if year != self.last_year + 1:
            raise ValueError(f"the next year to add is {self.last_year + 1}, not {year}")
        if any(day.year != year for day in (*days_off, *days_worked)):
            raise ValueError(f"every day of the {year} arrangement lies in {year}")
        if weekdays := sorted(day for day in days_worked if day.weekday() < 5):
            raise ValueError(f"an adjusted working day falls on a weekend, not on {weekdays[0].isoformat()}")
        if both := sorted(set(days_off) & set(days_worked)):
            raise ValueError(f"{both[0].isoformat()} is both a day off and a day worked")
        return WorkdayCalendar(
            self.first_year,
            year,
            MappingProxyType({**self.days_off, **days_off}),
            MappingProxyType({**self.days_worked, **days_worked}),
        )

    def is_known(self, day: date) -> bool:
        """Whether the holiday arrangement of ``day``'s year is published (and in this calendar)."""
        return self.first_year <= day.year <= self.last_year

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day; outside the known years, Monday to Friday."""
        if day in self.days_worked:
            return True
        if day in self.days_off:
            return False
        return day.weekday() < 5

    def holiday_name(self, day: date) -> str | None:
        """The holiday or adjusted working day ``day`` belongs to (e.g. "National Day"), if any."""
        return self.days_off.get(day) or self.days_worked.get(day)

    def add_working_days(self, start: date, days: int) -> Deadline:
        """The ``days``-th working day after ``start`` (``start`` itself not counted)."""
        if days < 0:
            raise ValueError("a number of working days is never negative")
        day, counted, provisional = start, 0, False
        while counted < days:
            day += ONE_DAY
            provisional = provisional or not self.is_known(day)
            if self.is_working_day(day):
                counted += 1
        return Deadline(day, provisional)

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days lie after ``start`` up to and including ``end`` (0 if end ≤ start)."""
        count, day = 0, start
        while day < end:
            day += ONE_DAY
            if self.is_working_day(day):
                count += 1
        return count


CALENDAR = WorkdayCalendar.from_package()
FIRST_KNOWN_YEAR = CALENDAR.first_year
LAST_KNOWN_YEAR = CALENDAR.last_year


def is_known(day: date) -> bool:
    return CALENDAR.is_known(day)


def is_working_day(day: date) -> bool:
    return CALENDAR.is_working_day(day)


def holiday_name(day: date) -> str | None:
    return CALENDAR.holiday_name(day)


def add_working_days(start: date, days: int) -> Deadline:
    return CALENDAR.add_working_days(start, days)


def working_days_between(start: date, end: date) -> int:
    return CALENDAR.working_days_between(start, end)
