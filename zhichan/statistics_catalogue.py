"""Official statistics: the catalogue's built-in entries and the periods a release is for.

Offices receive most creation figures as statistical releases — the national IP office's monthly
and yearly statistics by province, city and county, the statistics bureau's population and GDP,
the finance bureau's budget. The targets service keeps each release as a record (a region × a
statistic × a period × a value, with its source and publication date); the gateway reads them as
the metrics ``statistics.<code>``. The built-in statistics are here, shared by both; an admin adds
more at run time (the targets service publishes them as events, so the gateway knows them too).

A statistic is a ``stock`` (a level at the end of its period: valid patents, population) or a
``flow`` (an amount over its period: grants, GDP). An ``additive`` statistic (a count, an amount)
rolls up: a city without its own release is the sum of its districts'; a flow's months add up to
its quarters and year. A non-additive one (a share, a per-capita figure) is only ever read as
released.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

PREFIX = "statistics."
CODE_PATTERN = r"^[a-z][a-z0-9_]{1,62}$"
KINDS = ("stock", "flow")
PERIOD_KINDS = ("month", "quarter", "year")


@dataclass(frozen=True)
class Statistic:
    code: str
    name: str  # the Chinese name the releases use
    unit: str
    kind: str  # stock | flow
    additive: bool
    description: str = ""

    @property
    def metric(self) -> str:
        return PREFIX + self.code


_BUILT_IN = (
    Statistic("invention_grants", "发明专利授权量", "件", "flow", True, "invention patents granted (国家知识产权局)"),
    Statistic("invention_applications", "发明专利申请量", "件", "flow", True, "invention patent applications"),
    Statistic("valid_invention_patents", "有效发明专利拥有量", "件", "stock", True, "valid invention patents held"),
    Statistic(
        "valid_high_value_invention_patents",
        "高价值发明专利拥有量",
        "件",
        "stock",
        True,
        "valid high-value invention patents held (高价值发明专利)",
    ),
    Statistic("pct_applications", "PCT国际专利申请量", "件", "flow", True, "PCT international applications"),
    Statistic("trademark_registrations", "商标注册量", "件", "flow", True, "trademarks registered"),
    Statistic("valid_trademarks", "有效注册商标量", "件", "stock", True, "valid registered trademarks"),
    Statistic("madrid_trademarks", "马德里商标有效注册量", "件", "stock", True, "valid Madrid registrations"),
    Statistic("geographical_indications", "有效地理标志总量", "件", "stock", True, "valid geographical indications"),
    Statistic("copyright_registrations", "作品登记量", "件", "flow", True, "copyright works registered"),
    Statistic("resident_population", "常住人口", "万人", "stock", True, "resident population at year end (统计局)"),
    Statistic("gdp", "地区生产总值", "亿元", "flow", True, "gross domestic product (统计局)"),
    Statistic(
        "ip_intensive_industry_value_added",
        "知识产权密集型产业增加值",
        "亿元",
        "flow",
        True,
        "value added of IP-intensive industries",
    ),
    Statistic(
        "fiscal_expenditure", "一般公共预算支出", "亿元", "flow", True, "general public budget spending (财政局)"
    ),
)
BUILT_IN: dict[str, Statistic] = {s.code: s for s in _BUILT_IN}


def statistic_code(metric: str) -> str | None:
    """The statistic a metric name reads (``statistics.gdp`` → ``gdp``); None for other metrics."""
    return metric[len(PREFIX) :] if metric.startswith(PREFIX) else None


def valid_code(code: str) -> bool:
    return re.fullmatch(CODE_PATTERN, code) is not None


# --- periods ------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Period:
    """A release's period: a month, a quarter or a year, from ``start`` to ``end`` (both days in it)."""

    start: date
    end: date
    kind: str

    @property
    def label(self) -> str:
        if self.kind == "year":
            return str(self.start.year)
        if self.kind == "quarter":
            return f"{self.start.year}Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}-{self.start.month:02d}"


class PeriodError(ValueError):
    pass


_QUARTER_WORDS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_PATTERNS = (
    (re.compile(r"^(\d{4})(?:年)?$"), "year"),
    (re.compile(r"^(\d{4})(?:-?Q|年第?|年Q)([1-4一二三四])(?:季度)?$", re.IGNORECASE), "quarter"),
    (re.compile(r"^(\d{4})(?:-|年|/)(\d{1,2})(?:月)?$"), "month"),
)


def month(year: int, number: int) -> Period:
    return Period(date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1]), "month")


def quarter(year: int, number: int) -> Period:
    first = 3 * (number - 1) + 1
    return Period(date(year, first, 1), date(year, first + 2, calendar.monthrange(year, first + 2)[1]), "quarter")


def year(number: int) -> Period:
    return Period(date(number, 1, 1), date(number, 12, 31), "year")


def parse_period(text: object) -> Period:
    """``2025`` / ``2025年``, ``2025Q3`` / ``2025-Q3`` / ``2025年第三季度``, ``2025-10`` / ``2025年10月``."""
    value = str(text).strip()
    for pattern, kind in _PATTERNS:
        found = pattern.match(value)
        if found is None:
            continue
        number = int(found.group(1))
        if not 1900 <= number <= 2200:
            raise PeriodError(f"{value}: the year must lie between 1900 and 2200")
        if kind == "year":
            return year(number)
        if kind == "quarter":
            return quarter(number, _QUARTER_WORDS[found.group(2)])
        if not 1 <= int(found.group(2)) <= 12:
            raise PeriodError(f"{value}: there is no month {int(found.group(2))}")
        return month(number, int(found.group(2)))
    raise PeriodError(f"{value!r} is not a period: a year (2025), a quarter (2025Q3) or a month (2025-10)")


def period_of(kind: str, start: date) -> Period:
    """The period of ``kind`` that starts on ``start``."""
    if kind == "year":
        return year(start.year)
    if kind == "quarter":
        return quarter(start.year, (start.month - 1) // 3 + 1)
    return month(start.year, start.month)
