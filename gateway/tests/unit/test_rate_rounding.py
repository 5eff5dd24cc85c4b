"""The enforcement service's statistics and the gateway's metric print the same 按期结案率 for
the same records: one rounding rule (zhichan.rates), checked from both sides."""

import pytest

from gateway.metrics import metric_from
from services.enforcement.domain import on_time_closure_rate
from zhichan.metrics_catalogue import CATALOGUE

RATE = CATALOGUE["enforcement.on_time_closure_rate"]


@pytest.mark.parametrize(
    "on_time, closed, overdue_open",
    [(1, 32, 0), (1, 30, 2), (2, 3, 0), (5, 7, 1), (0, 0, 0), (29, 31, 1), (1, 16, 16)],
)
def test_service_and_gateway_agree(on_time, closed, overdue_open):
    assert on_time_closure_rate(on_time, closed, overdue_open) == metric_from(RATE, [on_time, closed, overdue_open])
