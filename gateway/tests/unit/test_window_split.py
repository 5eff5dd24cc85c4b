"""A window of days cut into whole months (read from series_monthly) and the partial months'
days at its edges (read from series_daily): every day of the window exactly once."""

import random
from datetime import date, timedelta

import pytest

from gateway.metrics import WindowParts, covering_ranges, split_window

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
