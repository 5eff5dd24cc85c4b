"""The metric catalogue: every live metric the gateway computes, with its unit, kind and filters.

One definition, shared: the targets service checks plan bindings against it (a metric that
does not exist, a filter it does not have, a unit it cannot be read in), and the gateway
computes exactly these metrics. Units come in families; a value converts only within its
family, exactly (元 → 万元 → 亿元 with Decimal; counts to counts 1:1; % to %).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from zhichan import vocabulary
from zhichan.money import MONEY_UNITS

# Unit → family. Counts of different things share a family: a plan may say 次 or 个 for a
# metric counted in 场, and the number is the same. A count in 万 (万人, 万件) is 10,000 of them:
# the statistics bureau gives the population in 万人.
COUNT_UNITS = ("件", "家", "人", "人次", "个", "项", "次", "笔", "场")
SCALED_COUNT_UNITS: dict[str, Decimal] = {"万人": Decimal(10_000), "万件": Decimal(10_000), "万户": Decimal(10_000)}
UNIT_FAMILIES: dict[str, str] = {
    **{unit: "money" for unit in MONEY_UNITS},
    **{unit: "count" for unit in COUNT_UNITS},
    **{unit: "count" for unit in SCALED_COUNT_UNITS},
    "%": "percent",
    "分": "score",
}
UNITS = tuple(UNIT_FAMILIES)
# Any other unit is taken as written (期, 处, 所, 件/万人 …, at most this long): a plan counts what
# it counts, and a figure in such a unit is only ever compared with figures in the same unit.
UNIT_MAX_LENGTH = 10

KINDS = {
    "flow": "流量: events counted or summed by their business date",
    "stock": "存量: a level at a date",
    "rate": "比率: a ratio in % over a window",
    "reported": "填报: the latest progress report of an indicator",
}


class UnitMismatch(ValueError):
    pass


def unit_factor(from_unit: str, to_unit: str) -> Decimal:
    """How many ``to_unit`` one ``from_unit`` is (exact): 1 for the same unit; within a family
    of known units, their ratio; refused across families and between different unknown units."""
    if from_unit == to_unit:
        return Decimal(1)
    for unit in (from_unit, to_unit):
        if unit not in UNIT_FAMILIES:
            raise UnitMismatch(f"{from_unit} cannot be read as {to_unit}: {unit} converts to no other unit")
    if UNIT_FAMILIES[from_unit] != UNIT_FAMILIES[to_unit]:
        raise UnitMismatch(f"{from_unit} cannot be read as {to_unit}")
    return base_factor(from_unit) / base_factor(to_unit)


def base_factor(unit: str) -> Decimal:
    """How many of its family's base unit one ``unit`` is (亿元 → 10^8 元, 万人 → 10^4 人); 1 for
    every other unit. A ratio divides values in base units: 件 ÷ 人, 元 ÷ 元."""
    if unit in MONEY_UNITS:
        return MONEY_UNITS[unit]
    return SCALED_COUNT_UNITS.get(unit, Decimal(1))


def convert_unit(value: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """``value`` in ``from_unit`` expressed in ``to_unit``, exactly."""
    return Decimal(value) * unit_factor(from_unit, to_unit)


@dataclass(frozen=True)
class Filter:
    name: str
    values: tuple[Any, ...]
    description: str

    @property
    def boolean(self) -> bool:
        return self.values == (True, False)


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # flow | stock | rate | reported
    unit: str | None  # None: the unit of the indicator it is read for (targets.reported)
    description: str
    dated_by: str  # which business date places a record in time
    filters: Mapping[str, Filter] = field(default_factory=dict)


# The values each filter takes: a vocabulary's codes (zhichan.vocabulary).
CASE_TYPES = vocabulary.CASE_TYPES.codes
CASE_PROCEDURES = vocabulary.CASE_PROCEDURES.codes
CASE_ORIGINS = vocabulary.CASE_ORIGINS.codes
IP_TYPES = vocabulary.IP_TYPES.codes
PLEDGE_KINDS = vocabulary.PLEDGE_KINDS.codes
TRANSACTION_TYPES = vocabulary.TRANSACTION_TYPES.codes
AGENCY_SERVICE_TYPES = vocabulary.AGENCY_SERVICE_TYPES.codes
BRAND_LEVELS = vocabulary.BRAND_LEVELS.codes
PRACTITIONER_TYPES = vocabulary.PRACTITIONER_TYPES.codes
INSPECTION_FINDINGS = vocabulary.INSPECTION_FINDINGS.codes
BOOLEAN = (True, False)


def _filters(*filters: Filter) -> dict[str, Filter]:
    return {f.name: f for f in filters}


_IP_TYPE = Filter("ip_type", IP_TYPES, "type of the IP right (pledged asset, insured right)")
_CASE_TYPE = Filter("type", CASE_TYPES, "case type (案件类型)")
_CASE_PROCEDURE = Filter("procedure", CASE_PROCEDURES, "procedure (程序)")
_CASE_ORIGIN = Filter("origin", CASE_ORIGINS, "how the case came in (案件来源)")

_METRICS = (
    Metric(
        "financing.pledge_amount",
        "flow",
        "元",
        "IP pledge financing registered (知识产权质押融资登记金额)",
        "registered date",
        _filters(_IP_TYPE, Filter("kind", PLEDGE_KINDS, "pledge kind (混合质押, 组合质押 …)")),
    ),
    Metric("financing.pledge_count", "flow", "笔", "IP pledges registered", "registered date", _filters(_IP_TYPE)),
    Metric("financing.pledged_patents", "flow", "件", "patents pledged in registered pledges", "registered date"),
    Metric(
        "financing.transaction_count",
        "flow",
        "件",
        "IP transfers, licences and capital contributions (许可/转让/作价入股)",
        "recorded date",
        _filters(Filter("type", TRANSACTION_TYPES, "transaction type")),
    ),
    Metric(
        "financing.transaction_amount",
        "flow",
        "元",
        "amount of IP transactions (交易金额)",
        "recorded date",
        _filters(Filter("type", TRANSACTION_TYPES, "transaction type")),
    ),
    Metric(
        "financing.insured_ip_count",
        "flow",
        "件",
        "IP rights insured (知识产权保险)",
        "policy start",
        _filters(_IP_TYPE),
    ),
    Metric("financing.matchmaking_events", "flow", "场", "pledge matchmaking events (质押对接活动)", "event date"),
    Metric(
        "enforcement.cases_filed",
        "flow",
        "件",
        "cases filed (立案)",
        "filed date",
        _filters(_CASE_TYPE, _CASE_PROCEDURE, _CASE_ORIGIN),
    ),
    Metric(
        "enforcement.cases_closed",
        "flow",
        "件",
        "cases closed (结案)",
        "closed date",
        _filters(_CASE_TYPE, _CASE_PROCEDURE, _CASE_ORIGIN),
    ),
    Metric(
        "enforcement.on_time_closure_rate",
        "rate",
        "%",
        "closed on time ÷ (closed + overdue and still open) (按期结案率)",
        "closed date / due date",
        _filters(_CASE_TYPE, _CASE_PROCEDURE),
    ),
    Metric("enforcement.overdue_open_cases", "stock", "件", "open cases past their deadline", "due date"),
    Metric("enforcement.campaigns", "flow", "次", "enforcement campaigns (专项执法行动)", "campaign start"),
    Metric(
        "enforcement.repeat_infringers", "stock", "家", "respondents on the repeat-infringer watch list", "decided date"
    ),
    Metric(
        "agencies.active_agencies",
        "stock",
        "家",
        "IP service agencies in active status (知识产权服务机构)",
        "status change date",
        _filters(
            Filter("service_type", AGENCY_SERVICE_TYPES, "service type"),
            Filter("offline", BOOLEAN, "has offline premises (线下)"),
            Filter("in_cluster", BOOLEAN, "located in a service cluster (集聚区)"),
            Filter("brand_level", BRAND_LEVELS, "brand level (品牌服务机构)"),
        ),
    ),
    Metric(
        "agencies.practitioners",
        "stock",
        "人",
        "practitioners practising in agencies",
        "joined / left date",
        _filters(Filter("type", PRACTITIONER_TYPES, "practitioner type")),
    ),
    Metric("agencies.staff", "stock", "人", "staff of agencies, from the latest annual reports", "report year"),
    Metric("agencies.revenue", "flow", "元", "service revenue of agencies, from annual reports", "report year"),
    Metric("agencies.complaints_received", "flow", "件", "complaints against agencies received", "received date"),
    Metric(
        "agencies.complaints_resolved_on_time",
        "rate",
        "%",
        "complaints resolved within their handling deadline",
        "resolved date / deadline",
    ),
    Metric(
        "agencies.inspections",
        "flow",
        "次",
        "random inspections (双随机、一公开) with findings",
        "finding date",
        _filters(Filter("finding", INSPECTION_FINDINGS, "inspection finding")),
    ),
    Metric("targets.reported", "reported", None, "the latest progress report of the indicator", "as-of date"),
)

CATALOGUE: dict[str, Metric] = {m.name: m for m in _METRICS}


def binding_problems(metric_name: str, filters: Any, unit: str) -> list[tuple[tuple[str | int, ...], str]]:
    """What is wrong with reading ``metric_name`` with ``filters`` in ``unit``: a list of
    (path below the binding, reason); empty when the binding is sound."""
    metric = CATALOGUE.get(metric_name)
    if metric is None:
        return [(("metric",), f"unknown metric {metric_name!r}; metrics: {', '.join(CATALOGUE)}")]
    problems: list[tuple[tuple[str | int, ...], str]] = []
    if metric.unit is not None and unit:
        try:
            unit_factor(metric.unit, unit)
        except UnitMismatch:
            problems.append(((), f"{metric_name} is counted in {metric.unit}, which cannot be read as {unit}"))
    if filters is None:
        return problems
    if not isinstance(filters, Mapping):
        return [*problems, (("filters",), "filters are a mapping of filter name to value(s)")]
    for name, value in filters.items():
        spec = metric.filters.get(name)
        if spec is None:
            allowed = ", ".join(metric.filters) or "none"
            problems.append((("filters", str(name)), f"{metric_name} has no filter {name!r}; its filters: {allowed}"))
            continue
        values = value if isinstance(value, list) else [value]
        if not values:
            problems.append((("filters", name), "give at least one value"))
        for index, item in enumerate(values):
            if not _allowed(spec, item):
                where = ("filters", name, index) if isinstance(value, list) else ("filters", name)
                shown = ", ".join(str(v).lower() if isinstance(v, bool) else v for v in spec.values)
                problems.append((where, f"{item!r} is not a value of filter {name}; allowed: {shown}"))
    return problems


def _allowed(spec: Filter, value: Any) -> bool:
    if spec.boolean:
        return isinstance(value, bool)
    return isinstance(value, str) and value in spec.values


def describe() -> list[dict[str, Any]]:
    """The catalogue as JSON-ready data (the gateway's ``GET /progress/metrics``)."""
    return [
        {
            "name": m.name,
            "kind": m.kind,
            "unit": m.unit,
            "description": m.description,
            "dated_by": m.dated_by,
            "filters": {f.name: {"values": list(f.values), "description": f.description} for f in m.filters.values()},
        }
        for m in _METRICS
    ]
