"""What a metric is: a name, a unit, a kind, the filters it accepts, and a computation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from zhichan.api.problems import Invalid

BOOL_VALUES = {"true": True, "false": False, "1": True, "0": False}


@dataclass(frozen=True)
class FilterSpec:
    """``values`` lists the allowed codes; ``None`` means a boolean filter."""

    values: tuple[str, ...] | None = None
    description: str = ""

    @property
    def is_bool(self) -> bool:
        return self.values is None


@dataclass(frozen=True)
class MetricQuery:
    regions: frozenset[str] | None  # None: every region
    as_of: date
    start: date | None = None
    end: date | None = None
    filters: dict[str, object] = field(default_factory=dict)


class Metric:
    name: ClassVar[str]
    unit: ClassVar[str]
    kind: ClassVar[str]  # stock | flow | rate
    description: ClassVar[str]
    filters: ClassVar[dict[str, FilterSpec]] = {}

    async def value(self, session: AsyncSession, query: MetricQuery) -> Decimal:
        raise NotImplementedError

    def describe(self) -> dict:
        return {
            "name": self.name,
            "unit": self.unit,
            "kind": self.kind,
            "description": self.description,
            "filters": {
                name: {"type": "boolean"} if spec.is_bool else {"type": "enum", "values": list(spec.values)}
                for name, spec in self.filters.items()
            },
        }


def parse_filters(metric: Metric, params: dict[str, list[str]]) -> dict[str, object]:
    """Query parameters → filter values; unknown filters and values are refused, listed together."""
    parsed: dict[str, object] = {}
    errors = []
    for name, raw_values in params.items():
        spec = metric.filters.get(name)
        if spec is None:
            errors.append(
                {"loc": [name], "msg": f"unknown filter; {metric.name} accepts: {', '.join(metric.filters) or 'none'}"}
            )
            continue
        values = [v for raw in raw_values for v in raw.split(",") if v]
        if spec.is_bool:
            if len(values) != 1 or values[0].lower() not in BOOL_VALUES:
                errors.append({"loc": [name], "msg": "must be true or false"})
                continue
            parsed[name] = BOOL_VALUES[values[0].lower()]
        else:
            unknown = [v for v in values if v not in spec.values]
            if unknown or not values:
                errors.append({"loc": [name], "msg": f"unknown value(s) {unknown}; allowed: {', '.join(spec.values)}"})
                continue
            parsed[name] = values
    if errors:
        raise Invalid("unknown filters or values", errors=errors)
    return parsed
