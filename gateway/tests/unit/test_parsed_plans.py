"""The app's parsed plans (:class:`gateway.views.ParsedPlans`): kept per plan key and version, a
new version parsed afresh, the least recently used let go beyond the size."""

from datetime import date

from gateway.models import PlanView
from gateway.progress import Measure
from gateway.views import ParsedPlans


def plan(key: str, version: int, measure: str = "stock") -> PlanView:
    indicator = {
        "key": "i1",
        "measure": measure,
        "direction": "at_least",
        "target": "10",
        "unit": "件",
        "source": "reported",
    }
    state = {"indicators": [indicator], "tasks": [], "issued_by": f"{key} v{version}"}
    return PlanView(
        key=key, region="r", title="t", status="published", start=date(2024, 1, 1), end=date(2026, 12, 31),
        version=version, state=state,
    )  # fmt: skip


def test_a_plan_is_parsed_once_per_version():
    parsed = ParsedPlans()
    first = parsed.of(plan("p", 1))
    assert parsed.of(plan("p", 1, measure="annual")) is first  # the same version: kept
    newer = parsed.of(plan("p", 2, measure="annual"))
    assert newer.indicators[0].indicator.measure is Measure.ANNUAL
    assert newer.issued_by == "p v2" and newer.indicators[0].reported
    assert parsed.knows(plan("p", 1)) and parsed.knows(plan("p", 2)) and not parsed.knows(plan("p", 3))


def test_the_least_recently_used_plans_are_let_go_beyond_the_size():
    parsed = ParsedPlans(size=2)
    parsed.of(plan("a", 1))
    parsed.of(plan("b", 1))
    parsed.of(plan("a", 1))  # used again: b is now the oldest
    parsed.of(plan("c", 1))
    assert [parsed.knows(plan(key, 1)) for key in "abc"] == [True, False, True]


def test_each_app_has_its_own():
    from gateway.app import create_app

    assert create_app().state.parsed_plans is not create_app().state.parsed_plans
