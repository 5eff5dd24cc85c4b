"""The plan file (``zhichan.plan/v1``) read into a checked plan with every problem listed at once,
and the plan back as the file's plain data (what export writes). Free of I/O: the bytes of
YAML, JSON and workbooks are :mod:`services.targets.planfile`'s.

A problem's path is a tuple such as ``("indicators", 3, "milestones", "2027")`` (an int is a
position in a list), shown as
``indicators[3].milestones.2027``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from services.targets.domain import (
    CATEGORIES,
    DIRECTIONS,
    MAX_DUE_DAYS,
    MEASURES,
    NATURES,
    REGION_LEVELS,
    REPORTING_PERIODS,
    REVIEW_MODES,
    STANDARD_CODE,
    TRAJECTORIES,
    parse_number,
)
from zhichan.metrics_catalogue import CATALOGUE, UNIT_MAX_LENGTH, UnitMismatch, binding_problems, unit_factor
from zhichan.regions import CUSTOM_CODE, RegionRegistry
from zhichan.statistics_catalogue import BUILT_IN, PREFIX, Statistic, statistic_code

FORMAT = "zhichan.plan/v1"

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
# Responsible units are listed one by one; these separate units written in one cell or string.
UNIT_SEPARATORS = re.compile(r"[、，,；;\n]+")

Path = tuple[str | int, ...]


def path_text(path: Path) -> str:
    """``("indicators", 3, "milestones", "2027")`` → ``indicators[3].milestones.2027``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


@dataclass(frozen=True)
class PlanProblem:
    path: Path
    msg: str

    def as_error(self) -> dict[str, Any]:
        return {"loc": list(self.path), "msg": self.msg, "path": path_text(self.path)}


class PlanInvalid(Exception):
    """The plan file has problems; nothing of it may be stored."""

    def __init__(self, problems: list[PlanProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the plan file")
        self.problems = problems

    def errors(self) -> list[dict[str, Any]]:
        return [p.as_error() for p in self.problems]


class Problems:
    """Collects problems while a document is read, so every one is reported at once."""

    def __init__(self) -> None:
        self.items: list[PlanProblem] = []

    def add(self, path: Path, msg: str) -> None:
        self.items.append(PlanProblem(path, msg))

    def raise_if_any(self) -> None:
        if self.items:
            raise PlanInvalid(self.items)


@dataclass(frozen=True)
class RegionSpec:
    code: str
    name: str
    level: str
    parent: str | None


@dataclass(frozen=True)
class Baseline:
    year: int
    value: Decimal


@dataclass(frozen=True)
class Opening:
    """What a flow metric had reached by ``as_of`` before the platform's records begin."""

    as_of: date
    value: Decimal


@dataclass(frozen=True)
class MetricSource:
    """A metric of the catalogue, or a statistic (``statistics.<code>``)."""

    metric: str
    filters: dict[str, Any] = field(default_factory=dict)
    opening: Opening | None = None

    @property
    def accepts_reports(self) -> bool:
        return self.metric in CATALOGUE and CATALOGUE[self.metric].kind == "reported"


@dataclass(frozen=True)
class RatioSource:
    """numerator ÷ denominator × per, both read in their base units (每万人口 …, 占 GDP 比重)."""

    numerator: Source
    denominator: Source
    per: Decimal = Decimal(1)

    accepts_reports = False


@dataclass(frozen=True)
class GrowthSource:
    """Year-on-year growth of another source, in %."""

    growth: Source
    over: str = "year"

    accepts_reports = False


Source = MetricSource | RatioSource | GrowthSource


@dataclass(frozen=True)
class IndicatorSpec:
    key: str
    name: str
    category: str
    unit: str
    measure: str
    direction: str
    nature: str
    target: Decimal  # a range's minimum: the figure the verdict uses
    baseline: Baseline | None = None
    milestones: dict[int, Decimal] = field(default_factory=dict)  # a range's minimum, as target
    responsible: list[str] = field(default_factory=list)
    source: Source | None = None  # None: reported by the responsible departments
    trajectory: str = "linear"
    target_max: Decimal | None = None  # when the target is a range (1—2): its maximum
    milestone_maxima: dict[int, Decimal] = field(default_factory=dict)  # years whose milestone is a range

    @property
    def accepts_reports(self) -> bool:
        return self.source is None or self.source.accepts_reports


@dataclass(frozen=True)
class TaskSpec:
    key: str
    title: str
    responsible: list[str] = field(default_factory=list)
    due: date | None = None
    indicators: list[str] = field(default_factory=list)
    notes: str | None = None


@dataclass(frozen=True)
class ReportingSpec:
    """How the plan's departments report (``reporting:``): see :mod:`services.targets.service.rounds`."""

    period: str
    due_days: int
    review: str = "none"
    start: date | None = None  # the first round is the period holding this day (default: the plan's start)


@dataclass(frozen=True)
class PlanDocument:
    region: RegionSpec
    regions: list[RegionSpec]
    key: str
    title: str
    issued_by: str | None
    start: date
    end: date
    indicators: list[IndicatorSpec]
    tasks: list[TaskSpec]
    reporting: ReportingSpec | None = None

    def new_regions(self, known: RegionRegistry) -> list[RegionSpec]:
        """The regions this file introduces, parents first."""
        return [r for r in self.region_chain() if r.code not in known]

    def region_chain(self) -> list[RegionSpec]:
        """``regions:`` then ``region``, ordered so a parent comes before its children."""
        specs = {r.code: r for r in [*self.regions, self.region]}
        ordered: list[RegionSpec] = []

        def visit(spec: RegionSpec) -> None:
            if spec in ordered:
                return
            if spec.parent in specs and specs[spec.parent] is not spec:
                visit(specs[spec.parent])
            ordered.append(spec)

        for spec in specs.values():
            visit(spec)
        return ordered


TOP_FIELDS = ("format", "region", "regions", "plan", "reporting", "indicators", "tasks")
REPORTING_FIELDS = ("period", "due_days", "review", "start")
REGION_FIELDS = ("code", "name", "level", "parent")
PLAN_FIELDS = ("key", "title", "issued_by", "start", "end")
INDICATOR_FIELDS = (
    "key",
    "name",
    "category",
    "unit",
    "measure",
    "direction",
    "nature",
    "baseline",
    "target",
    "milestones",
    "trajectory",
    "responsible",
    "source",
)
RANGE_FIELDS = ("min", "max")
BASELINE_FIELDS = ("year", "value")
METRIC_SOURCE_FIELDS = ("metric", "filters", "opening")
RATIO_SOURCE_FIELDS = ("ratio",)
RATIO_FIELDS = ("numerator", "denominator", "per")
GROWTH_SOURCE_FIELDS = ("growth", "over")
OPENING_FIELDS = ("as_of", "value")
GROWTH_PERIODS = ("year",)
SOURCE_DEPTH = 4  # a growth of a ratio of two metrics is three; a source deeper than this is a mistake
# What a source of each kind can stand for: the measures whose readings it gives.
MEASURES_OF_KIND = {
    "stock": ("stock",),
    "flow": ("cumulative", "annual", "annual_average"),
    "rate": ("rate",),
    "ratio": ("stock", "rate"),
    "growth": ("rate",),
}
SOURCE_SHAPES = (
    "'reported', {metric: NAME, filters: {...}, opening: {...}}, {ratio: {...}} or {growth: ..., over: year}"
)
TASK_FIELDS = ("key", "title", "responsible", "due", "indicators", "notes")


# --- small readers: each returns the value or None, having recorded what is wrong ---------------


def _mapping(value: Any, path: Path, problems: Problems, fields: tuple[str, ...]) -> Mapping | None:
    if not isinstance(value, Mapping):
        problems.add(path, "expected a mapping of fields")
        return None
    for name in value:
        if name not in fields:
            problems.add((*path, str(name)), f"unknown field {name!r}; fields here: {', '.join(fields)}")
    return value


def _text(obj: Mapping, name: str, path: Path, problems: Problems, *, required: bool = True, max_length: int = 500):
    value = obj.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.add((*path, name), "required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        problems.add((*path, name), "expected text")
        return None
    text = str(value).strip()
    if len(text) > max_length:
        problems.add((*path, name), f"longer than {max_length} characters")
        return None
    return text


def _number(value: Any, path: Path, problems: Problems) -> Decimal | None:
    try:
        return parse_number(value)
    except ValueError as exc:
        hint = "; write a range as {min: 1, max: 2}" if isinstance(value, str) and range_text(value) else ""
        problems.add(path, f"{exc}{hint}")
        return None


# A range written as text, as in a workbook's cell: 1—2, 1–2, 1-2, 1~2, 1～2.
RANGE_TEXT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[—–~～-]\s*(-?\d+(?:\.\d+)?)\s*$")
RANGE_DASH = "—"  # how a range is written back: 1—2 (U+2014, as the plans write it)
CEILING_RANGE = "a ceiling is one figure; give the range's maximum"


def range_text(text: str) -> tuple[str, str] | None:
    """``"1—2"`` → ``("1", "2")``; None for text that is not a range of two numbers."""
    found = RANGE_TEXT.match(text)
    return (found.group(1), found.group(2)) if found else None


def _figure(value: Any, path: Path, problems: Problems) -> tuple[Decimal, Decimal | None] | None:
    """A number, or a range ``{min: 1, max: 2}`` ("每年 1—2 场"): (minimum, maximum or None).

    A range whose ends are equal is that one number."""
    if not isinstance(value, Mapping):
        number = _number(value, path, problems)
        return None if number is None else (number, None)
    _mapping(value, path, problems, RANGE_FIELDS)
    ends: list[Decimal | None] = []
    for name in RANGE_FIELDS:
        if value.get(name) is None:
            problems.add((*path, name), "required: a range is {min: N, max: N}")
            ends.append(None)
        else:
            ends.append(_number(value[name], (*path, name), problems))
    low, high = ends
    if low is None or high is None:
        return None
    if low > high:
        problems.add(path, f"the range's minimum {low} is above its maximum {high}")
        return None
    return (low, None) if low == high else (low, high)


def _date(value: Any, path: Path, problems: Problems) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    problems.add(path, "expected a date YYYY-MM-DD")
    return None


def _required_date(obj: Mapping, name: str, path: Path, problems: Problems) -> date | None:
    if obj.get(name) is None:
        problems.add((*path, name), "required: a date YYYY-MM-DD")
        return None
    return _date(obj[name], (*path, name), problems)


def _choice(obj: Mapping, name: str, choices: Mapping[str, str], path: Path, problems: Problems, default=None):
    value = obj.get(name, default)
    if value is None:
        problems.add((*path, name), f"required; one of {', '.join(choices)}")
        return None
    if not isinstance(value, str) or value not in choices:  # a list or a mapping is no choice either
        problems.add((*path, name), f"{value!r} is not one of {', '.join(choices)}")
        return None
    return value


def _key(obj: Mapping, path: Path, problems: Problems) -> str | None:
    key = obj.get("key")
    if key is None:
        problems.add((*path, "key"), "required")
        return None
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        problems.add(
            (*path, "key"), "use lowercase letters, digits and '-' (at most 100), starting with a letter or digit"
        )
        return None
    return key


def split_units(value: Any, path: Path, problems: Problems) -> list[str]:
    """Responsible units: a list, or one string with units separated by 、 , ; or new lines."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    units: list[str] = []
    for index, item in enumerate(items):
        if not isinstance(item, str):
            problems.add((*path, index) if isinstance(value, list) else path, "expected the name of a unit")
            continue
        units.extend(u.strip() for u in UNIT_SEPARATORS.split(item) if u.strip())
    for unit in units:
        if len(unit) > 100:
            problems.add(path, f"unit name longer than 100 characters: {unit[:20]}…")
    return list(dict.fromkeys(units))


def _code(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):  # an unquoted code in YAML
        return str(value)
    return value.strip() if isinstance(value, str) and value.strip() else None


# --- regions ---------------------------------------------------------------------------------


def _region(value: Any, path: Path, problems: Problems) -> RegionSpec | None:
    obj = _mapping(value, path, problems, REGION_FIELDS)
    if obj is None:
        return None
    code = _code(obj.get("code"))
    if code is None:
        problems.add((*path, "code"), "required")
    elif not (STANDARD_CODE.match(code) or CUSTOM_CODE.match(code)):
        problems.add((*path, "code"), "a six-digit GB/T 2260 code, or a custom code such as 321100-ETDZ")
        code = None
    name = _text(obj, "name", path, problems, max_length=100)
    level = _choice(obj, "level", REGION_LEVELS, path, problems)
    parent = _code(obj.get("parent"))
    if obj.get("parent") is not None and parent is None:
        problems.add((*path, "parent"), "expected a region code")
    if None in (code, name, level):
        return None
    return RegionSpec(code, name, level, parent)


def _same_name(given: str, known: str) -> bool:
    # 福州市鼓楼区 names the standard 鼓楼区 too: one name containing the other is the same place.
    return given in known or known in given


def _check_regions(specs: list[tuple[Path, RegionSpec]], known: RegionRegistry, problems: Problems) -> None:
    """Known regions are checked against what the file says; unknown ones must be creatable."""
    given = {spec.code: spec for _path, spec in specs}
    for path, spec in specs:
        if spec.code in known:
            region = known.get(spec.code)
            if region.custom:
                if spec.name != region.name:
                    problems.add((*path, "name"), f"region {spec.code} is {region.name}, not {spec.name}")
                if spec.level != region.level:
                    problems.add((*path, "level"), f"region {spec.code} is a {region.level}, not a {spec.level}")
            else:
                if not _same_name(spec.name, region.name):
                    problems.add((*path, "name"), f"region {spec.code} is {region.name}, not {spec.name}")
                if not _same_level(spec.level, region.level):
                    problems.add((*path, "level"), f"region {spec.code} is a {region.level}, not a {spec.level}")
            if spec.parent is not None and spec.parent != region.parent:
                problems.add((*path, "parent"), f"region {spec.code} lies under {region.parent}, not {spec.parent}")
            continue
        if spec.parent is None:
            if spec.level != "province":
                problems.add((*path, "parent"), "required: the region this one lies in")
        elif spec.parent not in known and spec.parent not in given:
            problems.add((*path, "parent"), f"unknown region {spec.parent}; give it under regions: (parents first)")
        elif spec.parent == spec.code:
            problems.add((*path, "parent"), "a region cannot lie in itself")
        elif (wrong := misnumbered(spec.code, spec.parent, known, given)) is not None:
            problems.add((*path, "code"), wrong)
    _check_no_cycle(given, known, specs, problems)


def code_owner(
    code: str, parent: str, known: RegionRegistry, given: Mapping[str, RegionSpec] | None = None
) -> str | None:
    """The region whose code a custom ``code`` is numbered from (321100 for 321100-ETDZ) when the
    region ``parent`` lies in it (or is it); when that code was withdrawn, the successor whose area
    holds ``parent``. None when neither holds it: the code names another region's area.
    ``given``: regions a plan file introduces, which ``parent`` may lie in."""
    given = given or {}
    prefix = code[:6]
    owners = [prefix]
    while owners[-1] in known and known.get(owners[-1]).withdrawn and len(owners) < 10:
        successors = known.get(owners[-1]).successors
        if not successors:
            break
        owners.extend(successors)
    for owner in owners:
        current: str | None = parent
        for _ in range(12):  # regions nest a few levels deep; a loop is reported elsewhere
            if current is None:
                break
            if current == owner:
                return owner
            if current in known:
                current = known.get(current).parent
            elif current in given:
                current = given[current].parent
            else:
                break
    return None


def misnumbered(
    code: str, parent: str, known: RegionRegistry, given: Mapping[str, RegionSpec] | None = None
) -> str | None:
    """Why a custom region ``code`` may not lie in ``parent``, or None (a standard code: None).

    A custom code begins with the code of the region it belongs to: only that region's area is
    numbered with its code, so 321100-ETDZ lies in 321100 镇江市 (or below it) and nowhere else."""
    if not CUSTOM_CODE.match(code):
        return None
    given = given or {}
    prefix = code[:6]
    if prefix not in known and prefix not in given:
        return f"{code} is numbered from {prefix}, which is no known region"
    if code_owner(code, parent, known, given) is None:
        name = known.get(prefix).name if prefix in known else given[prefix].name
        return (
            f"{code} is numbered from {prefix} {name}, which does not hold {parent}: "
            "a custom code begins with the code of the region it lies in"
        )
    return None


def _same_level(given: str, known: str) -> bool:
    # GB/T 2260 does not say whether a county-level unit is a district or a county.
    return given == known or {given, known} == {"district", "county"}


def _check_no_cycle(given: dict[str, RegionSpec], known: RegionRegistry, specs, problems: Problems) -> None:
    for path, spec in specs:
        seen = {spec.code}
        parent = spec.parent
        while parent is not None and parent in given and parent not in known:
            if parent in seen:
                problems.add((*path, "parent"), f"regions {' → '.join(sorted(seen))} lie in one another")
                break
            seen.add(parent)
            parent = given[parent].parent


# --- indicators and tasks ----------------------------------------------------------------------


def _source(
    value: Any,
    unit: str | None,
    measure: str | None,
    period: tuple[date | None, date | None],
    statistics: Mapping[str, Statistic],
    path: Path,
    problems: Problems,
) -> Source | None:
    """An indicator's ``source``; None when reported. The top-level source is read in the
    indicator's unit and must give readings of its measure; the sources a ratio or a growth is
    computed from are read in their base units, whatever they count."""
    if value is None or value == "reported":
        return None
    if isinstance(value, str):
        problems.add(path, f"either {SOURCE_SHAPES}")
        return None
    reader = _SourceReader(statistics, period, problems)
    source = reader.read(value, path, depth=1, unit=unit)
    if source is None or measure is None:
        return source
    kind = reader.kind_of(source)
    if kind is not None and measure not in MEASURES_OF_KIND[kind]:
        allowed = " or ".join(MEASURES_OF_KIND[kind])
        problems.add(path, f"this source gives a {kind}; it can stand for a {allowed} indicator, not a {measure} one")
        return None
    return source


class _SourceReader:
    """Reads a source and what it nests, every problem listed with its path."""

    def __init__(
        self, statistics: Mapping[str, Statistic], period: tuple[date | None, date | None], problems: Problems
    ) -> None:
        self.statistics = statistics
        self.period = period
        self.problems = problems

    def read(self, value: Any, path: Path, *, depth: int, unit: str | None) -> Source | None:
        """``unit``: the indicator's, for the top-level source; None for one nested in another."""
        if depth > SOURCE_DEPTH:
            self.problems.add(path, f"sources nest at most {SOURCE_DEPTH} deep")
            return None
        if not isinstance(value, Mapping):
            where = "" if unit is not None else "; a ratio or a growth is computed from metrics and statistics"
            self.problems.add(path, f"either {SOURCE_SHAPES}{where}")
            return None
        if "ratio" in value:
            return self._ratio(value, path, depth)
        if "growth" in value:
            return self._growth(value, path, depth)
        return self._metric(value, path, unit)

    def _metric(self, value: Mapping, path: Path, unit: str | None) -> MetricSource | None:
        obj = _mapping(value, path, self.problems, METRIC_SOURCE_FIELDS)
        if obj is None:
            return None
        metric = obj.get("metric")
        if not isinstance(metric, str) or not metric:
            self.problems.add((*path, "metric"), f"required: the name of a metric; or a source of {SOURCE_SHAPES}")
            return None
        filters = obj.get("filters") or {}
        code = statistic_code(metric)
        if code is not None:
            found = self._statistic_problems(code, filters, unit)
        else:
            found = binding_problems(metric, filters, unit or "")
            if unit is None and not found and CATALOGUE[metric].kind == "reported":
                found = [(("metric",), "a ratio or a growth is computed from metrics and statistics, not reports")]
        for sub, msg in found:
            self.problems.add((*path, *sub), msg)
        opening = self._opening(obj.get("opening"), (*path, "opening"))
        if found or (obj.get("opening") is not None and opening is None):
            return None
        source = MetricSource(metric, {str(k): v for k, v in filters.items()}, opening)
        if opening is not None and self.kind_of(source) != "flow":
            self.problems.add((*path, "opening"), f"{metric} is not a flow: an opening balance is added to flows")
            return None
        return source

    def _statistic_problems(self, code: str, filters: Any, unit: str | None) -> list[tuple[Path, str]]:
        statistic = self.statistics.get(code)
        if statistic is None:
            known = ", ".join(PREFIX + c for c in sorted(self.statistics))
            return [(("metric",), f"unknown statistic {code!r}; statistics: {known}")]
        problems: list[tuple[Path, str]] = []
        if unit:
            try:
                unit_factor(statistic.unit, unit)
            except UnitMismatch:
                reason = f"{statistic.metric} is counted in {statistic.unit}, which cannot be read as {unit}"
                problems.append(((), reason))
        if filters:
            problems.append((("filters",), f"{statistic.metric} has no filters: a release is one figure per region"))
        return problems

    def _opening(self, value: Any, path: Path) -> Opening | None:
        if value is None:
            return None
        obj = _mapping(value, path, self.problems, OPENING_FIELDS)
        if obj is None:
            return None
        as_of = _date(obj.get("as_of"), (*path, "as_of"), self.problems) if obj.get("as_of") is not None else None
        if obj.get("as_of") is None:
            self.problems.add((*path, "as_of"), "required: the day the opening balance was reached")
        start, end = self.period
        if as_of is not None and start is not None and end is not None and not start <= as_of <= end:
            self.problems.add((*path, "as_of"), f"{as_of} lies outside the plan period {start}..{end}")
            as_of = None
        number = _number(obj.get("value"), (*path, "value"), self.problems)
        if as_of is None or number is None:
            return None
        return Opening(as_of, number)

    def _ratio(self, value: Mapping, path: Path, depth: int) -> RatioSource | None:
        obj = _mapping(value, path, self.problems, RATIO_SOURCE_FIELDS)
        parts = _mapping(obj.get("ratio"), (*path, "ratio"), self.problems, RATIO_FIELDS) if obj else None
        if parts is None:
            return None
        sides = []
        for side in ("numerator", "denominator"):
            if parts.get(side) is None:
                self.problems.add((*path, "ratio", side), "required: a metric, a statistic, a ratio or a growth")
                sides.append(None)
                continue
            sides.append(self.read(parts[side], (*path, "ratio", side), depth=depth + 1, unit=None))
        per = Decimal(1)
        if parts.get("per") is not None:
            per = _number(parts["per"], (*path, "ratio", "per"), self.problems)
            if per is not None and per <= 0:
                reason = "a positive number: 10000 for 每万人口, 100 for a share in %"
                self.problems.add((*path, "ratio", "per"), reason)
                per = None
        if None in sides or per is None:
            return None
        return RatioSource(sides[0], sides[1], per)

    def _growth(self, value: Mapping, path: Path, depth: int) -> GrowthSource | None:
        obj = _mapping(value, path, self.problems, GROWTH_SOURCE_FIELDS)
        if obj is None:
            return None
        over = obj.get("over", "year")
        if over not in GROWTH_PERIODS:
            self.problems.add((*path, "over"), f"{over!r} is not one of {', '.join(GROWTH_PERIODS)}")
        inner = self.read(obj.get("growth"), (*path, "growth"), depth=depth + 1, unit=None)
        if inner is None or over not in GROWTH_PERIODS:
            return None
        return GrowthSource(inner, over)

    def kind_of(self, source: Source) -> str | None:
        """stock, flow or rate for a metric; ratio or growth for those."""
        if isinstance(source, RatioSource):
            return "ratio"
        if isinstance(source, GrowthSource):
            return "growth"
        code = statistic_code(source.metric)
        if code is not None:
            return self.statistics[code].kind
        kind = CATALOGUE[source.metric].kind
        return None if kind == "reported" else kind


def _milestones(value: Any, start: date | None, end: date | None, path: Path, problems: Problems):
    """Year → figure (a range's minimum), and year → maximum for the years given as a range."""
    if value is None:
        return {}, {}
    if not isinstance(value, Mapping):
        problems.add(path, "expected a mapping of year to value, e.g. {2024: 750, 2025: 800}")
        return {}, {}
    milestones: dict[int, Decimal] = {}
    maxima: dict[int, Decimal] = {}
    for raw_year, raw_value in value.items():
        year = _year(raw_year)
        if year is None:
            problems.add((*path, str(raw_year)), "milestones are keyed by year (e.g. 2025)")
            continue
        if year in milestones:
            problems.add((*path, str(year)), "the year is given twice")
            continue
        if start and end and not start.year <= year <= end.year:
            problems.add(
                (*path, str(year)), f"{year} lies outside the plan period {start.isoformat()}..{end.isoformat()}"
            )
        figure = _figure(raw_value, (*path, str(year)), problems)
        if figure is not None:
            milestones[year] = figure[0]
            if figure[1] is not None:
                maxima[year] = figure[1]
    return dict(sorted(milestones.items())), dict(sorted(maxima.items()))


def _year(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1000 <= value <= 9999 else None
    if isinstance(value, str) and re.fullmatch(r"\s*\d{4}\s*", value):
        return int(value)
    if isinstance(value, Decimal | float) and value == int(value):
        return _year(int(value))
    return None


def milestone_decreases(milestones: Mapping[int, Decimal]) -> list[tuple[int, Decimal, int, Decimal]]:
    """Each year whose milestone is lower than the year before it: (year, value, prior year, prior value)."""
    found = []
    years = sorted(milestones)
    for before, year in zip(years, years[1:], strict=False):
        if milestones[year] < milestones[before]:
            found.append((year, milestones[year], before, milestones[before]))
    return found


def must_not_decrease(direction: str, measure: str) -> bool:
    """Milestones of at-least cumulative and stock indicators only ever go up (a drop is a typo)."""
    return direction == "at_least" and measure in ("cumulative", "stock")


def check_milestone_order(milestones, direction, measure, path: Path, problems: Problems) -> None:
    if direction is None or measure is None or not must_not_decrease(direction, measure):
        return
    for year, value, before, prior in milestone_decreases(milestones):
        problems.add(
            (*path, str(year)), f"{value} is lower than {prior} in {before}: an at-least {measure} does not decrease"
        )


def _baseline(value: Any, start: date | None, path: Path, problems: Problems) -> Baseline | None:
    if value is None:
        return None
    obj = _mapping(value, path, problems, BASELINE_FIELDS)
    if obj is None:
        return None
    year = _year(obj.get("year"))
    if year is None:
        problems.add((*path, "year"), "required: the year the baseline value describes")
    elif start is not None and year > start.year:
        problems.add((*path, "year"), f"a baseline describes the start ({start.year}) or before, not {year}")
    number = _number(obj.get("value"), (*path, "value"), problems)
    if year is None or number is None:
        return None
    return Baseline(year, number)


def read_indicator(
    value: Any,
    start: date | None,
    end: date | None,
    path: Path,
    problems: Problems,
    statistics: Mapping[str, Statistic] = BUILT_IN,
):
    """One indicator of a plan file (or the merged state of a PATCH), checked."""
    obj = _mapping(value, path, problems, INDICATOR_FIELDS)
    if obj is None:
        return None
    key = _key(obj, path, problems)
    name = _text(obj, "name", path, problems, max_length=300)
    category = _choice(obj, "category", CATEGORIES, path, problems)
    # Any short unit (期, 处, 件/万人 …): only a metric read in it must convert (see _source).
    unit = _text(obj, "unit", path, problems, max_length=UNIT_MAX_LENGTH)
    measure = _choice(obj, "measure", MEASURES, path, problems)
    direction = _choice(obj, "direction", DIRECTIONS, path, problems, default="at_least")
    nature = _choice(obj, "nature", NATURES, path, problems, default="expected")
    trajectory = _choice(obj, "trajectory", TRAJECTORIES, path, problems, default="linear")
    if measure == "rate" and unit is not None and unit != "%":
        problems.add((*path, "unit"), "a rate is measured in %")
    target = None
    if obj.get("target") is None:
        problems.add((*path, "target"), "required: the value to reach by the end of the plan")
    else:
        target = _figure(obj.get("target"), (*path, "target"), problems)
    baseline = _baseline(obj.get("baseline"), start, (*path, "baseline"), problems)
    milestones, maxima = _milestones(obj.get("milestones"), start, end, (*path, "milestones"), problems)
    if direction == "at_most":  # the verdict compares with a range's minimum: a ceiling cannot be one
        if target is not None and target[1] is not None:
            problems.add((*path, "target"), CEILING_RANGE)
        for year in maxima:
            problems.add((*path, "milestones", str(year)), CEILING_RANGE)
    check_milestone_order(milestones, direction, measure, (*path, "milestones"), problems)
    responsible = split_units(obj.get("responsible"), (*path, "responsible"), problems)
    source = _source(obj.get("source"), unit, measure, (start, end), statistics, (*path, "source"), problems)
    if None in (key, name, category, unit, measure, direction, nature, trajectory, target):
        return None
    return IndicatorSpec(
        key=key,
        name=name,
        category=category,
        unit=unit,
        measure=measure,
        direction=direction,
        nature=nature,
        target=target[0],
        baseline=baseline,
        milestones=milestones,
        responsible=responsible,
        source=source,
        trajectory=trajectory,
        target_max=target[1],
        milestone_maxima=maxima,
    )


def _task(value: Any, path: Path, problems: Problems) -> TaskSpec | None:
    obj = _mapping(value, path, problems, TASK_FIELDS)
    if obj is None:
        return None
    key = _key(obj, path, problems)
    title = _text(obj, "title", path, problems, max_length=1000)
    responsible = split_units(obj.get("responsible"), (*path, "responsible"), problems)
    due = _date(obj["due"], (*path, "due"), problems) if obj.get("due") is not None else None
    indicators = _key_list(obj.get("indicators"), (*path, "indicators"), problems)
    notes = _text(obj, "notes", path, problems, required=False, max_length=4000)
    if key is None or title is None:
        return None
    return TaskSpec(key, title, responsible, due, indicators, notes)


def _reporting(value: Any, path: Path, problems: Problems) -> ReportingSpec | None:
    obj = _mapping(value, path, problems, REPORTING_FIELDS)
    if obj is None:
        return None
    period = _choice(obj, "period", REPORTING_PERIODS, path, problems)
    review = _choice(obj, "review", REVIEW_MODES, path, problems, default="none")
    try:  # YAML, JSON and a workbook's cell give a number in their own types (10, Decimal 10, 10.0)
        due_days = parse_number(obj.get("due_days"))
    except ValueError:
        due_days = None
    if due_days is None or due_days != due_days.to_integral_value() or not 0 <= due_days <= MAX_DUE_DAYS:
        message = f"required: a whole number of days after a period's end its report is due, 0–{MAX_DUE_DAYS}"
        problems.add((*path, "due_days"), message)
        return None
    start = _date(obj["start"], (*path, "start"), problems) if obj.get("start") is not None else None
    if period is None or review is None or (obj.get("start") is not None and start is None):
        return None
    return ReportingSpec(period, int(due_days), review, start)


def _key_list(value: Any, path: Path, problems: Problems) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [v.strip() for v in UNIT_SEPARATORS.split(value) if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.add(path, "expected a list of indicator keys")
        return []
    return list(dict.fromkeys(value))


def _list(value: Any, path: Path, problems: Problems) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(path, "expected a list")
        return []
    return value


def _duplicates(items: list, path_name: str, problems: Problems) -> None:
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        if item is None:
            continue
        if item.key in first:
            problems.add((path_name, index, "key"), f"duplicate key {item.key!r} (also {path_name}[{first[item.key]}])")
        else:
            first[item.key] = index


# --- the whole file ------------------------------------------------------------------------------


def read_plan(
    document: Any,
    known: RegionRegistry,
    problems: Problems | None = None,
    statistics: Mapping[str, Statistic] = BUILT_IN,
) -> PlanDocument:
    """Reads and checks a plan file's content; raises :class:`PlanInvalid` with every problem.

    ``problems`` may already hold what was found while decoding (a workbook's cells);
    ``statistics`` is the statistic catalogue a source may read (``statistics.<code>``)."""
    problems = problems or Problems()
    top = _mapping(document, (), problems, TOP_FIELDS)
    if top is None:
        problems.raise_if_any()
    if top.get("format") != FORMAT:
        problems.add(("format",), f"required: {FORMAT}")

    region = _region(top.get("region"), ("region",), problems) if top.get("region") is not None else None
    if top.get("region") is None:
        problems.add(("region",), "required: {code, name, level, parent}")
    extra = [
        _region(r, ("regions", i), problems) for i, r in enumerate(_list(top.get("regions"), ("regions",), problems))
    ]
    specs = [(("regions", i), r) for i, r in enumerate(extra) if r is not None]
    if region is not None:
        specs.append((("region",), region))
    _check_regions(specs, known, problems)

    plan = _mapping(top.get("plan"), ("plan",), problems, PLAN_FIELDS) if top.get("plan") is not None else None
    if top.get("plan") is None:
        problems.add(("plan",), "required: {key, title, issued_by, start, end}")
    key = title = issued_by = start = end = None
    if plan is not None:
        key = _key(plan, ("plan",), problems)
        title = _text(plan, "title", ("plan",), problems, max_length=500)
        issued_by = _text(plan, "issued_by", ("plan",), problems, required=False, max_length=200)
        start = _required_date(plan, "start", ("plan",), problems)
        end = _required_date(plan, "end", ("plan",), problems)
        if start and end and end < start:
            problems.add(("plan", "end"), f"the plan ends ({end}) before it starts ({start})")
            start = end = None

    reporting = _reporting(top["reporting"], ("reporting",), problems) if top.get("reporting") is not None else None
    if reporting and reporting.start and start and end and not start <= reporting.start <= end:
        problems.add(("reporting", "start"), f"the reporting starts outside the plan period {start}..{end}")
    indicators = [
        read_indicator(item, start, end, ("indicators", i), problems, statistics)
        for i, item in enumerate(_list(top.get("indicators"), ("indicators",), problems))
    ]
    _duplicates(indicators, "indicators", problems)
    tasks = [
        _task(item, ("tasks", i), problems) for i, item in enumerate(_list(top.get("tasks"), ("tasks",), problems))
    ]
    _duplicates(tasks, "tasks", problems)
    indicator_keys = {i.key for i in indicators if i is not None}
    for t_index, task in enumerate(tasks):
        for i_index, ikey in enumerate(task.indicators if task else []):
            if ikey not in indicator_keys:
                problems.add(("tasks", t_index, "indicators", i_index), f"no indicator {ikey!r} in this plan")
    for t_index, task in enumerate(tasks):
        if task and task.due and start and end and not start <= task.due <= end:
            problems.add(("tasks", t_index, "due"), f"{task.due} lies outside the plan period {start}..{end}")

    problems.raise_if_any()
    return PlanDocument(
        region=region,
        regions=[r for r in extra if r is not None],
        key=key,
        title=title,
        issued_by=issued_by,
        start=start,
        end=end,
        indicators=indicators,
        tasks=tasks,
        reporting=reporting,
    )


# --- the document back as plain data (what export writes) -----------------------------------------


def region_data(spec: RegionSpec) -> dict[str, Any]:
    data: dict[str, Any] = {"code": spec.code, "name": spec.name, "level": spec.level}
    if spec.parent is not None:
        data["parent"] = spec.parent
    return data


def source_data(source: Source | None) -> Any:
    """A source as the file writes it (:func:`read_source` reads it back)."""
    if source is None:
        return "reported"
    if isinstance(source, RatioSource):
        parts: dict[str, Any] = {
            "numerator": source_data(source.numerator),
            "denominator": source_data(source.denominator),
        }
        if source.per != 1:
            parts["per"] = source.per
        return {"ratio": parts}
    if isinstance(source, GrowthSource):
        return {"growth": source_data(source.growth), "over": source.over}
    data: dict[str, Any] = {"metric": source.metric}
    if source.filters:
        data["filters"] = dict(source.filters)
    if source.opening is not None:
        data["opening"] = {"as_of": source.opening.as_of, "value": source.opening.value}
    return data


def source_from_data(data: Any) -> Source | None:
    """A source as :func:`source_data` wrote it (a row's, checked when it was imported), read back."""
    if not data or data == "reported":
        return None
    if "ratio" in data:
        parts = data["ratio"]
        per = Decimal(str(parts.get("per", 1)))
        return RatioSource(source_from_data(parts["numerator"]), source_from_data(parts["denominator"]), per)
    if "growth" in data:
        return GrowthSource(source_from_data(data["growth"]), data.get("over", "year"))
    opening = data.get("opening")
    return MetricSource(
        data["metric"],
        dict(data.get("filters") or {}),
        Opening(date.fromisoformat(str(opening["as_of"])), Decimal(str(opening["value"]))) if opening else None,
    )


def figure_data(value: Decimal, maximum: Decimal | None = None) -> Decimal | dict[str, Decimal]:
    """A target or milestone as the file writes it: the number, or a range ``{min, max}``."""
    return value if maximum is None else {"min": value, "max": maximum}


def indicator_data(spec: IndicatorSpec) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": spec.key,
        "name": spec.name,
        "category": spec.category,
        "unit": spec.unit,
        "measure": spec.measure,
        "direction": spec.direction,
        "nature": spec.nature,
    }
    if spec.baseline is not None:
        data["baseline"] = {"year": spec.baseline.year, "value": spec.baseline.value}
    data["target"] = figure_data(spec.target, spec.target_max)
    if spec.milestones:
        data["milestones"] = {
            year: figure_data(value, spec.milestone_maxima.get(year)) for year, value in spec.milestones.items()
        }
    if spec.trajectory != "linear":  # the default is left out: a file without it means what it meant
        data["trajectory"] = spec.trajectory
    if spec.responsible:
        data["responsible"] = list(spec.responsible)
    data["source"] = source_data(spec.source)
    return data


def task_data(spec: TaskSpec) -> dict[str, Any]:
    data: dict[str, Any] = {"key": spec.key, "title": spec.title}
    if spec.responsible:
        data["responsible"] = list(spec.responsible)
    if spec.due is not None:
        data["due"] = spec.due
    if spec.indicators:
        data["indicators"] = list(spec.indicators)
    if spec.notes:
        data["notes"] = spec.notes
    return data


def reporting_data(spec: ReportingSpec) -> dict[str, Any]:
    """The reporting as the plan file holds it (a start only when one is set)."""
    data: dict[str, Any] = {"period": spec.period, "due_days": spec.due_days, "review": spec.review}
    if spec.start is not None:
        data["start"] = spec.start
    return data


def reporting_row(spec: ReportingSpec) -> dict[str, Any]:
    """The reporting as the plan's row keeps it: JSON, the start as text."""
    data = reporting_data(spec)
    if spec.start is not None:
        data["start"] = spec.start.isoformat()
    return data


def reporting_spec(data: dict[str, Any]) -> ReportingSpec:
    """:func:`reporting_row` read back."""
    start = data.get("start")
    return ReportingSpec(data["period"], data["due_days"], data["review"], date.fromisoformat(start) if start else None)


def plan_data(doc: PlanDocument) -> dict[str, Any]:
    """The plan file's content, in the order PLAN_FORMAT.md shows it."""
    data: dict[str, Any] = {"format": FORMAT, "region": region_data(doc.region)}
    if doc.regions:
        data["regions"] = [region_data(r) for r in doc.regions]
    plan: dict[str, Any] = {"key": doc.key, "title": doc.title}
    if doc.issued_by:
        plan["issued_by"] = doc.issued_by
    plan.update(start=doc.start, end=doc.end)
    data["plan"] = plan
    if doc.reporting is not None:
        data["reporting"] = reporting_data(doc.reporting)
    data["indicators"] = [indicator_data(i) for i in doc.indicators]
    data["tasks"] = [task_data(t) for t in doc.tasks]
    return data
