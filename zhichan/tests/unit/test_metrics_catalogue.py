from decimal import Decimal

import pytest

from zhichan.metrics_catalogue import CATALOGUE, UnitMismatch, binding_problems, convert_unit, describe, unit_factor


def test_money_converts_exactly():
    assert convert_unit(Decimal("123456789.12"), "元", "亿元") == Decimal("1.2345678912")
    assert convert_unit(Decimal("5"), "亿元", "万元") == Decimal("50000")
    assert unit_factor("万元", "亿元") == Decimal("0.0001")


def test_counts_convert_one_to_one():
    assert convert_unit(Decimal(3), "场", "次") == 3
    assert unit_factor("件", "家") == 1


@pytest.mark.parametrize("a, b", [("元", "件"), ("%", "件"), ("分", "%"), ("件", "吨")])
def test_families_do_not_mix(a, b):
    with pytest.raises(UnitMismatch):
        unit_factor(a, b)


def test_every_metric_of_the_domain_table_exists():
    names = {
        "financing.pledge_amount",
        "financing.pledge_count",
        "financing.pledged_patents",
        "financing.transaction_count",
        "financing.transaction_amount",
        "financing.insured_ip_count",
        "financing.matchmaking_events",
        "enforcement.cases_filed",
        "enforcement.cases_closed",
        "enforcement.on_time_closure_rate",
        "enforcement.overdue_open_cases",
        "enforcement.campaigns",
        "enforcement.repeat_infringers",
        "agencies.active_agencies",
        "agencies.practitioners",
        "agencies.staff",
        "agencies.revenue",
        "agencies.complaints_received",
        "agencies.complaints_resolved_on_time",
        "agencies.inspections",
        "targets.reported",
    }
    assert set(CATALOGUE) == names
    assert {m["name"] for m in describe()} == names


def test_binding_problems():
    assert binding_problems("financing.pledge_amount", {"ip_type": ["patent", "trademark"]}, "亿元") == []
    assert binding_problems("agencies.active_agencies", {"offline": True, "brand_level": "national"}, "家") == []
    assert binding_problems("targets.reported", None, "分") == []
    assert [p for p, _ in binding_problems("financing.pledge_amount", {"ip_type": "song"}, "件")] == [
        (),
        ("filters", "ip_type"),
    ]
    assert binding_problems("financing.pledge_amount", {"ip_type": []}, "元")[0][1] == "give at least one value"
    assert binding_problems("nope", {}, "件")[0][0] == ("metric",)
    assert binding_problems("financing.pledge_amount", ["ip_type"], "元")[0][0] == ("filters",)
