from datetime import date

import pytest

from gateway.metrics import METRICS, parse_filters
from gateway.openapi import merge_openapi
from gateway.projections.agencies import active_spans
from gateway.proxy import target_of
from zhichan.api.problems import Invalid


def entry(status, on, at="2025-01-01T00:00:00"):
    return {"status": status, "on": on, "at": at}


def test_active_spans_open_close_and_reopen():
    history = [
        entry("filed", "2025-01-10"),
        entry("active", "2025-02-01"),
        entry("suspended", "2025-06-01"),
        entry("active", "2025-09-01"),
    ]
    assert active_spans(history) == [(date(2025, 2, 1), date(2025, 6, 1)), (date(2025, 9, 1), None)]


def test_a_same_day_suspension_leaves_no_span():
    history = [
        entry("filed", "2025-01-10"),
        entry("active", "2025-02-01", "2025-02-01T01:00:00"),
        entry("suspended", "2025-02-01", "2025-02-01T02:00:00"),
    ]
    assert active_spans(history) == []


def test_never_approved_means_never_active():
    assert active_spans([entry("filed", "2025-01-10"), entry("deregistered", "2025-03-01")]) == []


def test_filters_are_parsed_and_checked():
    metric = METRICS["agencies.active_agencies"]
    assert parse_filters(metric, {"offline": ["true"], "service_type": ["legal,finance"]}) == {
        "offline": True,
        "service_type": ["legal", "finance"],
    }
    with pytest.raises(Invalid) as refused:
        parse_filters(metric, {"colour": ["red"], "offline": ["maybe"], "brand_level": ["galactic"]})
    assert [e["loc"] for e in refused.value.errors] == [["colour"], ["offline"], ["brand_level"]]


@pytest.mark.parametrize(
    "path, target",
    [
        ("agencies", ("agencies", "agencies")),
        ("agencies/01X/approve", ("agencies", "agencies/01X/approve")),
        ("plans/zj/export", ("targets", "plans/zj/export")),
        ("cases/stats", ("enforcement", "cases/stats")),
        ("insurance-policies", ("financing", "insurance-policies")),
        ("disclosure/cases", ("enforcement", "disclosure/cases")),
        ("disclosure/credit", ("agencies", "disclosure/credit")),
        ("meta/agencies/asyncapi.json", ("agencies", "asyncapi.json")),
        ("meta/targets/enums", ("targets", "meta/enums")),
        ("nothing", None),
        ("disclosure", None),
        ("meta/agencies/secrets", None),
    ],
)
def test_each_resource_goes_to_its_owner(path, target):
    assert target_of(path) == target


def test_merge_prefixes_paths_and_keeps_clashing_schemas_apart():
    own = {"openapi": "3.1.0", "paths": {"/api/progress/x": {}}, "components": {"schemas": {"Problem": {"a": 1}}}}
    svc = {
        "paths": {
            "/agencies": {"get": {"responses": {"200": {"$ref": "#/components/schemas/Problem"}}}},
            "/healthz": {},
        },
        "components": {"schemas": {"Problem": {"b": 2}}},
    }
    merged = merge_openapi(own, {"agencies": svc})
    assert set(merged["paths"]) == {"/api/progress/x", "/api/agencies"}
    assert merged["components"]["schemas"]["Problem"] == {"a": 1}
    assert merged["components"]["schemas"]["AgenciesProblem"] == {"b": 2}
    ref = merged["paths"]["/api/agencies"]["get"]["responses"]["200"]["$ref"]
    assert ref == "#/components/schemas/AgenciesProblem"
