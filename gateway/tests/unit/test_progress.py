"""The progress rules, each checked against values computed by hand (the arithmetic is in the
comments). Day counts include both ends: 2024-01-01..2024-07-01 is 183 days, 2024 has 366."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.progress import (
    Baseline,
    Direction,
    Indicator,
    Measure,
    Period,
    Reading,
    StartPoint,
    Status,
    UnitError,
    actual_window,
    convert,
    evaluate,
    expected_at,
    forecast_at_end,
    milestone_for_year,
    observed_baseline_date,
    observed_baseline_window,
    progress_ratio,
    status_of,
    trajectory_start,
    years_elapsed,
)

d = date
ZHENJIANG = Period(d(2024, 1, 1), d(2026, 12, 31))  # 366 + 365 + 365 = 1096 days
YICHANG = Period(d(2021, 1, 1), d(2025, 12, 31))
MID_YEAR = Period(d(2023, 7, 1), d(2025, 6, 30))  # 184 + 366 + 181 = 731 days
YEAR_2024 = Period(d(2024, 1, 1), d(2024, 12, 31))  # 366 days

# 高价值发明专利拥有量: stock, 2023 baseline 700, yearly milestones (the seed's own 750/800/850).
HIGH_VALUE_PATENTS = Indicator(
    Measure.STOCK, Direction.AT_LEAST, D(850), "件", {2024: D(750), 2025: D(800), 2026: D(850)}, Baseline(2023, D(700))
)
# 知识产权质押融资累计金额: cumulative, 5亿元 over three years, milestones 2/4/5, no baseline (starts at 0).
PLEDGE_FINANCING = Indicator(Measure.CUMULATIVE, Direction.AT_LEAST, D(5), "亿元", {2024: D(2), 2025: D(4), 2026: D(5)})
# 重大群体性侵权案件: none at all over the plan.
MAJOR_GROUP_CASES = Indicator(Measure.CUMULATIVE, Direction.AT_MOST, D(0), "件")
# Overdue open cases, to fall from 20 to 5 within 2024.
OVERDUE_CASES = Indicator(Measure.STOCK, Direction.AT_MOST, D(5), "件", baseline=Baseline(2023, D(20)))
# 按期结案率 ≥ 90%.
ON_TIME_CLOSURE = Indicator(Measure.RATE, Direction.AT_LEAST, D(90), "%")
# 年度发明专利授权量 ≥ 1600 every year (no baseline, no milestones: the same figure each year).
ANNUAL_GRANTS = Indicator(Measure.ANNUAL, Direction.AT_LEAST, D(1600), "件")
# A rate that builds up: 70 % in 2023, 80 % in 2024, 90 % at the end.
RISING_RATE = Indicator(Measure.RATE, Direction.AT_LEAST, D(90), "%", {2024: D(80)}, Baseline(2023, D(70)))
# 年均专利质押贷款1亿元.
AVERAGE_LOANS = Indicator(Measure.ANNUAL_AVERAGE, Direction.AT_LEAST, D(1), "亿元")


def start_at_plan_start(period, value):
    return StartPoint(period.start - timedelta(days=1), D(value), "起点")


def expected(indicator, period, on, start_value=None):
    start = None if start_value is None else start_at_plan_start(period, start_value)
    return expected_at(indicator, period, on, start).value


def at(on, value):
    return [Reading(on, D(value))]


# --- expected value by date -------------------------------------------------------------------


@pytest.mark.parametrize(
    "indicator, period, on, start_value, value",
    [
        # Zhenjiang stock: 700 at plan start → 750 at 2024-12-31: 700 + 50 × 183/366 = 725
        (HIGH_VALUE_PATENTS, ZHENJIANG, d(2024, 7, 1), D(700), D(725)),
        # the milestone on its day: 700 + 50 × 366/366 = 750
        (HIGH_VALUE_PATENTS, ZHENJIANG, d(2024, 12, 31), D(700), D(750)),
        # one day into 2025: 750 + 50 × 1/365
        (HIGH_VALUE_PATENTS, ZHENJIANG, d(2025, 1, 1), D(700), D(750) + D(50) / 365),
        # 2025-07-02 is day 183 of 365 (31+28+31+30+31+30+2): 750 + 50 × 183/365
        (HIGH_VALUE_PATENTS, ZHENJIANG, d(2025, 7, 2), D(700), D(750) + D(50 * 183) / 365),
        # last segment 800 → target 850 at plan end: 800 + 50 × 183/365
        (HIGH_VALUE_PATENTS, ZHENJIANG, d(2026, 7, 2), D(700), D(800) + D(50 * 183) / 365),
        (HIGH_VALUE_PATENTS, ZHENJIANG, d(2026, 12, 31), D(700), D(850)),
        # after the plan end the plan's end counts: the target
        (HIGH_VALUE_PATENTS, ZHENJIANG, d(2027, 3, 1), D(700), D(850)),
        # at_most stock falling 20 → 5 over 2024: 20 + (5 − 20) × 183/366 = 12.5
        (OVERDUE_CASES, YEAR_2024, d(2024, 7, 1), D(20), D("12.5")),
        # cumulative from 0: 0 + 2 × 183/366 = 1 (亿元)
        (PLEDGE_FINANCING, ZHENJIANG, d(2024, 7, 1), D(0), D(1)),
        # 2025-04-01 is day 91 (31+28+31+1): 2 + (4 − 2) × 91/365
        (PLEDGE_FINANCING, ZHENJIANG, d(2025, 4, 1), D(0), D(2) + D(2 * 91) / 365),
        # at_most 0: 0 + (0 − 0) × … = 0 at every date
        (MAJOR_GROUP_CASES, ZHENJIANG, d(2025, 4, 1), D(0), D(0)),
        # rate: the target at every date
        (ON_TIME_CLOSURE, ZHENJIANG, d(2024, 1, 1), None, D(90)),
        (ON_TIME_CLOSURE, ZHENJIANG, d(2026, 6, 1), None, D(90)),
        # annual, pro rata to the day: 1600 × 183/366 = 800 (2024 is a leap year)
        (ANNUAL_GRANTS, YICHANG, d(2024, 7, 1), None, D(800)),
        # 2023-03-31 is day 90 (31+28+31): 1600 × 90/365
        (ANNUAL_GRANTS, YICHANG, d(2023, 3, 31), None, D(1600 * 90) / 365),
        (ANNUAL_GRANTS, YICHANG, d(2023, 12, 31), None, D(1600)),
        # annual_average: the target average at every date
        (AVERAGE_LOANS, YICHANG, d(2022, 2, 14), None, D(1)),
    ],
)
def test_expected_value_by_date(indicator, period, on, start_value, value):
    assert expected(indicator, period, on, start_value) == value


def test_expected_explains_its_derivation():
    explanation = expected_at(
        HIGH_VALUE_PATENTS, ZHENJIANG, d(2024, 7, 1), trajectory_start(HIGH_VALUE_PATENTS, ZHENJIANG, [])
    ).explanation
    assert "2023年基期值" in explanation and "2024年里程碑" in explanation and "183/366" in explanation
    assert "725" in explanation
    assert "1600 × 183/366" in expected_at(ANNUAL_GRANTS, YICHANG, d(2024, 7, 1)).explanation


def test_milestones_of_a_plan_ending_mid_year():
    # Stock 100 → 110 (2023) → 130 (2024) → target 150 at 2025-06-30. The 2025 milestone (140, due
    # 2025-12-31, after the plan end) gives way to the target, which is due at the plan end.
    indicator = Indicator(
        Measure.STOCK,
        Direction.AT_LEAST,
        D(150),
        "件",
        {2023: D(110), 2024: D(130), 2025: D(140)},
        Baseline(2022, D(100)),
    )
    # first segment 2023-07-01..2023-12-31 is 184 days; 2023-09-30 is day 92 of it (31+31+30):
    # 100 + 10 × 92/184 = 105
    assert expected(indicator, MID_YEAR, d(2023, 9, 30), D(100)) == D(105)
    assert expected(indicator, MID_YEAR, d(2023, 12, 31), D(100)) == D(110)
    # last segment 2025-01-01..2025-06-30 is 181 days; 2025-03-31 is day 90: 130 + 20 × 90/181
    assert expected(indicator, MID_YEAR, d(2025, 3, 31), D(100)) == D(130) + D(20 * 90) / 181
    assert expected(indicator, MID_YEAR, d(2025, 6, 30), D(100)) == D(150)
    # the plan's last year: the target is this year's milestone
    assert milestone_for_year(indicator, MID_YEAR, 2025) == D(150)
    # forecast: 120 on 2024-06-30 after 366 days (2023-07-01..2024-06-30, with 29 Feb):
    # 100 + (120 − 100) × 731/366 = 139.94…, short of 150
    forecast = forecast_at_end(indicator, MID_YEAR, Reading(d(2024, 6, 30), D(120)), start_at_plan_start(MID_YEAR, 100))
    assert forecast == D(100) + D(20 * 731) / 366
    assert evaluate(indicator, MID_YEAR, d(2024, 6, 30), at(d(2024, 6, 30), 120)).forecast_meets_target is False


def test_a_last_years_milestone_gives_way_to_the_target_at_plan_end():
    # milestone 840 for 2026 is due at the plan end 2026-12-31, where the target 850 is due
    indicator = Indicator(
        Measure.STOCK, Direction.AT_LEAST, D(850), "件", {2024: D(750), 2026: D(840)}, Baseline(2023, 700)
    )
    assert expected(indicator, ZHENJIANG, d(2026, 12, 31), D(700)) == D(850)
    # 2025-12-31 lies 365 days into the segment 750 (2024-12-31) → 850 (2026-12-31) of 730:
    # 750 + 100 × 365/730 = 800
    assert expected(indicator, ZHENJIANG, d(2025, 12, 31), D(700)) == D(800)


def test_an_annual_figure_is_a_pace_of_the_whole_calendar_year_in_partial_years():
    indicator = Indicator(Measure.ANNUAL, Direction.AT_LEAST, D(1000), "件", {2023: D(900), 2024: D(950)})
    # first (partial) year from 2023-07-01: 2023-09-30 is its day 92 (31+31+30), of 365: 900 × 92/365
    assert expected(indicator, MID_YEAR, d(2023, 9, 30)) == D(900 * 92) / 365
    # final year: 2025-03-31 is day 90 of 365: 1000 × 90/365
    assert expected(indicator, MID_YEAR, d(2025, 3, 31)) == D(1000 * 90) / 365
    # at the plan end 2025-06-30, 181 days of 2025 have passed: 1000 × 181/365, not the whole 1000
    assert expected(indicator, MID_YEAR, d(2025, 6, 30)) == D(1000 * 181) / 365
    # forecast in the final year: 500 in 90 days, over 181 days: 500 × 181/90 = 1005.5…, meets 1000
    progress = evaluate(indicator, MID_YEAR, d(2025, 3, 31), at(d(2025, 3, 31), 500))
    assert progress.forecast == D(500 * 181) / 90
    assert progress.forecast_meets_target is True
    # forecast from 2024: 400 in 183 days, at that pace over the final window of 181 days
    assert forecast_at_end(indicator, MID_YEAR, Reading(d(2024, 7, 1), D(400))) == D(400 * 181) / 183


# --- status ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "indicator, period, on, actual, status",
    [
        # Zhenjiang 2024-07-01: expected 725, target 850; at risk down to 725 − 72.5 = 652.5
        (HIGH_VALUE_PATENTS, ZHENJIANG, d(2024, 7, 1), "850", Status.ACHIEVED),
        (HIGH_VALUE_PATENTS, ZHENJIANG, d(2024, 7, 1), "730", Status.ON_TRACK),
        (HIGH_VALUE_PATENTS, ZHENJIANG, d(2024, 7, 1), "725", Status.ON_TRACK),
        (HIGH_VALUE_PATENTS, ZHENJIANG, d(2024, 7, 1), "652.5", Status.AT_RISK),
        (HIGH_VALUE_PATENTS, ZHENJIANG, d(2024, 7, 1), "652.4", Status.BEHIND),
        # at_most stock 2024-07-01: expected 12.5, target 5; at risk up to 12.5 + 1.25 = 13.75
        (OVERDUE_CASES, YEAR_2024, d(2024, 7, 1), "5", Status.ACHIEVED),
        (OVERDUE_CASES, YEAR_2024, d(2024, 7, 1), "12", Status.ON_TRACK),
        (OVERDUE_CASES, YEAR_2024, d(2024, 7, 1), "13.75", Status.AT_RISK),
        (OVERDUE_CASES, YEAR_2024, d(2024, 7, 1), "13.76", Status.BEHIND),
        # cumulative 2024-07-01: expected 1 亿元; at risk down to 1 − 0.1 = 0.9
        (PLEDGE_FINANCING, ZHENJIANG, d(2024, 7, 1), "5", Status.ACHIEVED),
        (PLEDGE_FINANCING, ZHENJIANG, d(2024, 7, 1), "1.5", Status.ON_TRACK),
        (PLEDGE_FINANCING, ZHENJIANG, d(2024, 7, 1), "0.9", Status.AT_RISK),
        (PLEDGE_FINANCING, ZHENJIANG, d(2024, 7, 1), "0.89", Status.BEHIND),
        # at_most 0: no case so far is on track (the next one may break it: achieved only at the
        # plan end); one case is behind (10 % of 0 tolerates nothing)
        (MAJOR_GROUP_CASES, ZHENJIANG, d(2025, 4, 1), "0", Status.ON_TRACK),
        (MAJOR_GROUP_CASES, ZHENJIANG, d(2026, 12, 31), "0", Status.ACHIEVED),
        (MAJOR_GROUP_CASES, ZHENJIANG, d(2025, 4, 1), "1", Status.BEHIND),
        # a negative rate (growth ≥ −10%): the band is 10 % of |−10|, at risk down to −11
        (Indicator(Measure.RATE, Direction.AT_LEAST, D(-10), "%"), ZHENJIANG, d(2025, 4, 1), "-11", Status.AT_RISK),
        (Indicator(Measure.RATE, Direction.AT_LEAST, D(-10), "%"), ZHENJIANG, d(2025, 4, 1), "-11.01", Status.BEHIND),
        # rate ≥ 90: expected 90 = target; at risk down to 90 − 9 = 81; achieved only at the plan end
        (ON_TIME_CLOSURE, ZHENJIANG, d(2025, 4, 1), "92", Status.ON_TRACK),
        (ON_TIME_CLOSURE, ZHENJIANG, d(2026, 12, 31), "92", Status.ACHIEVED),
        (ON_TIME_CLOSURE, ZHENJIANG, d(2025, 4, 1), "81", Status.AT_RISK),
        (ON_TIME_CLOSURE, ZHENJIANG, d(2025, 4, 1), "80.99", Status.BEHIND),
        # annual 2024-07-01: expected 800; at risk down to 720; a year's figure met mid-plan is on track
        (ANNUAL_GRANTS, YICHANG, d(2024, 7, 1), "1600", Status.ON_TRACK),
        (ANNUAL_GRANTS, YICHANG, d(2024, 7, 1), "820", Status.ON_TRACK),
        (ANNUAL_GRANTS, YICHANG, d(2024, 7, 1), "720", Status.AT_RISK),
        (ANNUAL_GRANTS, YICHANG, d(2024, 7, 1), "719", Status.BEHIND),
        # annual_average, 2021-01-01..2022-12-31 is exactly 2 years: 2.4/2 = 1.2 ≥ 1 (on track:
        # achieved only at the plan end); 1.9/2 = 0.95 ≥ 0.9; 1.7/2 = 0.85 < 0.9
        (AVERAGE_LOANS, YICHANG, d(2022, 12, 31), "2.4", Status.ON_TRACK),
        # five years to 2025-12-31: 6/5 = 1.2 ≥ 1 at the plan end
        (AVERAGE_LOANS, YICHANG, d(2025, 12, 31), "6", Status.ACHIEVED),
        (AVERAGE_LOANS, YICHANG, d(2022, 12, 31), "1.9", Status.AT_RISK),
        (AVERAGE_LOANS, YICHANG, d(2022, 12, 31), "1.7", Status.BEHIND),
    ],
)
def test_status(indicator, period, on, actual, status):
    assert evaluate(indicator, period, on, at(on, actual)).status is status


@pytest.mark.parametrize(
    "indicator, period, on, actual, status",
    [
        # a rate with a baseline and milestones follows its path: 70 (2023) → 80 at 2024-12-31;
        # 2024-05-01 is day 122: 70 + 10 × 122/366 = 73.33…, at risk down to 66
        (RISING_RATE, ZHENJIANG, d(2024, 5, 1), "85", "on_track"),
        (RISING_RATE, ZHENJIANG, d(2024, 5, 1), "72", "at_risk"),
        (RISING_RATE, ZHENJIANG, d(2024, 5, 1), "65", "behind"),
        # at_most rate ≤ 5%: at risk up to 5 + 0.5; met before the plan end is on track
        (Indicator(Measure.RATE, Direction.AT_MOST, D(5), "%"), ZHENJIANG, d(2024, 5, 1), "4", "on_track"),
        (Indicator(Measure.RATE, Direction.AT_MOST, D(5), "%"), ZHENJIANG, d(2026, 12, 31), "4", "achieved"),
        (Indicator(Measure.RATE, Direction.AT_MOST, D(5), "%"), ZHENJIANG, d(2024, 5, 1), "5.5", "at_risk"),
        (Indicator(Measure.RATE, Direction.AT_MOST, D(5), "%"), ZHENJIANG, d(2024, 5, 1), "5.51", "behind"),
        # at_most annual ≤ 4 a year, at year end (expected 4 × 366/366): 4.4 at risk, 5 behind
        (Indicator(Measure.ANNUAL, Direction.AT_MOST, D(4), "件"), YICHANG, d(2024, 12, 31), "4.4", "at_risk"),
        (Indicator(Measure.ANNUAL, Direction.AT_MOST, D(4), "件"), YICHANG, d(2024, 12, 31), "5", "behind"),
        # a ceiling on flows met mid-plan is on track, not achieved: expected 4 × 183/366 = 2, 2 ≤ 2
        (Indicator(Measure.ANNUAL, Direction.AT_MOST, D(4), "件"), YICHANG, d(2024, 7, 1), "2", "on_track"),
        # at_most cumulative ≤ 10 over 2024, at year end (expected 10): 11 = 10 + 1 at risk
        (Indicator(Measure.CUMULATIVE, Direction.AT_MOST, D(10), "件"), YEAR_2024, d(2024, 12, 31), "11", "at_risk"),
        (Indicator(Measure.CUMULATIVE, Direction.AT_MOST, D(10), "件"), YEAR_2024, d(2024, 12, 31), "11.01", "behind"),
        # at_most annual_average ≤ 2 a year, over exactly 2 years: 4.4/2 = 2.2 = 2 + 0.2 at risk; 5/2 = 2.5 behind
        (Indicator(Measure.ANNUAL_AVERAGE, Direction.AT_MOST, D(2), "件"), YICHANG, d(2022, 12, 31), "4.4", "at_risk"),
        (Indicator(Measure.ANNUAL_AVERAGE, Direction.AT_MOST, D(2), "件"), YICHANG, d(2022, 12, 31), "5", "behind"),
    ],
)
def test_status_other_directions_and_milestones(indicator, period, on, actual, status):
    assert evaluate(indicator, period, on, at(on, actual)).status == status


def test_not_started_before_the_plan_start():
    progress = evaluate(HIGH_VALUE_PATENTS, ZHENJIANG, d(2023, 12, 31), at(d(2023, 12, 31), 700))
    assert progress.status is Status.NOT_STARTED
    assert (progress.expected, progress.forecast, progress.forecast_meets_target) == (None, None, None)
    assert progress.actual == D(700)  # a stock's level is known before the plan starts


def test_no_data_without_an_actual_still_says_what_is_expected():
    progress = evaluate(HIGH_VALUE_PATENTS, ZHENJIANG, d(2024, 7, 1))
    assert progress.status is Status.NO_DATA
    assert (progress.actual, progress.expected, progress.forecast) == (None, D(725), None)


def test_last_years_annual_figure_is_no_actual_for_this_year():
    progress = evaluate(ANNUAL_GRANTS, YICHANG, d(2025, 1, 10), at(d(2024, 12, 31), 1500))
    assert progress.status is Status.NO_DATA


def test_cumulative_flows_before_the_plan_are_not_its_actual():
    assert evaluate(PLEDGE_FINANCING, ZHENJIANG, d(2024, 2, 1), at(d(2023, 12, 31), 3)).status is Status.NO_DATA


def test_readings_after_as_of_are_ignored():
    readings = [Reading(d(2024, 7, 1), D(730)), Reading(d(2024, 9, 1), D(900))]
    assert evaluate(HIGH_VALUE_PATENTS, ZHENJIANG, d(2024, 8, 1), readings).actual == D(730)


def test_after_the_plan_end_the_plan_end_counts():
    readings = [Reading(d(2026, 12, 31), D(860)), Reading(d(2027, 6, 1), D(700))]
    progress = evaluate(HIGH_VALUE_PATENTS, ZHENJIANG, d(2027, 7, 1), readings)
    assert (progress.actual, progress.expected, progress.status) == (D(860), D(850), Status.ACHIEVED)
    assert progress.milestone_this_year == D(850)


# --- baseline given or observed -----------------------------------------------------------------

NO_BASELINE_STOCK = Indicator(Measure.STOCK, Direction.AT_LEAST, D(850), "件", {2024: D(750), 2025: D(800)})


def test_observed_baseline_is_the_last_reading_before_the_plan():
    readings = [Reading(d(2023, 6, 30), D(650)), Reading(d(2023, 12, 31), D(680)), Reading(d(2024, 7, 1), D(720))]
    progress = evaluate(NO_BASELINE_STOCK, ZHENJIANG, d(2024, 7, 1), readings)
    # 680 + (750 − 680) × 183/366 = 715; 720 ≥ 715
    assert (progress.trajectory_start, progress.baseline_observed) == (D(680), True)
    assert (progress.expected, progress.status) == (D(715), Status.ON_TRACK)


def test_observed_baseline_is_else_the_first_report_at_its_own_date():
    readings = [Reading(d(2024, 7, 1), D(720)), Reading(d(2024, 3, 31), D(690))]
    # the line starts at (2024-03-31, 690) and reaches 750 at 2024-12-31, 275 days later;
    # 2024-07-01 is 92 days in: 690 + 60 × 92/275 = 710.07…
    progress = evaluate(NO_BASELINE_STOCK, ZHENJIANG, d(2024, 7, 1), readings)
    assert (progress.trajectory_start, progress.trajectory_start_on) == (D(690), d(2024, 3, 31))
    assert (progress.expected, progress.status) == (D(690) + D(60 * 92) / 275, Status.ON_TRACK)
    # as of 2024-05-01 only the first report is known: it is where the line starts, 690 + 60 × 31/275
    earlier = evaluate(NO_BASELINE_STOCK, ZHENJIANG, d(2024, 5, 1), readings)
    assert (earlier.actual, earlier.expected, earlier.status) == (D(690), D(690) + D(60 * 31) / 275, Status.AT_RISK)
    on_the_day = evaluate(NO_BASELINE_STOCK, ZHENJIANG, d(2024, 3, 31), readings)
    assert (on_the_day.expected, on_the_day.status) == (D(690), Status.ON_TRACK)


def test_a_given_baseline_wins_over_observations():
    readings = [Reading(d(2023, 12, 31), D(680))]
    start = trajectory_start(HIGH_VALUE_PATENTS, ZHENJIANG, readings)
    assert (start.at, start.value, start.observed) == (d(2023, 12, 31), D(700), False)
    assert evaluate(HIGH_VALUE_PATENTS, ZHENJIANG, d(2024, 7, 1), readings).expected == D(725)


def test_starting_values_of_other_measures():
    cumulative = trajectory_start(PLEDGE_FINANCING, ZHENJIANG, at(d(2023, 12, 31), 3))
    assert (cumulative.at, cumulative.value, cumulative.observed) == (d(2023, 12, 31), D(0), False)
    assert trajectory_start(NO_BASELINE_STOCK, ZHENJIANG, []) is None
    assert trajectory_start(ON_TIME_CLOSURE, ZHENJIANG, at(d(2024, 3, 1), 80)) is None  # a standing rate
    assert expected_at(NO_BASELINE_STOCK, ZHENJIANG, d(2024, 7, 1), None) is None
    assert observed_baseline_date(NO_BASELINE_STOCK, ZHENJIANG) == d(2023, 12, 31)
    assert observed_baseline_date(HIGH_VALUE_PATENTS, ZHENJIANG) is None
    assert observed_baseline_date(PLEDGE_FINANCING, ZHENJIANG) is None
    # a rate with a path and no baseline is observed over the plan's first month
    coverage = Indicator(Measure.RATE, Direction.AT_LEAST, D(100), "%", {2026: D(100)})
    assert observed_baseline_window(coverage, ZHENJIANG) == (d(2024, 1, 1), d(2024, 1, 31))


# --- forecast ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "indicator, period, on, actual, forecast, meets",
    [
        # stock: 700 + (730 − 700) × 1096/183 = 879.67… ≥ 850
        (HIGH_VALUE_PATENTS, ZHENJIANG, d(2024, 7, 1), "730", D(700) + D(30 * 1096) / 183, True),
        # at_most stock: 20 + (14 − 20) × 366/183 = 8 > 5
        (OVERDUE_CASES, YEAR_2024, d(2024, 7, 1), "14", D(8), False),
        # cumulative: 0 + 1.5 × 1096/183 = 8.98… ≥ 5
        (PLEDGE_FINANCING, ZHENJIANG, d(2024, 7, 1), "1.5", D("1.5") * 1096 / 183, True),
        # at_most 0: 1 × 1096/183 = 5.98… > 0
        (MAJOR_GROUP_CASES, ZHENJIANG, d(2024, 7, 1), "1", D(1096) / 183, False),
        # annual: 820 in 183 days, over the final year's 365: 820 × 365/183 = 1635.5… ≥ 1600
        (ANNUAL_GRANTS, YICHANG, d(2024, 7, 1), "820", D(820 * 365) / 183, True),
        # rate: the current value
        (ON_TIME_CLOSURE, ZHENJIANG, d(2024, 7, 1), "85", D(85), False),
        # annual_average: the current average, 1.9/2 = 0.95
        (AVERAGE_LOANS, YICHANG, d(2022, 12, 31), "1.9", D("0.95"), False),
    ],
)
def test_forecast_at_plan_end(indicator, period, on, actual, forecast, meets):
    progress = evaluate(indicator, period, on, at(on, actual))
    assert (progress.forecast, progress.forecast_meets_target) == (forecast, meets)


def test_no_forecast_without_a_reading_since_the_plan_start():
    progress = evaluate(NO_BASELINE_STOCK, ZHENJIANG, d(2024, 7, 1), at(d(2023, 12, 31), 680))
    assert (progress.actual, progress.forecast, progress.forecast_meets_target) == (D(680), None, None)


# --- milestones, years, windows, ratios, units -----------------------------------------------


@pytest.mark.parametrize(
    "indicator, year, value",
    [
        (HIGH_VALUE_PATENTS, 2024, D(750)),
        (HIGH_VALUE_PATENTS, 2025, D(800)),
        (HIGH_VALUE_PATENTS, 2026, D(850)),
        # no milestones: the target
        (ON_TIME_CLOSURE, 2024, D(90)),
        # a year without its own milestone: the next one set
        (Indicator(Measure.ANNUAL, Direction.AT_LEAST, D(9), "件", {2025: D(7)}), 2024, D(7)),
        # the final year's milestone gives way to the target due that year
        (Indicator(Measure.RATE, Direction.AT_LEAST, D(90), "%", {2026: D(88)}), 2026, D(90)),
    ],
)
def test_milestone_for_year(indicator, year, value):
    assert milestone_for_year(indicator, ZHENJIANG, year) == value


def test_the_views_milestone_is_that_of_the_as_of_year():
    assert evaluate(HIGH_VALUE_PATENTS, ZHENJIANG, d(2025, 3, 1)).milestone_this_year == D(800)


@pytest.mark.parametrize(
    "start, on, years",
    [
        (d(2024, 1, 1), d(2024, 7, 1), D("0.5")),  # 183/366
        (d(2021, 1, 1), d(2022, 12, 31), D(2)),
        (d(2021, 7, 1), d(2022, 6, 30), D(1)),  # 184/365 + 181/365
        (d(2021, 1, 1), d(2023, 6, 30), D(2) + D(181) / 365),
        (d(2021, 1, 1), d(2020, 12, 31), D(0)),
    ],
)
def test_years_elapsed(start, on, years):
    assert years_elapsed(start, on) == years


def test_annual_average_divides_flows_by_years_elapsed():
    # 1.5 亿元 over 2024-01-01..2024-07-01 (half a year) is 3 亿元 a year
    period = Period(d(2024, 1, 1), d(2028, 12, 31))
    progress = evaluate(AVERAGE_LOANS, period, d(2024, 7, 1), at(d(2024, 7, 1), "1.5"))
    assert (progress.actual, progress.status) == (D(3), Status.ON_TRACK)
    assert "累计 1.5 ÷ 已过 0.5 年" in progress.explanation


@pytest.mark.parametrize(
    "indicator, as_of, window",
    [
        (HIGH_VALUE_PATENTS, d(2024, 7, 1), (None, d(2024, 7, 1))),
        (HIGH_VALUE_PATENTS, d(2023, 7, 1), (None, d(2023, 7, 1))),
        (PLEDGE_FINANCING, d(2025, 7, 1), (d(2024, 1, 1), d(2025, 7, 1))),
        (PLEDGE_FINANCING, d(2023, 7, 1), None),
        (AVERAGE_LOANS, d(2030, 1, 1), (d(2024, 1, 1), d(2026, 12, 31))),
        (ANNUAL_GRANTS, d(2025, 7, 1), (d(2025, 1, 1), d(2025, 7, 1))),
        (ON_TIME_CLOSURE, d(2025, 7, 1), (d(2024, 1, 1), d(2025, 7, 1))),
        (
            Indicator(Measure.RATE, Direction.AT_LEAST, D(90), "%", {2025: D(85)}),
            d(2025, 7, 1),
            (d(2025, 1, 1), d(2025, 7, 1)),
        ),
    ],
)
def test_actual_window(indicator, as_of, window):
    assert actual_window(indicator, ZHENJIANG, as_of) == window


@pytest.mark.parametrize(
    "direction, value, target, ratio",
    [
        (Direction.AT_LEAST, D(425), D(850), D("0.5")),
        (Direction.AT_LEAST, D(900), D(850), D(1)),
        (Direction.AT_LEAST, D(-3), D(8), D(0)),
        (Direction.AT_LEAST, D(0), D(0), D(1)),
        (Direction.AT_MOST, D(10), D(5), D("0.5")),  # 5/10
        (Direction.AT_MOST, D(3), D(5), D(1)),
        (Direction.AT_MOST, D(0), D(0), D(1)),
        (Direction.AT_MOST, D(2), D(0), D(0)),
    ],
)
def test_progress_ratio(direction, value, target, ratio):
    assert progress_ratio(direction, value, target) == ratio


def test_progress_bar_places_actual_and_expected():
    progress = evaluate(PLEDGE_FINANCING, ZHENJIANG, d(2024, 7, 1), at(d(2024, 7, 1), "1.5"))
    assert (progress.progress, progress.expected_progress) == (D("0.3"), D("0.2"))  # 1.5/5, 1/5


@pytest.mark.parametrize(
    "value, from_unit, to_unit, converted",
    [
        (D("150000000"), "元", "亿元", D("1.5")),
        (D("12345"), "元", "万元", D("1.2345")),
        (D("17.3"), "亿元", "元", D("1730000000")),
        (D("0.01"), "元", "亿元", D("1E-10")),
        (D("42"), "件", "件", D("42")),
        (D("90"), "%", "%", D("90")),
    ],
)
def test_convert(value, from_unit, to_unit, converted):
    assert convert(value, from_unit, to_unit) == converted


@pytest.mark.parametrize("from_unit, to_unit", [("件", "家"), ("元", "件"), ("%", "亿元")])
def test_convert_refuses_other_units(from_unit, to_unit):
    with pytest.raises(UnitError):
        convert(D(1), from_unit, to_unit)


def test_a_pledge_in_yuan_read_against_an_indicator_in_yi_yuan():
    amount = convert(D("150000000.00"), "元", "亿元")
    assert evaluate(PLEDGE_FINANCING, ZHENJIANG, d(2024, 7, 1), at(d(2024, 7, 1), amount)).status is Status.ON_TRACK


def test_indicator_from_the_targets_contract():
    indicator = Indicator.from_dict(
        {
            "key": "hv",
            "measure": "stock",
            "direction": "at_least",
            "unit": "件",
            "target": "850",
            "milestones": {"2024": "750", "2025": D(800)},
            "baseline": {"year": 2023, "value": "700"},
            "nature": "binding",
        }
    )
    assert indicator.milestones == {2024: D(750), 2025: D(800)}
    assert (indicator.measure, indicator.baseline, indicator.target) == (Measure.STOCK, Baseline(2023, D(700)), D(850))


def test_floats_and_backwards_periods_are_refused():
    with pytest.raises(TypeError):
        Indicator(Measure.RATE, Direction.AT_LEAST, 0.9, "%")
    with pytest.raises(TypeError):
        Reading(d(2024, 1, 1), 1.5)
    with pytest.raises(ValueError):
        Period(d(2024, 1, 2), d(2024, 1, 1))


# --- properties --------------------------------------------------------------------------------

amounts = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False, allow_infinity=False)
plan_periods = st.builds(
    lambda start, days: Period(start, start + timedelta(days=days)),
    st.dates(d(2018, 1, 1), d(2030, 12, 31)),
    st.integers(0, 6 * 366),
)


@st.composite
def rising_level_indicators(draw):
    """A stock or cumulative at_least indicator on a plan, with non-decreasing start, milestones and target."""
    period = draw(plan_periods)
    years = range(period.start.year, period.end.year + 1)
    chosen = sorted(draw(st.sets(st.sampled_from(years), max_size=len(years))))
    steps = draw(st.lists(st.decimals(0, 500, places=2), min_size=len(chosen) + 1, max_size=len(chosen) + 1))
    start = draw(st.decimals(0, 1000, places=2))
    levels = [start + sum(steps[: i + 1]) for i in range(len(steps))]
    indicator = Indicator(
        draw(st.sampled_from([Measure.STOCK, Measure.CUMULATIVE])),
        Direction.AT_LEAST,
        levels[-1],
        "件",
        dict(zip(chosen, levels[:-1], strict=True)),
        Baseline(period.start.year - 1, start),
    )
    return indicator, period, start


@settings(max_examples=150, deadline=None)
@given(rising_level_indicators(), st.integers(0, 7 * 366), st.integers(0, 7 * 366))
def test_expected_never_falls_on_a_rising_trajectory(case, offset_1, offset_2):
    indicator, period, start = case
    earlier, later = sorted([period.start + timedelta(days=offset_1), period.start + timedelta(days=offset_2)])
    assert expected(indicator, period, earlier, start) <= expected(indicator, period, later, start)
    assert start <= expected(indicator, period, earlier, start) <= indicator.target


@settings(max_examples=100, deadline=None)
@given(rising_level_indicators())
def test_trajectory_passes_its_milestones_and_ends_on_the_target(case):
    indicator, period, start = case
    for year, value in indicator.milestones.items():
        if d(year, 12, 31) < period.end:
            assert expected(indicator, period, d(year, 12, 31), start) == value
    assert expected(indicator, period, period.end, start) == indicator.target


# Actuals near the expected value, so that the 10 % band is crossed often (and hit exactly).
near_expected = st.builds(
    lambda expected_value, percent, target: (expected_value + expected_value * percent / 100, expected_value, target),
    amounts,
    st.integers(-20, 20),
    amounts,
)


@given(st.one_of(st.tuples(amounts, amounts, amounts), near_expected))
def test_at_most_status_mirrors_at_least(case):
    actual, expected_value, target = case
    assert status_of(Direction.AT_MOST, actual, expected_value, target) is status_of(
        Direction.AT_LEAST, -actual, -expected_value, -target
    )


@given(amounts, amounts, amounts)
def test_status_worsens_as_the_actual_falls_behind(actual, expected_value, shortfall):
    # for at_least, a lower actual never gets a better status
    order = [Status.ACHIEVED, Status.ON_TRACK, Status.AT_RISK, Status.BEHIND]
    target = max(expected_value, D(0))
    better = status_of(Direction.AT_LEAST, actual, expected_value, target)
    worse = status_of(Direction.AT_LEAST, actual - abs(shortfall), expected_value, target)
    assert order.index(worse) >= order.index(better)


@given(st.dates(d(2018, 1, 1), d(2030, 12, 31)), st.decimals(0, 10_000, places=2))
def test_annual_expected_grows_to_the_years_figure(on, figure):
    indicator = Indicator(Measure.ANNUAL, Direction.AT_LEAST, figure, "件")
    period = Period(d(on.year, 1, 1), d(on.year, 12, 31))
    assert D(0) < expected(indicator, period, on) <= figure or figure == 0
    assert expected(indicator, period, period.end) == figure


@given(st.dates(d(2000, 1, 1), d(2040, 1, 1)), st.integers(0, 20))
def test_whole_calendar_years_elapse_as_whole_numbers(start_year_day, years):
    start = d(start_year_day.year, 1, 1)
    assert years_elapsed(start, d(start.year + years, 12, 31)) == years + 1


@given(st.decimals(0, 10**12, places=2))
def test_yuan_round_trips_through_yi_yuan_exactly(amount):
    assert convert(convert(amount, "元", "亿元"), "亿元", "元") == amount
