"""The status alone (:func:`status_at`, what a region's overview and the scorecard count) is the
status the whole evaluation gives, over every shape of indicator, reading and date: the two
can't drift apart. Without explanations the expected values are the same too."""

from datetime import date, timedelta
from decimal import Decimal as D

from hypothesis import example, given, settings
from hypothesis import strategies as st

from gateway.progress import (
    Baseline,
    Direction,
    Indicator,
    Measure,
    Reading,
    Trajectory,
    evaluate,
    expected_at,
    status_at,
    trajectory_start,
    year_figure,
    year_results,
)
from gateway.tests.unit.test_progress import (
    ANNUAL_GRANTS,
    AVERAGE_LOANS,
    HIGH_VALUE_PATENTS,
    MAJOR_GROUP_CASES,
    MID_YEAR,
    ON_TIME_CLOSURE,
    OVERDUE_CASES,
    PLEDGE_FINANCING,
    RISING_RATE,
    YEAR_2024,
    YICHANG,
    ZHENJIANG,
    amounts,
    plan_periods,
)
from gateway.tests.unit.test_progress_plan_shapes import AGENCIES, MATCHMAKING_EVENTS, PATENT_GRANTS

d = date
NAMED = [
    HIGH_VALUE_PATENTS,
    PLEDGE_FINANCING,
    MAJOR_GROUP_CASES,
    OVERDUE_CASES,
    ON_TIME_CLOSURE,
    ANNUAL_GRANTS,
    RISING_RATE,
    AVERAGE_LOANS,
    PATENT_GRANTS,
    MATCHMAKING_EVENTS,
    AGENCIES,
]
positive = st.decimals(min_value=0, max_value=1000, places=2)


@st.composite
def drawn_indicators(draw, period):
    """Any shape the targets contract allows: every measure, direction and trajectory, with or
    without a baseline (before, at or after the plan start's year), milestones (some ranges),
    a target range, reports or a metric; figures of either sign, zero often."""
    years = range(period.start.year - 1, period.end.year + 2)
    values = st.one_of(st.just(D(0)), positive, amounts)
    milestones = draw(st.dictionaries(st.sampled_from(years), values, max_size=4))
    maxima = {year: value + 1 for year, value in milestones.items() if draw(st.booleans())}
    target = draw(values)
    baseline = draw(st.none() | st.builds(Baseline, st.sampled_from(years), values))
    return Indicator(
        draw(st.sampled_from(list(Measure))),
        draw(st.sampled_from(list(Direction))),
        target,
        "件",
        milestones,
        baseline,
        trajectory=draw(st.sampled_from(list(Trajectory))),
        target_max=draw(st.none() | st.just(target + 5)),
        milestone_maxima=maxima,
        reported=draw(st.booleans()),
    )


def day_around(period):
    """A day from a year before the plan to a year after it, its edges often."""
    span = (period.end - period.start).days
    edges = [period.start - timedelta(days=1), period.start, period.end, period.end + timedelta(days=1)]
    return st.one_of(
        st.sampled_from(edges),
        st.integers(-400, span + 400).map(lambda n: period.start + timedelta(days=n)),
    )


@st.composite
def cases(draw):
    if draw(st.integers(0, 4)) == 0:
        period = draw(st.sampled_from([ZHENJIANG, YICHANG, MID_YEAR, YEAR_2024]))
        indicator = draw(st.sampled_from(NAMED))
    else:
        period = draw(plan_periods)
        indicator = draw(drawn_indicators(period))
    readings = draw(st.lists(st.builds(Reading, day_around(period), st.one_of(positive, amounts)), max_size=8))
    return indicator, period, readings, draw(day_around(period))


def same_status(indicator, period, readings, as_of):
    try:
        whole = evaluate(indicator, period, as_of, readings).status
    except (ArithmeticError, ValueError) as error:  # a shape the rules refuse: refused alike
        whole = type(error)
    try:
        alone = status_at(indicator, period, as_of, readings)
    except (ArithmeticError, ValueError) as error:
        alone = type(error)
    assert alone == whole


@settings(max_examples=1500, deadline=None)
@given(cases())
@example((ANNUAL_GRANTS, ZHENJIANG, [Reading(d(2024, 12, 31), D(1600))], d(2026, 12, 31)))
@example((MATCHMAKING_EVENTS, ZHENJIANG, [Reading(d(2026, 12, 1), D(1))], d(2027, 1, 1)))
@example((AGENCIES, ZHENJIANG, [Reading(d(2024, 3, 1), D(10))], d(2024, 3, 1)))
@example((RISING_RATE, ZHENJIANG, [], d(2025, 1, 1)))
@example((HIGH_VALUE_PATENTS, ZHENJIANG, [Reading(d(2024, 7, 1), D(700))], d(2023, 12, 31)))
def test_the_status_alone_is_the_status_of_the_whole_evaluation(case):
    same_status(*case)


@settings(max_examples=500, deadline=None)
@given(cases())
def test_values_do_not_depend_on_the_explanations(case):
    indicator, period, readings, as_of = case
    on = min(as_of, period.end)
    try:
        explained = trajectory_start(indicator, period, readings, on)
        bare = trajectory_start(indicator, period, readings, on, explain=False)
        assert (bare is None) == (explained is None)
        if bare is not None:
            assert (bare.at, bare.value, bare.observed) == (explained.at, explained.value, explained.observed)
        whole, alone = (
            expected_at(indicator, period, as_of, explained),
            expected_at(indicator, period, as_of, bare, explain=False),
        )
        assert (alone is None and whole is None) or alone.value == whole.value
        for year in period.years:
            with_text, without = (
                year_figure(indicator, period, year),
                year_figure(indicator, period, year, explain=False),
            )
            assert (with_text.value, with_text.value_max) == (without.value, without.value_max)
        assert year_results(indicator, period, as_of, readings) == year_results(
            indicator, period, as_of, readings, explain=False
        )
    except (ArithmeticError, ValueError):
        pass
