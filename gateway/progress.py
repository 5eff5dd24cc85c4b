"""How far an indicator of a plan is: its trajectory, the value expected by a date, the status and
the forecast for the plan end. Plain rules with no I/O (``DOMAIN.md``, gateway — progress view);
the caller gathers the readings and converts them to the indicator's unit first (:func:`convert`).

Conventions, chosen so that every figure can be checked by hand:

* A date stands for the **end of that day**: "as of 2024-07-01" includes 1 July. A plan starts at
  the beginning of its start date and ends at the end of its end date, so the plan
  2024-01-01..2024-12-31 lasts 366 days and on 2024-07-01 183 of them have passed.
* Arithmetic is ``Decimal``; a ratio is computed as ``a * k / n`` (one division, last), so it is
  exact whenever it can be and otherwise rounded to the context's 28 significant digits.
* After the plan end everything is read as of the plan end (a closed plan keeps its result).

The rules per measure:

``stock`` and ``cumulative``
    Linear between the trajectory points: the start value at plan start, each milestone at the end
    of its year (31 Dec), the target at plan end. A milestone due on or after the plan end (its
    year is the plan's last, or the plan ends mid-year) gives way to the target, which is due then.
    The start value is the baseline when the plan gives one; otherwise, for a stock, the observed
    baseline (the last reading dated before plan start — for a metric, its level the day before,
    see :func:`observed_baseline_date` — or else the earliest reading); for a cumulative, 0.
``annual``
    The flows of the calendar year of the date, against that year's figure (:func:`milestone_for_year`)
    pro rata by days: ``figure * (days since 1 Jan) / (days from 1 Jan to the year's due date)``,
    where the due date is 31 Dec, or the plan end when the plan ends that year (so a plan ending
    2025-06-30 expects its target from the flows of 1 Jan..30 Jun 2025). In a first year that
    starts mid-year the figure still counts the whole calendar year (the measure's definition).
``annual_average``
    The actual is the flows since plan start divided by the years elapsed (:func:`years_elapsed`,
    calendar-exact: each calendar year counts its days in the plan up to the date over its own
    length, so 2024-01-01..2024-07-01 is 183/366 = 0.5 years and two full years are exactly 2).
    Expected: the year's figure, at every date (a pace, not a level).
``rate``
    Expected: the year's figure at every date. Measured over the calendar year when the indicator
    has milestones (they are per year), otherwise over the plan window (:func:`actual_window`).

Status, first that applies: ``not_started`` (as of before plan start), ``no_data`` (no actual),
``achieved`` (the actual meets the final target; for a ceiling on flows — at_most cumulative or
annual — only once the plan has ended, since the next case may still break it), ``on_track``
(it meets the expected value),
``at_risk`` (it misses the expected value by at most 10 % of the expected value's magnitude, bound
included: for at_least ``actual >= expected - |expected|/10``, for at_most
``actual <= expected + |expected|/10``; so an at_most 0 tolerates nothing), ``behind``.

Forecast, the value at plan end if the pace since plan start holds: stock and cumulative extend the
line from the start value through the latest reading to the plan end; annual takes the current
year's daily pace over the final year's window (1 Jan to the plan end); rate and annual_average keep
the current value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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


class Status(StrEnum):
    NOT_STARTED = "not_started"
    NO_DATA = "no_data"
    ACHIEVED = "achieved"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BEHIND = "behind"


# Measures whose expected value follows a trajectory from a start value (the others expect the
# year's figure, whole or pro rata, and need no start).
LEVEL_MEASURES = frozenset({Measure.STOCK, Measure.CUMULATIVE})


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
    for the enums, years and values (as in the targets contract), floats are not."""

    measure: Measure
    direction: Direction
    target: Decimal
    unit: str
    milestones: Mapping[int, Decimal] = field(default_factory=dict)
    baseline: Baseline | None = None
    nature: str = "expected"

    def __post_init__(self) -> None:
        object.__setattr__(self, "measure", Measure(self.measure))
        object.__setattr__(self, "direction", Direction(self.direction))
        object.__setattr__(self, "target", to_decimal(self.target))
        milestones = {int(year): to_decimal(value) for year, value in self.milestones.items()}
        object.__setattr__(self, "milestones", dict(sorted(milestones.items())))

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Indicator:
        """From the targets contract's indicator state (``model_dump()``), ignoring the other fields."""
        baseline = data.get("baseline")
        return cls(
            measure=data["measure"],
            direction=data["direction"],
            target=data["target"],
            unit=data["unit"],
            milestones=data.get("milestones") or {},
            baseline=Baseline(int(baseline["year"]), baseline["value"]) if baseline else None,
            nature=data.get("nature", "expected"),
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


@dataclass(frozen=True)
class Reading:
    """An observed value of the indicator at the end of ``on``, in the indicator's unit, read over
    the measure's window (:func:`actual_window`): a stock's level, a cumulative's or an
    annual_average's flows since plan start, an annual's flows since 1 Jan, a rate."""

    on: date
    value: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", to_decimal(self.value))


@dataclass(frozen=True)
class TrajectoryPoint:
    """``value`` is due at the end of ``at``; the start point is dated the day before plan start."""

    at: date
    value: Decimal
    label: str


@dataclass(frozen=True)
class Expected:
    value: Decimal
    explanation: str


@dataclass(frozen=True)
class Progress:
    """One indicator of the progress view. ``actual`` is the figure compared with the target (for an
    annual_average, the average, not the flows). ``progress`` and ``expected_progress`` place the
    actual and the expected value on a 0..1 bar towards the target (:func:`progress_ratio`)."""

    unit: str
    target: Decimal
    milestone_this_year: Decimal
    actual: Decimal | None
    actual_on: date | None
    expected: Decimal | None
    status: Status
    progress: Decimal | None
    expected_progress: Decimal | None
    forecast: Decimal | None
    forecast_meets_target: bool | None
    trajectory_start: Decimal | None
    baseline_observed: bool
    explanation: str


def meets(direction: Direction, value: Decimal, bound: Decimal) -> bool:
    return value >= bound if direction is Direction.AT_LEAST else value <= bound


def _year_figure(indicator: Indicator, period: Period, year: int) -> tuple[Decimal, str]:
    if year >= period.end.year:
        return indicator.target, "目标值"
    for milestone_year, value in indicator.milestones.items():
        if milestone_year >= year:
            return value, f"{milestone_year}年里程碑"
    return indicator.target, "目标值"


def milestone_for_year(indicator: Indicator, period: Period, year: int) -> Decimal:
    """The figure due in ``year``: the target in the plan's last year (it is due then); otherwise
    the year's milestone, or the next milestone set after that year, or the target if none is."""
    return _year_figure(indicator, period, year)[0]


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


def observed_baseline_date(indicator: Indicator, period: Period) -> date | None:
    """When the caller should read a metric-bound indicator's level to observe its baseline (a
    stock without a given baseline: its level at the end of the day before plan start), else None."""
    if indicator.measure is Measure.STOCK and indicator.baseline is None:
        return period.start - ONE_DAY
    return None


def actual_window(indicator: Indicator, period: Period, as_of: date) -> tuple[date | None, date] | None:
    """The days (both included) over which to read a bound metric for the actual as of ``as_of``:
    ``(None, day)`` for a stock's level at the end of ``day``; None when there is nothing to read
    (before the plan starts, except a stock's level)."""
    on = min(as_of, period.end)
    if indicator.measure is Measure.STOCK:
        return None, on
    if on < period.start:
        return None
    year_start = date(on.year, 1, 1)
    if indicator.measure is Measure.ANNUAL or (indicator.measure is Measure.RATE and indicator.milestones):
        return year_start, on
    return period.start, on


def _readable(indicator: Indicator, period: Period, on: date, reading: Reading) -> bool:
    """Whether ``reading`` can stand for the actual as of ``on`` (``on`` no later than the plan end)."""
    if reading.on > on:
        return False
    if indicator.measure is Measure.STOCK:
        return True  # a level holds until the next reading
    if indicator.measure is Measure.ANNUAL:
        return reading.on.year == on.year  # last year's flows say nothing of this year's
    return reading.on >= period.start


def trajectory_start(
    indicator: Indicator, period: Period, readings: Iterable[Reading], as_of: date | None = None
) -> tuple[Decimal | None, bool]:
    """The value at plan start of a stock or cumulative indicator and whether it was observed
    (not given): the baseline; else 0 for a cumulative; else, for a stock, the last reading before
    plan start, or the earliest reading (up to ``as_of`` when given). None when nothing is known."""
    if indicator.baseline is not None:
        return indicator.baseline.value, False
    if indicator.measure is not Measure.STOCK:
        return Decimal(0), False
    known = sorted((r for r in readings if as_of is None or r.on <= as_of), key=lambda r: r.on)
    before = [r for r in known if r.on < period.start]
    if before:
        return before[-1].value, True
    return (known[0].value, True) if known else (None, True)


def trajectory(indicator: Indicator, period: Period, start_value: Decimal) -> list[TrajectoryPoint]:
    """The points a stock or cumulative indicator is expected to pass, in order."""
    if indicator.baseline is not None:
        start_label = f"{indicator.baseline.year}年基期值"
    elif indicator.measure is Measure.CUMULATIVE:
        start_label = "累计起点"
    else:
        start_label = "观测基期值"
    points = [TrajectoryPoint(period.start - ONE_DAY, start_value, f"{start_label}(计划开始 {period.start})")]
    for year, value in indicator.milestones.items():
        due = date(year, 12, 31)
        if points[-1].at < due < period.end:
            points.append(TrajectoryPoint(due, value, f"{year}年里程碑({due})"))
    points.append(TrajectoryPoint(period.end, indicator.target, f"目标值(计划结束 {period.end})"))
    return points


def expected_at(indicator: Indicator, period: Period, on: date, start_value: Decimal | None = None) -> Expected | None:
    """The value expected by the end of ``on`` and how it was derived; None before the plan starts,
    and for a stock or cumulative whose start value is unknown (``start_value`` from
    :func:`trajectory_start`; unused by the other measures)."""
    if on < period.start:
        return None
    on = min(on, period.end)
    if indicator.measure in LEVEL_MEASURES:
        return None if start_value is None else _along_trajectory(trajectory(indicator, period, start_value), on)
    figure, label = _year_figure(indicator, period, on.year)
    if indicator.measure is Measure.ANNUAL:
        year_start = date(on.year, 1, 1)
        due = min(date(on.year, 12, 31), period.end)
        elapsed, span = (on - year_start).days + 1, (due - year_start).days + 1
        value = figure * elapsed / span
        explanation = f"{on.year}年{label} {_fmt(figure)} × {elapsed}/{span} 天(1月1日至 {due})= {_fmt(value)}"
        return Expected(value, explanation)
    kind = "年均值" if indicator.measure is Measure.ANNUAL_AVERAGE else "比率"
    return Expected(figure, f"{kind}指标每日均按{label} {_fmt(figure)} 考核")


def _along_trajectory(points: list[TrajectoryPoint], on: date) -> Expected:
    following = next(i for i, point in enumerate(points) if point.at >= on)
    before, after = points[following - 1], points[following]
    elapsed, span = (on - before.at).days, (after.at - before.at).days
    value = before.value + (after.value - before.value) * elapsed / span
    return Expected(
        value,
        f"自{before.label} {_fmt(before.value)} 至{after.label} {_fmt(after.value)} 线性插值,"
        f"已过 {elapsed}/{span} 天 = {_fmt(value)}",
    )


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
    indicator: Indicator, period: Period, actual: Reading, start_value: Decimal | None = None
) -> Decimal | None:
    """The value at plan end if the pace since plan start holds (rules in the module's docstring).
    ``actual`` is in the indicator's terms (for an annual_average, the average). None when the pace
    is unknown: a stock or cumulative with no start value or not read since the plan started."""
    if indicator.measure in (Measure.RATE, Measure.ANNUAL_AVERAGE):
        return actual.value
    if indicator.measure is Measure.ANNUAL:
        days_this_year = (actual.on - date(actual.on.year, 1, 1)).days + 1
        final_window = (period.end - date(period.end.year, 1, 1)).days + 1
        return actual.value * final_window / days_this_year
    elapsed = (actual.on - period.start).days + 1
    if start_value is None or elapsed <= 0:
        return None
    return start_value + (actual.value - start_value) * period.days / elapsed


def actual_reading(indicator: Indicator, period: Period, as_of: date, readings: Iterable[Reading]) -> Reading | None:
    """The latest reading that stands for the actual as of ``as_of``, in the indicator's terms (an
    annual_average's flows divided by the years elapsed to the reading's date)."""
    latest = _latest_reading(indicator, period, as_of, readings)
    return None if latest is None else _in_indicator_terms(indicator, period, latest)


def _latest_reading(indicator: Indicator, period: Period, as_of: date, readings: Iterable[Reading]) -> Reading | None:
    on = min(as_of, period.end)
    return max((r for r in readings if _readable(indicator, period, on, r)), key=lambda r: r.on, default=None)


def _in_indicator_terms(indicator: Indicator, period: Period, reading: Reading) -> Reading:
    if indicator.measure is Measure.ANNUAL_AVERAGE:
        return Reading(reading.on, annual_average(reading.value, period.start, reading.on))
    return reading


def evaluate(indicator: Indicator, period: Period, as_of: date, readings: Iterable[Reading] = ()) -> Progress:
    """The progress of ``indicator`` as of the end of ``as_of``, from the readings known then (in
    the indicator's unit; readings after ``as_of`` are ignored)."""
    readings = list(readings)
    on = min(as_of, period.end)
    start_value, observed = (
        trajectory_start(indicator, period, readings, on) if indicator.measure in LEVEL_MEASURES else (None, False)
    )
    latest = _latest_reading(indicator, period, as_of, readings)
    actual = None if latest is None else _in_indicator_terms(indicator, period, latest)
    expected = expected_at(indicator, period, as_of, start_value)
    started = as_of >= period.start
    forecast = forecast_at_end(indicator, period, actual, start_value) if started and actual is not None else None
    if not started:
        status, explanation = Status.NOT_STARTED, f"计划 {period.start} 开始,尚无期望值"
    elif actual is None or expected is None:
        status, explanation = (
            Status.NO_DATA,
            "尚无实际值" + (f";期望值:{expected.explanation}" if expected is not None else ""),
        )
    else:
        status = status_of(
            indicator.direction,
            actual.value,
            expected.value,
            indicator.target,
            can_be_achieved=_ceiling_settled(indicator, period, as_of),
        )
        explanation = expected.explanation
    if indicator.measure is Measure.ANNUAL_AVERAGE and latest is not None:
        explanation += (
            f";实际年均值 = 计划开始以来累计 {_fmt(latest.value)} ÷ 已过"
            f" {_fmt(years_elapsed(period.start, latest.on))} 年(至 {latest.on})= {_fmt(actual.value)}"
        )
    return Progress(
        unit=indicator.unit,
        target=indicator.target,
        milestone_this_year=milestone_for_year(indicator, period, on.year),
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
        trajectory_start=start_value,
        baseline_observed=observed and start_value is not None,
        explanation=explanation,
    )


def _ceiling_settled(indicator: Indicator, period: Period, as_of: date) -> bool:
    """A ceiling on flows that still run (at most N cases over the plan, or a year) is met only
    once the period is over: until then the next case may break it, so meeting it is on track."""
    if indicator.direction is Direction.AT_MOST and indicator.measure in (Measure.CUMULATIVE, Measure.ANNUAL):
        return as_of >= period.end
    return True


def _fmt(value: Decimal) -> str:
    shown = value.quantize(SHOWN_DECIMALS) if value.as_tuple().exponent < -4 else value
    return format(shown.normalize(), "f")
