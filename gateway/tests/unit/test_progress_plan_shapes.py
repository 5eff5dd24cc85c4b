"""Verdicts for the shapes real plans take: partial plan years, rates and yearly floors before the
plan ends, growth paths, first readings, reported averages and ranges. Each case is a worked
example an office checked by hand; the arithmetic is in the comments."""

import random
from datetime import date, timedelta
from decimal import Decimal as D
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.progress import (
    Baseline,
    Direction,
    Indicator,
    Measure,
    Period,
    Reading,
    Status,
    Trajectory,
    YearVerdict,
    evaluate,
    expected_at,
    reading_windows,
    trajectory_start,
    year_figure,
)

d = date
JULY_TO_JUNE = Period(d(2022, 7, 1), d(2025, 6, 30))
ZHENJIANG = Period(d(2024, 1, 1), d(2026, 12, 31))
FIVE_YEARS = Period(d(2022, 1, 1), d(2026, 12, 31))


def readings(*pairs):
    return [Reading(on, D(value)) for on, value in pairs]


# --- 1. annual figures are paces of 365 days ---------------------------------------------------

# 专利授权量 ≥ 3500 件/年, reported as the year to date.
PATENT_GRANTS = Indicator(Measure.ANNUAL, Direction.AT_LEAST, D(3500), "件", reported=True)


def test_an_annual_figure_in_a_plans_last_partial_year_is_a_pace_of_the_whole_year():
    # 2025-05-31 is day 151 of 2025 (31+28+31+30+31): 3500 × 151/365 = 1447.9…, and 1,500 is on
    # pace for 3,626 a year — not 3500 × 151/181 = 2,919 (the days of 2025 inside the plan)
    progress = evaluate(PATENT_GRANTS, JULY_TO_JUNE, d(2025, 5, 31), readings((d(2025, 5, 31), 1500)))
    assert progress.expected == D(3500 * 151) / 365
    assert progress.status is Status.ON_TRACK
    assert "151/365" in progress.explanation


def test_a_first_partial_year_expects_one_days_share_on_its_first_day():
    period = Period(d(2024, 3, 26), d(2026, 12, 31))
    # 2024 has 366 days: 3500 × 1/366 on 2024-03-26, not 3500 × 86/366 (1 Jan to 26 Mar)
    assert expected_at(PATENT_GRANTS, period, d(2024, 3, 26)).value == D(3500) / 366
    # 2024-12-31 closes the 281 days from 26 Mar: 3500 × 281/366
    assert expected_at(PATENT_GRANTS, period, d(2024, 12, 31)).value == D(3500 * 281) / 366


def test_a_plan_ending_mid_year_expects_that_years_share_at_its_end():
    # 1 Jan..30 Jun 2025 is 181 days: 3500 × 181/365 = 1735.6…
    assert expected_at(PATENT_GRANTS, JULY_TO_JUNE, d(2025, 6, 30)).value == D(3500 * 181) / 365
    assert expected_at(PATENT_GRANTS, JULY_TO_JUNE, d(2026, 1, 31)).value == D(3500 * 181) / 365


def test_an_annuals_metric_is_read_from_the_plan_start_in_its_first_year():
    period = Period(d(2024, 3, 26), d(2026, 12, 31))
    assert reading_windows(PATENT_GRANTS, period, d(2024, 6, 30)) == [(d(2024, 3, 26), d(2024, 6, 30))]
    # later, each ended plan year is read too (it is judged on its own)
    assert reading_windows(PATENT_GRANTS, period, d(2025, 2, 1)) == [
        (d(2024, 3, 26), d(2024, 12, 31)),
        (d(2025, 1, 1), d(2025, 2, 1)),
    ]


# --- 2. a rate is not achieved before its period ends -------------------------------------------

ON_TIME_CLOSURE = Indicator(Measure.RATE, Direction.AT_LEAST, D(90), "%")


def test_one_case_closed_on_time_a_month_in_is_on_track_not_achieved():
    progress = evaluate(ON_TIME_CLOSURE, ZHENJIANG, d(2024, 2, 1), readings((d(2024, 2, 1), 100)))
    assert progress.status is Status.ON_TRACK
    assert "计划结束时方判定达成" in progress.explanation
    ended = evaluate(ON_TIME_CLOSURE, ZHENJIANG, d(2026, 12, 31), readings((d(2026, 12, 31), 92)))
    assert ended.status is Status.ACHIEVED


def test_an_annual_and_an_annual_average_are_not_achieved_before_the_plan_ends():
    annual = evaluate(PATENT_GRANTS, ZHENJIANG, d(2024, 12, 31), readings((d(2024, 12, 31), 5000)))
    average = Indicator(Measure.ANNUAL_AVERAGE, Direction.AT_LEAST, D(1), "亿元", reported=True)
    averaged = evaluate(average, ZHENJIANG, d(2025, 6, 30), readings((d(2025, 6, 30), 3)))
    assert (annual.status, averaged.status) == (Status.ON_TRACK, Status.ON_TRACK)


# --- 3. yearly floors are judged year by year ---------------------------------------------------

# 举办质押对接活动 每年 1—2 场
MATCHMAKING_EVENTS = Indicator(Measure.ANNUAL, Direction.AT_LEAST, D(1), "场", target_max=D(2))
NONE_UNTIL_2025 = readings((d(2022, 12, 31), 0), (d(2023, 12, 31), 0), (d(2024, 12, 31), 0), (d(2025, 6, 30), 1))


def test_one_event_in_the_last_half_year_after_three_empty_years_is_behind_at_the_plan_end():
    progress = evaluate(MATCHMAKING_EVENTS, JULY_TO_JUNE, d(2025, 6, 30), NONE_UNTIL_2025)
    assert progress.status is Status.BEHIND
    assert [(y.year, y.actual, y.verdict) for y in progress.years] == [
        (2022, D(0), YearVerdict.MISSED),
        (2023, D(0), YearVerdict.MISSED),
        (2024, D(0), YearVerdict.MISSED),
        (2025, D(1), YearVerdict.MET),
    ]
    # 2022 lies in the plan from 1 July: 184 of its 365 days are due; 2025 to 30 June: 181 days
    assert [y.due for y in progress.years] == [D(184) / 365, D(1), D(1), D(181) / 365]
    assert [(y.figure, y.figure_max) for y in progress.years] == [(D(1), D(2))] * 4
    assert "2022、2023、2024年未达到当年应达值" in progress.explanation


def test_a_missed_year_keeps_an_annual_from_being_achieved_while_the_year_runs_on_pace():
    earlier = NONE_UNTIL_2025[:3] + readings((d(2025, 3, 31), 1))
    progress = evaluate(MATCHMAKING_EVENTS, JULY_TO_JUNE, d(2025, 3, 31), earlier)
    # 2025-03-31: 1 × 90/365 expected, 1 held: on pace this year, never achieved
    assert progress.status is Status.ON_TRACK
    assert progress.years[-1].verdict is YearVerdict.IN_PROGRESS
    assert "各年均达标后方可判定达成" in progress.explanation


def test_every_year_met_is_achieved_at_the_plan_end():
    every_year = readings((d(2022, 12, 31), 1), (d(2023, 12, 31), 2), (d(2024, 12, 31), 1), (d(2025, 6, 30), 1))
    assert evaluate(MATCHMAKING_EVENTS, JULY_TO_JUNE, d(2025, 6, 30), every_year).status is Status.ACHIEVED


def test_a_year_without_a_reading_is_no_data_not_met():
    progress = evaluate(MATCHMAKING_EVENTS, JULY_TO_JUNE, d(2025, 6, 30), readings((d(2025, 6, 30), 1)))
    assert [y.verdict for y in progress.years[:3]] == [YearVerdict.NO_DATA] * 3
    assert progress.status is not Status.ACHIEVED


# --- 4. growth paths ----------------------------------------------------------------------------


def growth(measure, trajectory, milestones=None):
    return Indicator(
        measure, Direction.AT_LEAST, D(2000), "件", milestones or {}, Baseline(2021, D(1000)), trajectory=trajectory
    )


def test_yearly_figures_grow_from_the_baseline_to_the_target():
    compound = year_figure(growth(Measure.ANNUAL, Trajectory.COMPOUND), FIVE_YEARS, 2022)
    linear = year_figure(growth(Measure.ANNUAL, Trajectory.LINEAR), FIVE_YEARS, 2022)
    # 1000 × 2^(1/5) = 1148.698…; linear 1000 + 1000 × 1/5 = 1200
    assert round(compound.value, 1) == D("1148.7")
    assert abs(compound.value - D(2) ** (D(1) / 5) * 1000) < D("1e-20")
    assert linear.value == D(1200)
    assert "按年均增长率 14.87% 复合插值" in compound.how
    assert year_figure(growth(Measure.ANNUAL, Trajectory.COMPOUND), FIVE_YEARS, 2026).value == D(2000)


def test_an_annual_with_a_baseline_does_not_expect_the_target_in_its_first_year():
    progress = evaluate(
        growth(Measure.ANNUAL, Trajectory.COMPOUND), FIVE_YEARS, d(2022, 12, 31), readings((d(2022, 12, 31), 1150))
    )
    assert round(progress.expected, 1) == D("1148.7")
    assert progress.status is Status.ON_TRACK
    assert "按年均增长率 14.87% 复合插值" in progress.explanation


def test_a_stock_with_a_baseline_grows_along_its_path():
    for trajectory, at_2022_end in ((Trajectory.COMPOUND, D(2) ** (D(1) / 5) * 1000), (Trajectory.LINEAR, D(1200))):
        indicator = growth(Measure.STOCK, trajectory)
        start = trajectory_start(indicator, FIVE_YEARS, [])
        value = expected_at(indicator, FIVE_YEARS, d(2022, 12, 31), start).value
        assert abs(value - at_2022_end) < D("1e-20")
        assert expected_at(indicator, FIVE_YEARS, d(2026, 12, 31), start).value == D(2000)
    compound = growth(Measure.STOCK, Trajectory.COMPOUND)
    explanation = expected_at(
        compound, FIVE_YEARS, d(2023, 6, 30), trajectory_start(compound, FIVE_YEARS, [])
    ).explanation
    assert "复合增长" in explanation and "按年均增长率 14.87% 复合插值" in explanation


def test_milestones_given_win_over_interpolation():
    indicator = growth(Measure.ANNUAL, Trajectory.COMPOUND, {2023: D(1500)})
    assert year_figure(indicator, FIVE_YEARS, 2023).value == D(1500)
    # 2022 lies between the baseline (2021) and the 2023 milestone: 1000 × 1.5^(1/2)
    assert abs(year_figure(indicator, FIVE_YEARS, 2022).value - D("1.5").sqrt() * 1000) < D("1e-20")
    # 2024, 2025 between the 2023 milestone and the 2026 target: 1500 × (2000/1500)^(1/3)
    assert abs(year_figure(indicator, FIVE_YEARS, 2024).value - 1500 * (D(2000) / 1500) ** (D(1) / 3)) < D("1e-20")


def test_compound_growth_from_zero_is_linear_and_says_so():
    indicator = Indicator(
        Measure.ANNUAL, Direction.AT_LEAST, D(10), "件", baseline=Baseline(2021, D(0)), trajectory=Trajectory.COMPOUND
    )
    figure = year_figure(indicator, FIVE_YEARS, 2022)
    assert figure.value == D(2)
    assert "复合增长需两端为正" in figure.how


# --- 5. the first reading of a stock without baseline --------------------------------------------

# 20 家 by the plan end, no baseline, first reported 9 on 2024-06-30.
AGENCIES = Indicator(Measure.STOCK, Direction.AT_LEAST, D(20), "家")


def test_the_first_reading_starts_the_line_and_is_on_track():
    progress = evaluate(AGENCIES, JULY_TO_JUNE, d(2024, 6, 30), readings((d(2024, 6, 30), 9)))
    # not 9 + 11 × 731/1096 = 16.3 from the plan start
    assert (progress.expected, progress.status) == (D(9), Status.ON_TRACK)
    assert (progress.trajectory_start, progress.trajectory_start_on) == (D(9), d(2024, 6, 30))
    assert "首次观测值" in progress.explanation


def test_later_readings_are_judged_against_the_line_from_the_first():
    later = evaluate(AGENCIES, JULY_TO_JUNE, d(2024, 12, 31), readings((d(2024, 6, 30), 9), (d(2024, 12, 31), 12)))
    # the year end lies (184/366) ÷ (184/366 + 181/365) of the way, in calendar years, from
    # 2024-06-30 to the plan end: 9 + 11 × that
    share = Fraction(184, 366) / (Fraction(184, 366) + Fraction(181, 365))
    assert later.expected == D(9) + D(11) * share.numerator / share.denominator
    assert later.status is Status.BEHIND  # 12 < 14.54… − 1.45…


def test_a_rate_whose_only_milestone_is_in_the_last_year_starts_at_its_first_reading():
    # 贯标覆盖率 100 % in 2026, first reported 40 % on 2024-06-30
    coverage = Indicator(Measure.RATE, Direction.AT_LEAST, D(100), "%", {2026: D(100)}, reported=True)
    first = evaluate(coverage, ZHENJIANG, d(2024, 6, 30), readings((d(2024, 6, 30), 40)))
    assert (first.expected, first.status) == (D(40), Status.ON_TRACK)
    later = evaluate(coverage, ZHENJIANG, d(2024, 12, 31), readings((d(2024, 6, 30), 40), (d(2024, 12, 31), 50)))
    # 184 of the 916 days-in-years from (2024-06-30, 40) to (2026-12-31, 100): 40 + 60 × 184/916
    assert later.expected == D(40) + D(60 * 184) / 916
    assert later.expected < 100


def test_a_start_observed_above_the_next_milestone_asks_only_for_the_milestone():
    rate = Indicator(Measure.RATE, Direction.AT_LEAST, D(90), "%", {2024: D(85)}, reported=True)
    progress = evaluate(rate, ZHENJIANG, d(2024, 9, 30), readings((d(2024, 3, 31), 95), (d(2024, 9, 30), 86)))
    assert (progress.expected, progress.status) == (D(85), Status.ON_TRACK)


# --- 6. annual_average reports -------------------------------------------------------------------


def test_a_reported_average_is_the_average_not_flows_to_divide_again():
    reported = Indicator(Measure.ANNUAL_AVERAGE, Direction.AT_LEAST, D(1), "亿元", reported=True)
    metric = Indicator(Measure.ANNUAL_AVERAGE, Direction.AT_LEAST, D(1), "亿元")
    # 2024-01-01..2025-12-31 is exactly 2 years
    as_reported = evaluate(reported, ZHENJIANG, d(2025, 12, 31), readings((d(2025, 12, 31), "1.2")))
    from_flows = evaluate(metric, ZHENJIANG, d(2025, 12, 31), readings((d(2025, 12, 31), "2.4")))
    assert (as_reported.actual, from_flows.actual) == (D("1.2"), D("1.2"))
    assert "填报值" in as_reported.explanation and "÷ 已过 2 年" in from_flows.explanation


def test_the_contracts_accepts_reports_says_whose_readings_are_averages():
    state = {"measure": "annual_average", "direction": "at_least", "target": "1", "unit": "亿元"}
    assert Indicator.from_dict({**state, "source": "reported", "accepts_reports": True}).reported
    assert not Indicator.from_dict(
        {**state, "source": {"metric": "financing.pledge_amount"}, "accepts_reports": False}
    ).reported


# --- 7. ranges ------------------------------------------------------------------------------------


def test_a_range_counts_by_its_minimum_and_shows_its_maximum():
    items = Indicator(
        Measure.CUMULATIVE,
        Direction.AT_LEAST,
        D(8),
        "项",
        {2024: D(3)},
        target_max=D(10),
        milestone_maxima={2024: D(4)},
    )
    progress = evaluate(items, ZHENJIANG, d(2024, 12, 31), readings((d(2024, 12, 31), 3)))
    assert (progress.target, progress.target_max) == (D(8), D(10))
    assert (progress.milestone_this_year, progress.milestone_this_year_max) == (D(3), D(4))
    assert (progress.expected, progress.status) == (D(3), Status.ON_TRACK)
    ended = evaluate(items, ZHENJIANG, d(2026, 12, 31), readings((d(2026, 12, 31), 8)))
    assert ended.status is Status.ACHIEVED


def test_a_ranged_years_explanation_shows_the_range():
    explanation = expected_at(MATCHMAKING_EVENTS, ZHENJIANG, d(2024, 7, 1)).explanation
    assert "1—2" in explanation


def test_the_contract_carries_ranges_and_the_trajectory():
    indicator = Indicator.from_dict(
        {
            "measure": "annual",
            "direction": "at_least",
            "target": "1",
            "target_max": "2",
            "unit": "场",
            "milestones": {"2024": "1"},
            "milestone_maxima": {"2024": "2"},
            "trajectory": "compound",
        }
    )
    assert (indicator.target_max, indicator.milestone_maxima, indicator.trajectory) == (
        D(2),
        {2024: D(2)},
        Trajectory.COMPOUND,
    )


# --- properties ----------------------------------------------------------------------------------

plan_periods = st.builds(
    lambda start, days: Period(start, start + timedelta(days=days)),
    st.dates(d(2018, 1, 1), d(2030, 12, 31)),
    st.integers(0, 5 * 366),
)
targets = st.decimals(1, 10_000, places=2)


@st.composite
def indicators(draw):
    measure = draw(st.sampled_from(list(Measure)))
    direction = draw(st.sampled_from(list(Direction)))
    target = draw(targets)
    with_baseline = draw(st.booleans()) and measure is not Measure.ANNUAL_AVERAGE
    baseline = Baseline(2010, draw(targets)) if with_baseline else None
    return Indicator(
        measure,
        direction,
        target,
        "%" if measure is Measure.RATE else "件",
        baseline=baseline,
        trajectory=draw(st.sampled_from(list(Trajectory))),
        reported=draw(st.booleans()),
    )


@settings(max_examples=200, deadline=None)
@given(
    indicators(),
    plan_periods,
    st.lists(st.tuples(st.integers(-400, 6 * 366), st.decimals(0, 10_000, places=2)), max_size=8),
    st.integers(0, 6 * 366),
    st.randoms(),
)
def test_no_verdict_depends_on_the_order_of_readings(indicator, period, offsets, as_of_offset, rnd):
    known = [Reading(period.start + timedelta(days=days), value) for days, value in offsets]
    shuffled = list(known)
    rnd.shuffle(shuffled)
    as_of = period.start + timedelta(days=as_of_offset)
    assert evaluate(indicator, period, as_of, known) == evaluate(indicator, period, as_of, shuffled)


@settings(max_examples=200, deadline=None)
@given(indicators(), plan_periods, st.decimals(0, 100, places=2))
def test_a_plan_ended_and_met_is_achieved(indicator, period, margin):
    signed = margin if indicator.direction is Direction.AT_LEAST else -margin
    if indicator.measure is Measure.ANNUAL:
        # every plan year meets its share of the year's figure
        met = []
        for year in period.years:
            first, last = period.year_window(year)
            figure = year_figure(indicator, period, year).value
            days = (d(year, 12, 31) - d(year, 1, 1)).days + 1
            met.append(Reading(last, figure * ((last - first).days + 1) / days + signed))
    elif indicator.measure is Measure.ANNUAL_AVERAGE and not indicator.reported:
        years = Fraction(0)
        for year in period.years:
            first, last = period.year_window(year)
            years += Fraction((last - first).days + 1, (d(year, 12, 31) - d(year, 1, 1)).days + 1)
        # a hair more than met: flows × years ÷ years is not exact in 28 digits
        hair = D("0.001") if indicator.direction is Direction.AT_LEAST else D("-0.001")
        met = [Reading(period.end, (indicator.target + signed + hair) * years.numerator / years.denominator)]
    else:
        met = [Reading(period.end, indicator.target + signed)]
    random.shuffle(met)
    assert evaluate(indicator, period, period.end, met).status is Status.ACHIEVED


def test_the_same_figure_every_year_from_the_first_is_a_standing_requirement():
    # 按期结案率 ≥ 90 % in 2024, 2025 and 2026: no path from a first reading, 90 at every date
    yearly = Indicator(Measure.RATE, Direction.AT_LEAST, D(90), "%", {2024: D(90), 2025: D(90), 2026: D(90)})
    progress = evaluate(yearly, ZHENJIANG, d(2024, 6, 30), readings((d(2024, 6, 30), 80)))
    assert (progress.expected, progress.status) == (D(90), Status.BEHIND)
    assert progress.trajectory_start is None


def test_a_metric_rate_with_a_path_starts_at_its_first_month():
    coverage = Indicator(Measure.RATE, Direction.AT_LEAST, D(100), "%", {2026: D(100)})
    assert reading_windows(coverage, ZHENJIANG, d(2024, 7, 1)) == [
        (d(2024, 1, 1), d(2024, 1, 31)),
        (d(2024, 1, 1), d(2024, 7, 1)),
    ]
    observed = evaluate(coverage, ZHENJIANG, d(2024, 7, 1), readings((d(2024, 1, 31), 40), (d(2024, 7, 1), 50)))
    assert (observed.trajectory_start, observed.trajectory_start_on) == (D(40), d(2024, 1, 31))
    assert 40 < observed.expected < 100
    # no rate in the first month (nothing to divide by): the actual is no start, the year's figure holds
    unobserved = evaluate(coverage, ZHENJIANG, d(2024, 7, 1), readings((d(2024, 7, 1), 50)))
    assert (unobserved.trajectory_start, unobserved.expected, unobserved.status) == (None, D(100), Status.BEHIND)
    assert "尚无起点观测值" in unobserved.explanation
