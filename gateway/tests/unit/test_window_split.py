"""A window of days cut into whole years (read from series_yearly), the whole months at their
edges (series_monthly) and the partial months' days at its edges (series_daily): every day of
the window exactly once."""

import random
from datetime import date, timedelta

import pytest

from gateway.metrics import WindowParts, covering_ranges, read_ranges, split_months, split_window

D = date


def intervals_of(parts: WindowParts, first_data_day: date = D(2015, 1, 1)) -> list[tuple[date, date]]:
    """The parts as day intervals, in order (a window from the beginning: from ``first_data_day``)."""
    intervals = list(parts.days)
    if parts.months is not None:
        first, last = parts.months
        assert (first is None or first.day == 1) and last.day == 1 and (first is None or first <= last)
        following = (last + timedelta(days=32)).replace(day=1)
        intervals.append((first or first_data_day, following - timedelta(days=1)))
    for start, end in parts.days:
        assert start <= end and start.replace(day=1) == end.replace(day=1)  # within one month
    return sorted(intervals)


@pytest.mark.parametrize(
    ("start", "end", "parts"),
    [
        # A level at a month's last day: whole months only.
        (None, D(2025, 6, 30), WindowParts((None, D(2025, 6, 1)))),
        # A level mid-month: the months before it, and its month's days so far.
        (None, D(2025, 6, 15), WindowParts((None, D(2025, 5, 1)), ((D(2025, 6, 1), D(2025, 6, 15)),))),
        # A level at a month's first day: that one day.
        (None, D(2025, 6, 1), WindowParts((None, D(2025, 5, 1)), ((D(2025, 6, 1), D(2025, 6, 1)),))),
        # A year: twelve whole months.
        (D(2025, 1, 1), D(2025, 12, 31), WindowParts((D(2025, 1, 1), D(2025, 12, 1)))),
        # This year to a mid-month date.
        (
            D(2025, 1, 1),
            D(2025, 6, 15),
            WindowParts((D(2025, 1, 1), D(2025, 5, 1)), ((D(2025, 6, 1), D(2025, 6, 15)),)),
        ),
        # Starting and ending mid-month, months between.
        (
            D(2024, 11, 10),
            D(2025, 2, 20),
            WindowParts(
                (D(2024, 12, 1), D(2025, 1, 1)),
                ((D(2024, 11, 10), D(2024, 11, 30)), (D(2025, 2, 1), D(2025, 2, 20))),
            ),
        ),
        # Mid-month to mid-next-month: no whole month, two edges.
        (
            D(2024, 1, 20),
            D(2024, 2, 10),
            WindowParts(None, ((D(2024, 1, 20), D(2024, 1, 31)), (D(2024, 2, 1), D(2024, 2, 10)))),
        ),
        # Starting mid-month, ending at a month's end (a leap February).
        (
            D(2024, 1, 20),
            D(2024, 2, 29),
            WindowParts((D(2024, 2, 1), D(2024, 2, 1)), ((D(2024, 1, 20), D(2024, 1, 31)),)),
        ),
        # Within one month.
        (D(2025, 3, 5), D(2025, 3, 9), WindowParts(None, ((D(2025, 3, 5), D(2025, 3, 9)),))),
        (D(2025, 3, 1), D(2025, 3, 30), WindowParts(None, ((D(2025, 3, 1), D(2025, 3, 30)),))),
        (D(2025, 3, 2), D(2025, 3, 31), WindowParts(None, ((D(2025, 3, 2), D(2025, 3, 31)),))),
        (D(2025, 3, 1), D(2025, 3, 31), WindowParts((D(2025, 3, 1), D(2025, 3, 1)))),
        (D(2025, 3, 31), D(2025, 3, 31), WindowParts(None, ((D(2025, 3, 31), D(2025, 3, 31)),))),
        # Across a year's end, on month boundaries.
        (D(2024, 12, 1), D(2025, 1, 31), WindowParts((D(2024, 12, 1), D(2025, 1, 1)))),
        # Empty: ends before it starts.
        (D(2025, 3, 2), D(2025, 3, 1), WindowParts(None)),
        # The earliest date there is.
        (None, date.min, WindowParts(None, ((date.min, date.min),))),
    ],
)
def test_split_window(start, end, parts):
    assert split_window(start, end) == parts


def _check_covers_exactly(start: date | None, end: date) -> None:
    """The parts follow each other from the window's first day to its last: no day missing, none twice."""
    intervals = intervals_of(split_window(start, end))
    assert intervals[0][0] == (start or D(2015, 1, 1)) and intervals[-1][1] == end, (start, end, intervals)
    for (_a, previous_end), (next_start, _b) in zip(intervals, intervals[1:], strict=False):
        assert next_start == previous_end + timedelta(days=1), (start, end, intervals)


def test_every_window_around_month_edges_covers_its_days_exactly_once():
    # Every window of a leap year's first quarter and the year's end around it.
    days = [D(2023, 12, 1) + timedelta(days=n) for n in range(130)]
    for i, start in enumerate(days):
        _check_covers_exactly(None, start)
        for end in days[i:]:
            _check_covers_exactly(start, end)


def test_random_long_windows_cover_their_days_exactly_once():
    rng = random.Random(9)
    for _ in range(20_000):
        a, b = sorted(D(2015, 1, 1) + timedelta(days=rng.randrange(4000)) for _ in range(2))
        _check_covers_exactly(a, b)
        _check_covers_exactly(None, b)


def test_covering_ranges_joins_overlapping_and_adjacent_ranges():
    ranges = {
        (D(2025, 6, 1), D(2025, 6, 15)),
        (D(2025, 6, 10), D(2025, 6, 20)),
        (D(2025, 6, 21), D(2025, 6, 22)),  # adjacent: joined
        (D(2025, 1, 10), D(2025, 1, 31)),
    }
    assert covering_ranges(ranges, 16) == [(D(2025, 1, 10), D(2025, 1, 31)), (D(2025, 6, 1), D(2025, 6, 22))]
    assert covering_ranges(set(), 16) == []


def test_covering_ranges_past_the_most_joins_those_with_the_shortest_gaps():
    ranges = {(D(2025, 1, 1), D(2025, 1, 2)), (D(2025, 1, 5), D(2025, 1, 6)), (D(2025, 3, 1), D(2025, 3, 2))}
    assert covering_ranges(ranges, 2) == [(D(2025, 1, 1), D(2025, 1, 6)), (D(2025, 3, 1), D(2025, 3, 2))]
    assert covering_ranges(ranges, 1) == [(D(2025, 1, 1), D(2025, 3, 2))]


@pytest.mark.parametrize(
    ("first", "last", "years", "months"),
    [
        # A level at a month's end mid-year: the years before, that year's months.
        (None, D(2025, 5, 1), (None, D(2024, 1, 1)), ((D(2025, 1, 1), D(2025, 5, 1)),)),
        # A level at a year's end: years only.
        (None, D(2024, 12, 1), (None, D(2024, 1, 1)), ()),
        # A plan's years to a month mid-year.
        (D(2021, 1, 1), D(2025, 5, 1), (D(2021, 1, 1), D(2024, 1, 1)), ((D(2025, 1, 1), D(2025, 5, 1)),)),
        # Months at both edges.
        (
            D(2020, 3, 1),
            D(2023, 2, 1),
            (D(2021, 1, 1), D(2022, 1, 1)),
            ((D(2020, 3, 1), D(2020, 12, 1)), (D(2023, 1, 1), D(2023, 2, 1))),
        ),
        # One whole year.
        (D(2024, 1, 1), D(2024, 12, 1), (D(2024, 1, 1), D(2024, 1, 1)), ()),
        # No whole year: one run of months, within a year or across its end.
        (D(2025, 2, 1), D(2025, 5, 1), None, ((D(2025, 2, 1), D(2025, 5, 1)),)),
        (D(2024, 12, 1), D(2025, 1, 1), None, ((D(2024, 12, 1), D(2025, 1, 1)),)),
        (D(2024, 2, 1), D(2024, 12, 1), None, ((D(2024, 2, 1), D(2024, 12, 1)),)),
        # Since the beginning, before any whole year there is.
        (None, date.min.replace(month=6), None, ((date.min, date.min.replace(month=6)),)),
    ],
)
def test_split_months(first, last, years, months):
    assert split_months(first, last) == (years, months)


def _check_reads_cover_exactly(start: date | None, end: date) -> None:
    """The years, months and days read, less the days subtracted, count every day of the window
    exactly once and no other day; a day is subtracted only inside a month read whole, and only
    when that reads fewer days than the month's days in the window."""
    ranges = read_ranges(start, end)
    counted: list[tuple[date, date, int]] = [(a, b, 1) for a, b in ranges.days]
    if ranges.years is not None:
        first, last = ranges.years
        assert (first is None or (first.month, first.day) == (1, 1)) and (last.month, last.day) == (1, 1)
        counted.append((first or D(2015, 1, 1), D(last.year, 12, 31), 1))
    whole_months = set()
    for first, last in ranges.months:
        assert first.day == 1 and last.day == 1 and first <= last
        counted.append((first, (last + timedelta(days=32)).replace(day=1) - timedelta(days=1), 1))
        month = first
        while month <= last:
            whole_months.add(month)
            month = (month + timedelta(days=32)).replace(day=1)
    for a, b in ranges.less:
        in_years = ranges.years is not None and (ranges.years[0] or D(1, 1, 1)) <= a <= D(ranges.years[1].year, 12, 31)
        assert a <= b and a.replace(day=1) == b.replace(day=1) and (a.replace(day=1) in whole_months or in_years)
        assert not (start is not None and start <= a and b <= end), "subtracts a day of the window"
        counted.append((a, b, -1))
    # Sweep: +k at a range's first day, -k the day after its last; the running count must be 1
    # from the window's first day to its last and 0 elsewhere.
    steps: dict[date, int] = {}
    for a, b, k in counted:
        steps[a] = steps.get(a, 0) + k
        steps[b + timedelta(days=1)] = steps.get(b + timedelta(days=1), 0) - k
    level, begun = 0, None
    for day in sorted(steps):
        level += steps[day]
        assert level in (0, 1), (start, end, ranges)
        if level == 1 and begun is None:
            begun = day
        if level == 0 and isinstance(begun, date):
            assert (begun, day - timedelta(days=1)) == (start or D(2015, 1, 1), end), (start, end, ranges)
            begun = "done"
    assert begun == "done", (start, end, ranges)
    read_days = sum((b - a).days + 1 for a, b in (*ranges.days, *ranges.less))
    assert read_days <= 31, (start, end, ranges)


def test_a_partial_month_is_read_as_its_days_or_as_the_month_less_the_rest():
    assert read_ranges(None, D(2025, 6, 29)) == read_ranges(None, D(2025, 6, 30)).__class__(
        (None, D(2024, 1, 1)), ((D(2025, 1, 1), D(2025, 6, 1)),), (), ((D(2025, 6, 30), D(2025, 6, 30)),)
    )
    # The first half of a month: its days.
    assert read_ranges(None, D(2025, 6, 10)).days == ((D(2025, 6, 1), D(2025, 6, 10)),)
    # This year to late June: January–June less its last days.
    assert read_ranges(D(2025, 1, 1), D(2025, 6, 28)).less == ((D(2025, 6, 29), D(2025, 6, 30)),)
    # Within one month, most of it: the month less both ends.
    assert read_ranges(D(2025, 3, 2), D(2025, 3, 30)) == read_ranges(None, D(2025, 3, 30)).__class__(
        None, ((D(2025, 3, 1), D(2025, 3, 1)),), (), ((D(2025, 3, 1), D(2025, 3, 1)), (D(2025, 3, 31), D(2025, 3, 31)))
    )


def test_random_windows_are_read_as_years_months_and_days_each_day_once():
    rng = random.Random(11)
    for _ in range(20_000):
        a, b = sorted(D(2015, 1, 1) + timedelta(days=rng.randrange(4000)) for _ in range(2))
        _check_reads_cover_exactly(a, b)
        _check_reads_cover_exactly(None, b)
    days = [D(2023, 12, 1) + timedelta(days=n) for n in range(130)]
    for i, start in enumerate(days):
        for end in days[i:]:
            _check_reads_cover_exactly(start, end)
