"""Metrics computed from the read model, per region (descendants included), per date, with filters."""

from __future__ import annotations

from gateway.metrics.agencies import ActiveAgencies
from gateway.metrics.base import Metric, MetricQuery, parse_filters

METRICS: dict[str, Metric] = {metric.name: metric for metric in (ActiveAgencies(),)}

__all__ = ["METRICS", "Metric", "MetricQuery", "parse_filters"]
