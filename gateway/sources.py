"""Where an indicator's actual comes from: a tree of sources, one class per shape of the targets
contract's ``IndicatorState.source``, each answering "the value over a window, and the day it is
good for" (:class:`SourceReading`).

- :class:`CatalogueMetric`: a metric of :mod:`zhichan.metrics_catalogue`, over the window (a
  stock: its level at the window's end), dated at the window's end.
- :class:`StatisticMetric`: ``statistics.<code>``, as :mod:`gateway.statistics` reads it: as
  known on the view's date, dated at the end of the last period read.
- Either with an ``opening`` balance (a flow): nothing for a window ending before the opening's
  day; the balance plus the metric from the day after for a window starting by then; the metric
  alone for a window starting later.
- :class:`Ratio`: numerator ÷ denominator × per, both in their base units (元, 人, 件), rounded half
  up to 2 decimals as official per-capita figures and shares are: two flows over the same window
  (the shorter of their coverages when they differ), otherwise the denominator at the day the
  numerator's reading is good for.
- :class:`Growth`: year on year in %, 2 decimals half up: a level at its day against its level
  on the same day a year before (a reading of exactly that day, else none); a flow's year to
  date against the same days of the year before.

A metric read at the top of the tree is converted to the indicator's unit; inside a ratio or a
growth it stays in its own unit (a ratio divides base units, a growth is unitless). A ratio or a
growth at the top gives its number in the indicator's unit as it stands.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from gateway.metrics import MetricQuery, SeriesSums, SeriesWindow, metric_from, metric_windows, normalise_filters
from gateway.statistics import StatisticReleases
from zhichan.metrics_catalogue import CATALOGUE, base_factor, convert_unit
from zhichan.rates import PERCENT_PLACES
from zhichan.statistics_catalogue import statistic_code

ONE_DAY = timedelta(days=1)
Window = tuple[date | None, date]


@dataclass(frozen=True)
class SourceReading:
    value: Decimal
    on: date  # the day the value is good for
    unit: str
    # How a ratio or a growth was computed from what it read, for a reader to check by hand:
    # "3420 件 ÷ 401.7 万人 × 10000 = 8.51".
    derivation: str | None = field(default=None, compare=False)


def _shown(value: Decimal) -> str:
    return format(value.normalize(), ",f")


@dataclass(frozen=True)
class SourceContext:
    """What every source of one indicator reads with: the view's sums and releases, the plan's
    region and the regions it counts (itself and its descendants)."""

    sums: SeriesSums
    releases: StatisticReleases
    region: str
    regions: frozenset[str]


class Source(ABC):
    @abstractmethod
    def ask(self, window: Window, as_of: date) -> None:
        """Asks ahead for what :meth:`read` will most likely read (what it reads beyond is read then)."""

    @abstractmethod
    async def read(self, window: Window, as_of: date) -> SourceReading | None:
        """The value over ``window`` as known on ``as_of``; None when there is none."""

    @abstractmethod
    async def flows(self) -> bool:
        """Whether it is an amount over a window (True) or a level at a day."""

    @abstractmethod
    def metrics(self) -> Iterator[MetricLeaf]:
        """The metrics it reads, for the drill-down links."""


class MetricLeaf(Source):
    """A metric of the catalogue or a statistic, in ``unit`` (None: the metric's own), with an
    opening balance in that unit when it has one."""

    def __init__(self, context: SourceContext, state: dict, unit: str | None) -> None:
        self.context = context
        self.name: str = state["metric"]
        self.filters: dict = state.get("filters") or {}
        opening = state.get("opening")
        self.opening: tuple[date, Decimal] | None = None
        if opening is not None:
            self.opening = date.fromisoformat(str(opening["as_of"])), Decimal(str(opening["value"]))
        self.unit = unit

    @abstractmethod
    async def _read(self, window: Window, as_of: date) -> SourceReading | None:
        """The value in the metric's own unit."""

    def ask(self, window: Window, as_of: date) -> None:
        self._ask(window, as_of)
        if self.opening is not None and window[1] > self.opening[0]:
            self._ask((self.opening[0] + ONE_DAY, window[1]), as_of)

    @abstractmethod
    def _ask(self, window: Window, as_of: date) -> None: ...

    @abstractmethod
    async def own_unit(self) -> str:
        """The metric's unit (an opening balance inside a ratio or a growth is in it)."""

    async def read(self, window: Window, as_of: date) -> SourceReading | None:
        start, end = window
        if self.opening is None or not await self.flows() or (start is not None and start > self.opening[0]):
            reading = await self._read(window, as_of)
            return None if reading is None else self._converted(reading)
        since, balance = self.opening
        if end < since:
            return None  # the balance is all that is known before its day, and it is known at its day
        rest = await self._read((since + ONE_DAY, end), as_of) if end > since else None
        if rest is None:
            return SourceReading(balance, since, self.unit or await self.own_unit())
        rest = self._converted(rest)
        return SourceReading(balance + rest.value, rest.on, rest.unit)

    def _converted(self, reading: SourceReading) -> SourceReading:
        if self.unit is None:
            return reading
        return SourceReading(convert_unit(reading.value, reading.unit, self.unit), reading.on, self.unit)

    def metrics(self) -> Iterator[MetricLeaf]:
        yield self


class CatalogueMetric(MetricLeaf):
    def __init__(self, context: SourceContext, state: dict, unit: str | None) -> None:
        super().__init__(context, state, unit)
        self.metric = CATALOGUE[self.name]
        self.query_filters = normalise_filters(self.filters)
        # The sums of each window, made once: asked for ahead, then read (an overview: ~1,500 of them).
        self._windows: dict[Window, tuple[SeriesWindow, ...]] = {}

    def query(self, window: Window) -> MetricQuery:
        start, end = window
        regions, region = self.context.regions, self.context.region
        return MetricQuery(regions, as_of=end, start=start, end=end, filters=self.query_filters, region=region)

    def windows(self, window: Window) -> tuple[SeriesWindow, ...]:
        """The sums the metric's value over ``window`` is computed from (:func:`metric_windows`)."""
        if window not in self._windows:
            self._windows[window] = metric_windows(self.metric, self.query(window))
        return self._windows[window]

    def _ask(self, window: Window, as_of: date) -> None:
        self.context.sums.ask(*self.windows(window))

    async def _read(self, window: Window, as_of: date) -> SourceReading | None:
        value = metric_from(self.metric, [await self.context.sums.amount(w) for w in self.windows(window)])
        return None if value is None else SourceReading(value, window[1], self.metric.unit)

    async def flows(self) -> bool:
        return self.metric.kind != "stock"  # a flow, or a rate over the window

    async def own_unit(self) -> str:
        return self.metric.unit


class StatisticMetric(MetricLeaf):
    def __init__(self, context: SourceContext, state: dict, unit: str | None) -> None:
        super().__init__(context, state, unit)
        self.code = statistic_code(self.name)

    def _ask(self, window: Window, as_of: date) -> None:
        self.context.releases.ask(self.code, self.context.regions)

    async def _read(self, window: Window, as_of: date) -> SourceReading | None:
        statistic = await self.context.releases.statistic(self.code)
        if statistic is None:
            return None
        figures = await self.context.releases.figures(statistic, self.context.regions, as_of)
        found = figures.over(self.context.region, *window)
        return None if found is None else SourceReading(found.value, found.on, statistic.unit)

    async def flows(self) -> bool:
        statistic = await self.context.releases.statistic(self.code)
        return statistic is not None and statistic.kind == "flow"

    async def own_unit(self) -> str:
        statistic = await self.context.releases.statistic(self.code)
        return "" if statistic is None else statistic.unit


class Ratio(Source):
    def __init__(self, numerator: Source, denominator: Source, per: Decimal, unit: str) -> None:
        self.numerator = numerator
        self.denominator = denominator
        self.per = per
        self.unit = unit

    def ask(self, window: Window, as_of: date) -> None:
        self.numerator.ask(window, as_of)
        self.denominator.ask(window, as_of)
        self.denominator.ask((None, window[1]), as_of)

    async def flows(self) -> bool:
        return await self.numerator.flows() and await self.denominator.flows()

    async def read(self, window: Window, as_of: date) -> SourceReading | None:
        numerator = await self.numerator.read(window, as_of)
        if numerator is None:
            return None
        if await self.flows():
            denominator = await self.denominator.read(window, as_of)
            if denominator is not None and denominator.on != numerator.on:
                # Different coverage (a month released for one and not yet for the other): both
                # over the shorter window, so that both count the same days.
                shorter = (window[0], min(numerator.on, denominator.on))
                numerator = await self.numerator.read(shorter, as_of)
                denominator = await self.denominator.read(shorter, as_of)
                if numerator is None or denominator is None or numerator.on != denominator.on:
                    return None
        else:
            # A level at the day the numerator is good for (a flow denominator: over the window up to it).
            since = window[0] if await self.denominator.flows() else None
            denominator = await self.denominator.read((since, numerator.on), as_of)
        if denominator is None or denominator.value == 0:
            return None
        value = (
            numerator.value
            * base_factor(numerator.unit)
            * self.per
            / (denominator.value * base_factor(denominator.unit))
        ).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)
        per = "" if self.per == 1 else f" × {_shown(self.per)}"
        derivation = (
            f"{_shown(numerator.value)} {numerator.unit} ÷ {_shown(denominator.value)} {denominator.unit}{per}"
            f" = {value:,f}({numerator.on})"
        )
        return SourceReading(value, numerator.on, self.unit, derivation)

    def metrics(self) -> Iterator[MetricLeaf]:
        yield from self.numerator.metrics()
        yield from self.denominator.metrics()


class Growth(Source):
    def __init__(self, inner: Source, unit: str) -> None:
        self.inner = inner
        self.unit = unit

    def ask(self, window: Window, as_of: date) -> None:
        # The windows of a level and of a flow both: which one the inner source is, a statistic
        # says only once its catalogue is read.
        end, before = window[1], year_before(window[1])
        for asked in ((None, end), (None, before), (date(end.year, 1, 1), end), (_year_before_start(end), before)):
            self.inner.ask(asked, as_of)

    async def flows(self) -> bool:
        return False  # a rate at the day it is good for

    async def read(self, window: Window, as_of: date) -> SourceReading | None:
        end = window[1]
        if await self.inner.flows():
            now = await self.inner.read((date(end.year, 1, 1), end), as_of)
            if now is None:
                return None
            before = await self.inner.read((_year_before_start(now.on), year_before(now.on)), as_of)
        else:
            now = await self.inner.read((None, end), as_of)
            if now is None:
                return None
            before = await self.inner.read((None, year_before(now.on)), as_of)
        if before is None or before.on != year_before(now.on) or before.value == 0:
            return None
        value = ((now.value - before.value) * 100 / before.value).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)
        derivation = (
            f"({_shown(now.value)} − {_shown(before.value)}) ÷ {_shown(before.value)} × 100% = {value:,f}%"
            f"({now.on} 较 {before.on})"
        )
        return SourceReading(value, now.on, self.unit, derivation)

    def metrics(self) -> Iterator[MetricLeaf]:
        yield from self.inner.metrics()


def year_before(day: date) -> date:
    """The same day a year before; a month's last day gives that month's last day (so 2025-02-28,
    February's end, is compared with 2024-02-29, February's end)."""
    following = day + ONE_DAY
    if following.day == 1:  # the last day of its month
        return following.replace(year=following.year - 1) - ONE_DAY
    return day.replace(year=day.year - 1)


def _year_before_start(day: date) -> date:
    return date(day.year - 1, 1, 1)


def build_source(context: SourceContext, state: dict, unit: str | None) -> Source:
    """The source tree of an indicator's ``source`` (not ``reported``), its top in ``unit``."""
    if "ratio" in state:
        parts = state["ratio"]
        numerator = build_source(context, parts["numerator"], None)
        denominator = build_source(context, parts["denominator"], None)
        return Ratio(numerator, denominator, Decimal(str(parts.get("per", 1))), unit or "")
    if "growth" in state:
        return Growth(build_source(context, state["growth"], None), unit or "%")
    if statistic_code(state["metric"]) is not None:
        return StatisticMetric(context, state, unit)
    return CatalogueMetric(context, state, unit)
