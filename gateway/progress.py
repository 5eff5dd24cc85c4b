"""How far an indicator of a plan is: its yearly figures, its trajectory, the value expected by a
date, the status, the verdict of each plan year and the forecast for the plan end. Plain rules
with no I/O; the caller gathers the readings (:func:`reading_windows` says which) and converts
them to the indicator's unit first (:func:`convert`). ``docs/progress.md`` says the same with
worked examples.

Conventions, chosen so that every figure can be checked by hand:

* A date stands for the **end of that day**: "as of 2024-07-01" includes 1 July. A plan starts at
  the beginning of its start date and ends at the end of its end date, so the plan
  2024-01-01..2024-12-31 lasts 366 days and on 2024-07-01 183 of them have passed.
* Arithmetic is ``Decimal``; a ratio is computed as ``a * k / n`` (one division, last), so it is
  exact whenever it can be and otherwise rounded to the context's 28 significant digits.
* After the plan end everything is read as of the plan end (a closed plan keeps its result).

**Yearly figures** (:func:`year_figure`). The figure due in a year is the milestone the plan gives
for it; in the plan's last year, the target. A year without either lies between two anchors —
the baseline (at its year), the milestones, the target (at the plan's last year) — and its figure
is interpolated between them: linearly, or geometrically (the same growth rate every year) when
the indicator's ``trajectory`` is ``compound``. With baseline 1,000 (2021) and target 2,000
(2026), 2022's figure is 1,200 (linear) or 1,000 × 2^(1/5) = 1,148.7 (compound). A year before
the first anchor (no baseline) takes the next milestone set, or the target. A range ("每年 1—2 场",
``{min: 1, max: 2}``) counts by its minimum; its maximum is shown.

The rules per measure:

``stock``, ``cumulative`` and a ``rate`` with a path
    A level along a trajectory of dated points: the start point, each year's end with its figure
    (given or interpolated as above), the target at plan end. A milestone due on or after the
    plan end gives way to the target. Between two points the value is interpolated by days
    (linear) or at a constant daily growth (compound), and never asks more than the next point
    (at_least; less for at_most). The start point is the baseline at plan start when the plan
    gives one; for a cumulative without one, 0 at plan start; for a stock or a rate without one,
    the last reading before plan start (for a metric, its level the day before, or the rate over
    the plan's first month: :func:`observed_baseline_window`), or else **the first reading, at
    its own date** — the line starts where the indicator was first observed, so that reading is
    on track by construction, and milestones due before it are passed over.
    A rate has a path when the plan makes it move: a baseline, figures that differ from year to
    year, or one figure first due after the plan's first year (贯标覆盖率 100 % in 2026, for a
    plan from 2024). A rate given only its target, or the same figure for every year from the
    first (按期结案率 ≥ 90 % each year), is a standing requirement: the figure at every date.
    A metric rate with a path and no baseline whose first month gives no rate (nothing closed
    yet) has no start point: until it has one, the year's figure holds.
``annual``
    A pace over the 365 (366) days of each calendar year: expected by a date = the year's figure ×
    (days from the later of 1 Jan and plan start to the date) ÷ (days of the calendar year). So a
    first year starting 2024-03-26 expects one day's share on 2024-03-26, and a plan ending
    2025-06-30 expects 181/365 of 2025's figure at its end. The actual is the flows since the
    later of 1 Jan and plan start. Each plan year is also judged on its own (:class:`YearResult`):
    its due value is the figure × its days in the plan ÷ the days of the year; once the year is
    over it is met or missed, the year of the date is in progress.
``annual_average``
    Expected: the year's figure, at every date (a pace, not a level). The actual of a metric is
    the flows since plan start divided by the years elapsed (:func:`years_elapsed`,
    calendar-exact: each calendar year counts its days in the plan up to the date over its own
    length); a department's report is already the average so far and is taken as it is.
``rate`` without a path
    Expected: the year's figure at every date. Measured over the calendar year when the indicator
    has milestones (they are per year), otherwise over the plan window (:func:`actual_window`).

Status, first that applies: ``not_started`` (as of before plan start), ``no_data`` (no actual),
``achieved`` (see below), ``on_track`` (the actual meets the expected value), ``at_risk`` (it misses
the expected value by at most 10 % of the expected value's magnitude, bound included: for at_least
``actual >= expected - |expected|/10``, for at_most ``actual <= expected + |expected|/10``; so an
at_most 0 tolerates nothing), ``behind``.

``achieved`` is said only of what can no longer be undone. A stock, and a cumulative at_least,
once the actual meets the target. A rate, an annual_average, a ceiling on flows (at_most
cumulative) only once the plan has ended — until then the next case or the next year may still
change it, and meeting the target is on track. An annual only once the plan has ended with every
plan year met; with a year missed it is ``behind`` then, and never ``achieved`` before.

Forecast, the value at plan end if the pace since the start point holds: a level extends the line
from the start point through the latest reading to the plan end; annual takes the current year's
daily pace over the final year's days in the plan; rate and annual_average keep the current value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from zhichan import money

ONE_DAY = timedelta(days=1)
AT_RISK_BAND = Decimal("0.1")  # the share of the expected value an actual may fall short by and be at risk
SHOWN_DECIMALS = Decimal("0.0001")  # explanations round long fractions to this; values never are


class Measure(StrEnum):
    STOCK = "stock"
    CUMULATIVE = "cumulative"
    ANNUAL = "annual"
    ANNUAL_AVERAGE = "annual_average"
    RATE = "rate"


class Direction(StrEnum):
    AT_LEAST = "at_least"
    AT_MOST = "at_most"


class Trajectory(StrEnum):
    LINEAR = "linear"
    COMPOUND = "compound"


class Status(StrEnum):
    NOT_STARTED = "not_started"
    NO_DATA = "no_data"
    ACHIEVED = "achieved"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BEHIND = "behind"


class YearVerdict(StrEnum):
    MET = "met"
    MISSED = "missed"
    IN_PROGRESS = "in_progress"
    NO_DATA = "no_data"


class UnitError(ValueError):
    pass


def to_decimal(value: object) -> Decimal:
    """A finite Decimal from a Decimal, int or decimal string; floats are refused (they are not exact)."""
    if isinstance(value, bool | float):
        raise TypeError(f"expected a decimal, not {type(value).__name__}: {value!r}")
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return number


def convert(value: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """``value`` in ``to_unit``: identity for the same unit, exact between 元 / 万元 / 亿元, refused otherwise."""
    if from_unit == to_unit:
        return value
    if from_unit in money.MONEY_UNITS and to_unit in money.MONEY_UNITS:
        return money.convert(value, from_unit, to_unit)
    raise UnitError(f"cannot convert {from_unit} to {to_unit}")


@dataclass(frozen=True)
class Baseline:
    year: int
    value: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", to_decimal(self.value))


@dataclass(frozen=True)
class Indicator:
    """What the rules need of an indicator; values are in ``unit``. Strings and ints are accepted
    for the enums, years and values (as in the targets contract), floats are not.

    ``target`` and ``milestones`` are the figures the verdict uses (a range's minimum);
    ``target_max`` and ``milestone_maxima`` the maxima of the ones given as ranges. ``reported``:
    the readings are departments' reports (an annual_average's report is the average itself)."""

    measure: Measure
    direction: Direction
    target: Decimal
    unit: str
    milestones: Mapping[int, Decimal] = field(default_factory=dict)
    baseline: Baseline | None = None
    nature: str = "expected"
    trajectory: Trajectory = Trajectory.LINEAR
    target_max: Decimal | None = None
    milestone_maxima: Mapping[int, Decimal] = field(default_factory=dict)
    reported: bool = False
    # The points of its trajectory without labels, per (period, start point): a view evaluates
    # the same indicator at many dates and, a plan's state kept parsed, in many views.
    _points: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "measure", Measure(self.measure))
        object.__setattr__(self, "direction", Direction(self.direction))
        object.__setattr__(self, "trajectory", Trajectory(self.trajectory))
        object.__setattr__(self, "target", to_decimal(self.target))
        if self.target_max is not None:
            object.__setattr__(self, "target_max", to_decimal(self.target_max))
        for name in ("milestones", "milestone_maxima"):
            values = {int(year): to_decimal(value) for year, value in getattr(self, name).items()}
            object.__setattr__(self, name, dict(sorted(values.items())))

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Indicator:
        """From the targets contract's indicator state (``model_dump()``), ignoring the other fields."""
        baseline = data.get("baseline")
        source = data.get("source", "reported")
        return cls(
            measure=data["measure"],
            direction=data["direction"],
            target=data["target"],
            unit=data["unit"],
            milestones=data.get("milestones") or {},
            baseline=Baseline(int(baseline["year"]), baseline["value"]) if baseline else None,
            nature=data.get("nature", "expected"),
            trajectory=data.get("trajectory") or Trajectory.LINEAR,
            target_max=data.get("target_max"),
            milestone_maxima=data.get("milestone_maxima") or {},
            reported=bool(data.get("accepts_reports", source == "reported")),
        )


@dataclass(frozen=True)
class Period:
    """A plan's period, both dates included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"plan ends ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def years(self) -> range:
        return range(self.start.year, self.end.year + 1)

    def year_window(self, year: int) -> tuple[date, date]:
        """The days of ``year`` inside the plan (both included)."""
        return max(self.start, date(year, 1, 1)), min(self.end, date(year, 12, 31))


@dataclass(frozen=True)
class Reading:
    """An observed value of the indicator at the end of ``on``, in the indicator's unit, read over
    the measure's window (:func:`actual_window`): a stock's level, a cumulative's or an
    annual_average's flows since plan start (a report: the average), an annual's flows since the
    later of 1 Jan and plan start, a rate."""

    on: date
    value: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", to_decimal(self.value))


@dataclass(frozen=True)
class TrajectoryPoint:
    """``value`` is due at the end of ``at``; a start point at plan start is dated the day before."""

    at: date
    value: Decimal
    label: str


@dataclass(frozen=True)
class StartPoint(TrajectoryPoint):
    observed: bool = False


@dataclass(frozen=True)
class YearFigure:
    year: int
    value: Decimal
    value_max: Decimal | None
    how: str  # which rule gave it, in Chinese (shown in explanations)


@dataclass(frozen=True)
class Expected:
    value: Decimal
    explanation: str


@dataclass(frozen=True)
class YearResult:
    """One plan year of an annual indicator: the year's figure, the value due over its days in the
    plan (to the date, while it runs), the flows read for it and the verdict."""

    year: int
    start: date
    end: date
    figure: Decimal
    figure_max: Decimal | None
    due: Decimal
    actual: Decimal | None
    actual_on: date | None
    verdict: YearVerdict


@dataclass(frozen=True)
class Progress:
    """One indicator of the progress view. ``actual`` is the figure compared with the target (for an
    annual_average, the average, not the flows). ``progress`` and ``expected_progress`` place the
    actual and the expected value on a 0..1 bar towards the target (:func:`progress_ratio`)."""

    unit: str
    target: Decimal
    target_max: Decimal | None
    milestone_this_year: Decimal
    milestone_this_year_max: Decimal | None
    actual: Decimal | None
    actual_on: date | None
    expected: Decimal | None
    status: Status
    progress: Decimal | None
    expected_progress: Decimal | None
    forecast: Decimal | None
    forecast_meets_target: bool | None
    trajectory_start: Decimal | None
    trajectory_start_on: date | None
    baseline_observed: bool
    years: list[YearResult]
    explanation: str


def follows_path(indicator: Indicator, period: Period) -> bool:
    """Whether the expected value is a level along a trajectory (module docstring): a stock, a
    cumulative, or a rate that the plan makes move — a baseline, figures that differ, or one
    figure first due after the plan's first year (to reach by then)."""
    if indicator.measure in (Measure.STOCK, Measure.CUMULATIVE):
        return True
    if indicator.measure is not Measure.RATE:
        return False
    if indicator.baseline is not None:
        return True
    figures = {*indicator.milestones.values(), indicator.target}
    return len(figures) > 1 or (bool(indicator.milestones) and period.start.year not in indicator.milestones)


def meets(direction: Direction, value: Decimal, bound: Decimal) -> bool:
    return value >= bound if direction is Direction.AT_LEAST else value <= bound


# --- yearly figures --------------------------------------------------------------------------------


def _interpolate(trajectory: Trajectory, a: Decimal, b: Decimal, share: Fraction) -> Decimal:
    """The value ``share`` (0..1) of the way from ``a`` to ``b``: linear, or at a constant growth
    rate (which needs both ends positive; otherwise linear, see :func:`_grows`)."""
    if _grows(trajectory, a, b):
        return a * (b / a) ** (Decimal(share.numerator) / share.denominator)
    return a + (b - a) * share.numerator / share.denominator


def _grows(trajectory: Trajectory, a: Decimal, b: Decimal) -> bool:
    return trajectory is Trajectory.COMPOUND and a > 0 and b > 0


def _growth_rule(trajectory: Trajectory, a: Decimal, b: Decimal, years: Fraction) -> str:
    if _grows(trajectory, a, b):
        rate = ((b / a) ** (Decimal(years.denominator) / years.numerator) - 1) * 100
        return f"按年均增长率 {rate:.2f}% 复合插值"
    if trajectory is Trajectory.COMPOUND:
        return "线性插值(复合增长需两端为正)"
    return "线性插值"


def _year_anchors(indicator: Indicator, period: Period) -> list[tuple[int, Decimal, str]]:
    anchors = []
    if indicator.baseline is not None and indicator.baseline.year < period.end.year:
        anchors.append((indicator.baseline.year, indicator.baseline.value, f"{indicator.baseline.year}年基期值"))
    for year, value in indicator.milestones.items():
        if year < period.end.year and (not anchors or year > anchors[-1][0]):
            anchors.append((year, value, f"{year}年里程碑"))
    anchors.append((period.end.year, indicator.target, f"{period.end.year}年目标值"))
    return anchors


def year_figure(indicator: Indicator, period: Period, year: int, *, explain: bool = True) -> YearFigure:
    """The figure due in ``year`` and how it was found (rules in the module's docstring); without
    ``explain``, an interpolated figure's ``how`` is left empty (the same value, no text made)."""
    if year >= period.end.year:
        return YearFigure(year, indicator.target, indicator.target_max, "目标值")
    if year in indicator.milestones:
        return YearFigure(year, indicator.milestones[year], indicator.milestone_maxima.get(year), f"{year}年里程碑")
    anchors = _year_anchors(indicator, period)
    after = next(i for i, anchor in enumerate(anchors) if anchor[0] >= year)
    if after == 0:  # nothing set before this year: the next figure set holds
        next_year, value, label = anchors[0]
        value_max = indicator.target_max if next_year >= period.end.year else indicator.milestone_maxima.get(next_year)
        return YearFigure(year, value, value_max, label)
    (year_a, a, label_a), (year_b, b, label_b) = anchors[after - 1], anchors[after]
    span = Fraction(year_b - year_a)
    value = _interpolate(indicator.trajectory, a, b, Fraction(year - year_a) / span)
    if not explain:
        return YearFigure(year, value, None, "")
    rule = _growth_rule(indicator.trajectory, a, b, span)
    return YearFigure(year, value, None, f"由{label_a} {_fmt(a)} 至{label_b} {_fmt(b)} {rule}")


def milestone_for_year(indicator: Indicator, period: Period, year: int) -> Decimal:
    """The figure due in ``year`` (:func:`year_figure`)."""
    return year_figure(indicator, period, year).value


# --- years elapsed ------------------------------------------------------------------------------


def _years_fraction(start: date, on: date) -> Fraction:
    total = Fraction(0)
    for year in range(start.year, on.year + 1):
        first, last = max(start, date(year, 1, 1)), min(on, date(year, 12, 31))
        total += Fraction((last - first).days + 1, _days_in_year(year))
    return total


def _days_in_year(year: int) -> int:
    return (date(year, 12, 31) - date(year, 1, 1)).days + 1


def years_elapsed(start: date, on: date) -> Decimal:
    """Years from the beginning of ``start`` to the end of ``on``, each calendar year counting its
    days in that span over its own length (0 when ``on`` is before ``start``)."""
    years = _years_fraction(start, on)
    return Decimal(years.numerator) / years.denominator


def annual_average(flows: Decimal, start: date, on: date) -> Decimal:
    """Flows since ``start`` (up to the end of ``on``) per year elapsed."""
    years = _years_fraction(start, on)
    if years == 0:
        raise ValueError(f"no time has elapsed from {start} to {on}")
    return flows * years.denominator / years.numerator


def _position(on: date) -> Fraction:
    """The end of ``on`` in calendar-exact years: the end of 31 Dec 2022 is 2023."""
    return on.year + Fraction((on - date(on.year, 1, 1)).days + 1, _days_in_year(on.year))


# --- what to read ---------------------------------------------------------------------------------


def observed_baseline_window(indicator: Indicator, period: Period) -> tuple[date | None, date] | None:
    """Where the caller should read a metric-bound indicator to observe its start when the plan
    gives no baseline: a stock's level at the end of the day before plan start ``(None, day)``, a
    rate with a path over the plan's first month; else None."""
    if indicator.baseline is not None:
        return None
    if indicator.measure is Measure.STOCK:
        return None, period.start - ONE_DAY
    if indicator.measure is Measure.RATE and follows_path(indicator, period):
        month_end = (period.start.replace(day=28) + timedelta(days=4)).replace(day=1) - ONE_DAY
        return period.start, min(month_end, period.end)
    return None


def observed_baseline_date(indicator: Indicator, period: Period) -> date | None:
    """The date of the observation :func:`observed_baseline_window` asks for, if any."""
    window = observed_baseline_window(indicator, period)
    return None if window is None else window[1]


def actual_window(indicator: Indicator, period: Period, as_of: date) -> tuple[date | None, date] | None:
    """The days (both included) over which to read a bound metric for the actual as of ``as_of``:
    ``(None, day)`` for a stock's level at the end of ``day``; None when there is nothing to read
    (before the plan starts, except a stock's level)."""
    on = min(as_of, period.end)
    if indicator.measure is Measure.STOCK:
        return None, on
    if on < period.start:
        return None
    if indicator.measure is Measure.ANNUAL:
        return period.year_window(on.year)[0], on
    if indicator.measure is Measure.RATE and indicator.milestones:
        return date(on.year, 1, 1), on
    return period.start, on


def reading_windows(indicator: Indicator, period: Period, as_of: date) -> list[tuple[date | None, date]]:
    """Every window a metric-bound indicator is read over as of ``as_of``: its observed start
    (:func:`observed_baseline_window`), each ended plan year of an annual (judged year by year),
    and the actual's window."""
    windows = []
    if (observed := observed_baseline_window(indicator, period)) is not None and observed[1] <= as_of:
        windows.append(observed)
    on = min(as_of, period.end)
    if indicator.measure is Measure.ANNUAL:
        windows.extend(period.year_window(year) for year in range(period.start.year, on.year) if on >= period.start)
    if (window := actual_window(indicator, period, as_of)) is not None and window not in windows:
        windows.append(window)
    return windows


def _readable(indicator: Indicator, period: Period, on: date, reading: Reading) -> bool:
    """Whether ``reading`` can stand for the actual as of ``on`` (``on`` no later than the plan end)."""
    if reading.on > on:
        return False
    if indicator.measure is Measure.STOCK:
        return True  # a level holds until the next reading
    if indicator.measure is Measure.ANNUAL:
        return reading.on.year == on.year and reading.on >= period.start  # last year's flows say nothing of this
    return reading.on >= period.start


# --- the trajectory of a level -------------------------------------------------------------------


def trajectory_start(
    indicator: Indicator,
    period: Period,
    readings: Iterable[Reading],
    as_of: date | None = None,
    *,
    explain: bool = True,
) -> StartPoint | None:
    """The start point of an indicator with a path (module docstring), from the readings known
    (up to ``as_of`` when given); None when nothing is known or the indicator has no path.
    Without ``explain`` its label is left empty."""
    if not follows_path(indicator, period):
        return None
    before_start = period.start - ONE_DAY
    if indicator.baseline is not None:
        label = f"{indicator.baseline.year}年基期值(计划开始 {period.start})" if explain else ""
        return StartPoint(before_start, indicator.baseline.value, label)
    if indicator.measure is Measure.CUMULATIVE:
        return StartPoint(before_start, Decimal(0), f"累计起点(计划开始 {period.start})" if explain else "")
    known = sorted((r for r in readings if as_of is None or r.on <= as_of), key=lambda r: (r.on, r.value))
    if indicator.measure is Measure.RATE and not indicator.reported:
        # A metric's rate is observed over the plan's first month; its later values are actuals,
        # not a start (the line would start at every actual and always be on track).
        observed = observed_baseline_window(indicator, period)
        known = [r for r in known if observed is not None and r.on <= observed[1]]
    before = [r for r in known if r.on < period.start]
    if before:
        label = f"观测基期值(计划开始 {period.start})" if explain else ""
        return StartPoint(before_start, before[-1].value, label, observed=True)
    if known:
        label = f"首次观测值({known[0].on})" if explain else ""
        return StartPoint(known[0].on, known[0].value, label, observed=True)
    return None


TRAJECTORIES_KEPT = 16  # start points kept per indicator: an observed start moves rarely


def trajectory(
    indicator: Indicator, period: Period, start: TrajectoryPoint, *, explain: bool = True
) -> Sequence[TrajectoryPoint]:
    """The points an indicator with a path is expected to pass, in order: the start, each year's
    end after it and before the plan end (its figure given, or interpolated between the points
    around it by calendar-exact years), the target at plan end. Without ``explain`` the points'
    labels are left empty (and the points kept on the indicator, :attr:`Indicator._points`)."""
    if explain:
        return _trajectory(indicator, period, start, explain=True)
    key = (period, start.at, start.value)
    points = indicator._points.get(key)
    if points is None:
        if len(indicator._points) >= TRAJECTORIES_KEPT:
            indicator._points.clear()
        points = indicator._points[key] = _trajectory(indicator, period, start, explain=False)
    return points


def _trajectory(
    indicator: Indicator, period: Period, start: TrajectoryPoint, *, explain: bool
) -> tuple[TrajectoryPoint, ...]:
    anchors = [start]
    for year, value in indicator.milestones.items():
        due = date(year, 12, 31)
        if anchors[-1].at < due < period.end:
            anchors.append(TrajectoryPoint(due, value, f"{year}年里程碑({due})" if explain else ""))
    end = TrajectoryPoint(period.end, indicator.target, f"目标值(计划结束 {period.end})" if explain else "")
    anchors.append(end)
    points = [start]
    for before, after in zip(anchors, anchors[1:], strict=False):
        for year in range(before.at.year, after.at.year):
            due = date(year, 12, 31)
            if before.at < due < after.at:
                share = (_position(due) - _position(before.at)) / (_position(after.at) - _position(before.at))
                value = _interpolate(indicator.trajectory, before.value, after.value, share)
                points.append(TrajectoryPoint(due, value, f"{year}年末插值({due})" if explain else ""))
        points.append(after)
    return tuple(points)


def _along_trajectory(
    indicator: Indicator, start: TrajectoryPoint, period: Period, on: date, explain: bool = True
) -> Expected:
    points = trajectory(indicator, period, start, explain=explain)
    following = next(i for i, point in enumerate(points) if point.at >= on)
    if following == 0:  # on the start point's own date
        return Expected(start.value, f"{start.label} {_fmt(start.value)}" if explain else "")
    before, after = points[following - 1], points[following]
    elapsed, span = (on - before.at).days, (after.at - before.at).days
    value = _interpolate(indicator.trajectory, before.value, after.value, Fraction(elapsed, span))
    # Between two points the line never asks more than the later one does (a start observed
    # above a milestone is not a demand to fall to it at a constant pace, only to hold it).
    value = min(value, after.value) if indicator.direction is Direction.AT_LEAST else max(value, after.value)
    if not explain:
        return Expected(value, "")
    how = "复合增长" if _grows(indicator.trajectory, before.value, after.value) else "线性插值"
    explanation = (
        f"自{before.label} {_fmt(before.value)} 至{after.label} {_fmt(after.value)} {how},"
        f"已过 {elapsed}/{span} 天 = {_fmt(value)}"
    )
    if indicator.trajectory is Trajectory.COMPOUND and (rule := _path_rule(indicator, period, start)):
        explanation += f"({rule})"
    return Expected(value, explanation)


def _path_rule(indicator: Indicator, period: Period, start: TrajectoryPoint) -> str:
    """The growth the whole line assumes, when it is given by a baseline and a target alone."""
    if indicator.milestones:
        return ""
    years = _position(period.end) - _position(start.at)
    if years <= 0:
        return ""
    return _growth_rule(indicator.trajectory, start.value, indicator.target, years)


# --- expected value --------------------------------------------------------------------------------


def expected_at(
    indicator: Indicator, period: Period, on: date, start: TrajectoryPoint | None = None, *, explain: bool = True
) -> Expected | None:
    """The value expected by the end of ``on`` and how it was derived; None before the plan starts,
    and for an indicator with a path whose start is unknown or lies after ``on`` (``start`` from
    :func:`trajectory_start`; unused by the other measures). Without ``explain``, the same value
    and an empty explanation (for :func:`status_at`, which shows none)."""
    if on < period.start:
        return None
    on = min(on, period.end)
    path = follows_path(indicator, period)
    if path and start is not None and start.at <= on:
        return _along_trajectory(indicator, start, period, on, explain)
    if path and indicator.measure is not Measure.RATE:
        return None
    figure = year_figure(indicator, period, on.year, explain=explain)
    if indicator.measure is Measure.ANNUAL:
        first = period.year_window(on.year)[0]
        elapsed, days = (on - first).days + 1, _days_in_year(on.year)
        value = figure.value * elapsed / days
        if not explain:
            return Expected(value, "")
        explanation = (
            f"{on.year}年{_figure_text(figure)} × {elapsed}/{days} 天(自 {first},按全年 {days} 天计)= {_fmt(value)}"
        )
        return Expected(value, explanation)
    if not explain:
        return Expected(figure.value, "")
    if indicator.measure is Measure.ANNUAL_AVERAGE:
        return Expected(figure.value, f"年均值指标每日均按{on.year}年{_figure_text(figure)} 考核")
    unobserved = ";尚无起点观测值,暂按当年目标考核" if path else ""
    return Expected(figure.value, f"比率指标每日均按{on.year}年{_figure_text(figure)} 考核{unobserved}")


def _figure_text(figure: YearFigure) -> str:
    shown = _fmt(figure.value)
    if figure.value_max is not None:
        shown = f"{shown}—{_fmt(figure.value_max)}(按下限 {shown} 计)"
    if figure.how in ("目标值", f"{figure.year}年里程碑"):
        return f"{figure.how} {shown}"
    if figure.how.startswith("由"):  # interpolated
        return f"应达 {shown}({figure.how})"
    return f"按{figure.how} {shown}"  # a later year's figure, nothing being set before it


# --- status and forecast -------------------------------------------------------------------------


def status_of(
    direction: Direction, actual: Decimal, expected: Decimal, target: Decimal, *, can_be_achieved: bool = True
) -> Status:
    """achieved, on_track, at_risk or behind (the rules in the module's docstring)."""
    if can_be_achieved and meets(direction, actual, target):
        return Status.ACHIEVED
    if meets(direction, actual, expected):
        return Status.ON_TRACK
    band = abs(expected) * AT_RISK_BAND
    at_risk_bound = expected - band if direction is Direction.AT_LEAST else expected + band
    return Status.AT_RISK if meets(direction, actual, at_risk_bound) else Status.BEHIND


def progress_ratio(direction: Direction, value: Decimal, target: Decimal) -> Decimal:
    """Where ``value`` stands on a 0..1 bar towards the target: value/target for at_least,
    target/value for at_most (a ceiling met is a full bar); 1 when met and 0 when not where the
    ratio is undefined (a zero or negative denominator); clamped to 0..1."""
    if direction is Direction.AT_LEAST:
        numerator, denominator = value, target
    else:
        numerator, denominator = target, value
    if denominator > 0:
        ratio = numerator / denominator
    else:
        ratio = Decimal(1) if meets(direction, value, target) else Decimal(0)
    return min(max(ratio, Decimal(0)), Decimal(1))


def forecast_at_end(
    indicator: Indicator, period: Period, actual: Reading, start: TrajectoryPoint | None = None
) -> Decimal | None:
    """The value at plan end if the pace since the start holds (rules in the module's docstring).
    ``actual`` is in the indicator's terms (for an annual_average, the average). None when the pace
    is unknown: a level with no start point or not read since it."""
    if indicator.measure in (Measure.RATE, Measure.ANNUAL_AVERAGE):
        return actual.value
    if indicator.measure is Measure.ANNUAL:
        first = period.year_window(actual.on.year)[0]
        days_this_year = (actual.on - first).days + 1
        final_window = (period.end - period.year_window(period.end.year)[0]).days + 1
        return actual.value * final_window / days_this_year
    if start is None:
        return None
    elapsed = (actual.on - start.at).days
    if elapsed <= 0:
        return None
    return start.value + (actual.value - start.value) * (period.end - start.at).days / elapsed


def _can_be_achieved(indicator: Indicator, period: Period, as_of: date) -> bool:
    """What can still be undone is not achieved: only a stock, or a floor on flows that only
    grow (at_least cumulative), is achieved before the plan has ended (module docstring)."""
    if indicator.measure is Measure.STOCK:
        return True
    if indicator.measure is Measure.CUMULATIVE and indicator.direction is Direction.AT_LEAST:
        return True
    return as_of >= period.end


# --- the years of an annual ----------------------------------------------------------------------


def year_results(
    indicator: Indicator, period: Period, as_of: date, readings: Iterable[Reading], *, explain: bool = True
) -> list[YearResult]:
    """Each plan year of an annual indicator up to the year of ``as_of``, judged on its own: the
    latest reading of the year against the figure × its days in the plan ÷ the days of the year
    (to the date for the year that runs)."""
    if indicator.measure is not Measure.ANNUAL or as_of < period.start:
        return []
    on = min(as_of, period.end)
    readings = [r for r in readings if period.start <= r.on <= on]
    results = []
    for year in range(period.start.year, on.year + 1):
        first, last = period.year_window(year)
        running = last > on
        upto = on if running else last
        figure = year_figure(indicator, period, year, explain=explain)
        due = figure.value * ((upto - first).days + 1) / _days_in_year(year)
        latest = max((r for r in readings if r.on.year == year), key=lambda r: (r.on, r.value), default=None)
        if latest is None:
            verdict = YearVerdict.IN_PROGRESS if running else YearVerdict.NO_DATA
        elif running:
            verdict = YearVerdict.IN_PROGRESS
        else:
            verdict = YearVerdict.MET if meets(indicator.direction, latest.value, due) else YearVerdict.MISSED
        results.append(
            YearResult(
                year=year,
                start=first,
                end=last,
                figure=figure.value,
                figure_max=figure.value_max,
                due=due,
                actual=None if latest is None else latest.value,
                actual_on=None if latest is None else latest.on,
                verdict=verdict,
            )
        )
    return results


def _annual_verdict(
    indicator: Indicator, period: Period, as_of: date, actual: Decimal, expected: Decimal, years: list[YearResult]
) -> Status:
    """An annual's status: once the plan has ended, behind with a year missed and achieved with
    every year met; otherwise as its pace, never achieved."""
    if as_of >= period.end:
        if any(y.verdict is YearVerdict.MISSED for y in years):
            return Status.BEHIND
        if all(y.verdict is YearVerdict.MET for y in years):
            return Status.ACHIEVED
    return status_of(indicator.direction, actual, expected, indicator.target, can_be_achieved=False)


def _annual_status(
    indicator: Indicator, period: Period, as_of: date, actual: Decimal, expected: Decimal, years: list[YearResult]
) -> tuple[Status, str]:
    status = _annual_verdict(indicator, period, as_of, actual, expected, years)
    missed = [y.year for y in years if y.verdict is YearVerdict.MISSED]
    unknown = [y.year for y in years if y.verdict is YearVerdict.NO_DATA]
    note = f";{'、'.join(map(str, missed))}年未达到当年应达值" if missed else ""
    note += f";{'、'.join(map(str, unknown))}年无数据" if unknown else ""
    if as_of >= period.end:
        if missed:
            return status, note + ",计划已结束,判为滞后"
        if status is Status.ACHIEVED:
            return status, ";计划各年均达到当年应达值"
    return status, note + (",各年均达标后方可判定达成" if missed else "")


# --- the whole evaluation ----------------------------------------------------------------------


def actual_reading(indicator: Indicator, period: Period, as_of: date, readings: Iterable[Reading]) -> Reading | None:
    """The latest reading that stands for the actual as of ``as_of``, in the indicator's terms (a
    metric's annual_average: its flows divided by the years elapsed to the reading's date)."""
    latest = _latest_reading(indicator, period, as_of, readings)
    return None if latest is None else _in_indicator_terms(indicator, period, latest)


def _latest_reading(indicator: Indicator, period: Period, as_of: date, readings: Iterable[Reading]) -> Reading | None:
    on = min(as_of, period.end)
    candidates = (r for r in readings if _readable(indicator, period, on, r))
    # The value breaks a tie of dates, so that no verdict depends on the order readings come in.
    return max(candidates, key=lambda r: (r.on, r.value), default=None)


def _in_indicator_terms(indicator: Indicator, period: Period, reading: Reading) -> Reading:
    if indicator.measure is Measure.ANNUAL_AVERAGE and not indicator.reported:
        return Reading(reading.on, annual_average(reading.value, period.start, reading.on))
    return reading


def evaluate(indicator: Indicator, period: Period, as_of: date, readings: Iterable[Reading] = ()) -> Progress:
    """The progress of ``indicator`` as of the end of ``as_of``, from the readings known then (in
    the indicator's unit; readings after ``as_of`` are ignored)."""
    readings = list(readings)
    on = min(as_of, period.end)
    start = trajectory_start(indicator, period, readings, on)
    latest = _latest_reading(indicator, period, as_of, readings)
    actual = None if latest is None else _in_indicator_terms(indicator, period, latest)
    expected = expected_at(indicator, period, as_of, start)
    started = as_of >= period.start
    years = year_results(indicator, period, as_of, readings)
    forecast = forecast_at_end(indicator, period, actual, start) if started and actual is not None else None
    if not started:
        status, explanation = Status.NOT_STARTED, f"计划 {period.start} 开始,尚无期望值"
    elif actual is None or expected is None:
        status, explanation = (
            Status.NO_DATA,
            "尚无实际值" + (f";期望值:{expected.explanation}" if expected is not None else ""),
        )
    elif indicator.measure is Measure.ANNUAL:
        status, note = _annual_status(indicator, period, as_of, actual.value, expected.value, years)
        explanation = expected.explanation + note
    else:
        can_be_achieved = _can_be_achieved(indicator, period, as_of)
        status = status_of(
            indicator.direction, actual.value, expected.value, indicator.target, can_be_achieved=can_be_achieved
        )
        explanation = expected.explanation
        if not can_be_achieved and meets(indicator.direction, actual.value, indicator.target):
            explanation += ";已达到目标值,计划结束时方判定达成"
    if started and start is not None and start.observed and start.at >= period.start:
        explanation += f";无基期值,轨迹自{start.label} {_fmt(start.value)} 起算"
    if indicator.measure is Measure.ANNUAL_AVERAGE and latest is not None:
        if indicator.reported:
            explanation += f";实际年均值为填报值 {_fmt(actual.value)}(截至 {latest.on} 的年均值,不再折算)"
        else:
            explanation += (
                f";实际年均值 = 计划开始以来累计 {_fmt(latest.value)} ÷ 已过"
                f" {_fmt(years_elapsed(period.start, latest.on))} 年(至 {latest.on})= {_fmt(actual.value)}"
            )
    this_year = year_figure(indicator, period, on.year)
    return Progress(
        unit=indicator.unit,
        target=indicator.target,
        target_max=indicator.target_max,
        milestone_this_year=this_year.value,
        milestone_this_year_max=this_year.value_max,
        actual=None if actual is None else actual.value,
        actual_on=None if actual is None else actual.on,
        expected=None if expected is None else expected.value,
        status=status,
        progress=None if actual is None else progress_ratio(indicator.direction, actual.value, indicator.target),
        expected_progress=(
            None if expected is None else progress_ratio(indicator.direction, expected.value, indicator.target)
        ),
        forecast=forecast,
        forecast_meets_target=None if forecast is None else meets(indicator.direction, forecast, indicator.target),
        trajectory_start=None if start is None else start.value,
        trajectory_start_on=None if start is None else start.at,
        baseline_observed=start is not None and start.observed,
        years=years,
        explanation=explanation,
    )


def status_at(indicator: Indicator, period: Period, as_of: date, readings: Iterable[Reading] = ()) -> Status:
    """The status :func:`evaluate` gives, alone: the same rules on the same values, without the
    explanation, the forecast, the progress bars and the years beyond what the status needs (what
    a summary of many indicators shows). A property test holds the two together."""
    if as_of < period.start:
        return Status.NOT_STARTED
    readings = list(readings)
    latest = _latest_reading(indicator, period, as_of, readings)
    if latest is None:
        return Status.NO_DATA
    on = min(as_of, period.end)
    start = trajectory_start(indicator, period, readings, on, explain=False)
    expected = expected_at(indicator, period, as_of, start, explain=False)
    if expected is None:
        return Status.NO_DATA
    actual = _in_indicator_terms(indicator, period, latest).value
    if indicator.measure is Measure.ANNUAL:
        # The years' verdicts count only once the plan has ended (:func:`_annual_verdict`).
        ended = as_of >= period.end
        years = year_results(indicator, period, as_of, readings, explain=False) if ended else []
        return _annual_verdict(indicator, period, as_of, actual, expected.value, years)
    can_be_achieved = _can_be_achieved(indicator, period, as_of)
    return status_of(indicator.direction, actual, expected.value, indicator.target, can_be_achieved=can_be_achieved)


def _fmt(value: Decimal) -> str:
    shown = value.quantize(SHOWN_DECIMALS) if value.as_tuple().exponent < -4 else value
    return format(shown.normalize(), "f")
