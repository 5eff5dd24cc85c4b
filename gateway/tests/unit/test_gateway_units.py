from datetime import date

import pytest

from gateway.facts import agency_facts, case_facts, fact, pledge_facts
from gateway.metrics import parse_filters
from gateway.openapi import merge_openapi
from gateway.proxy import resource_path, target_of
from gateway.tests.events import agency_state, case_state, pledge_state
from services.agencies.contracts import StatusChange
from services.financing.contracts import Asset
from zhichan.api.problems import Invalid
from zhichan.metrics_catalogue import CATALOGUE


def entry(status, on, at="2025-01-01T00:00:00"):
    return {"status": status, "on": on, "at": at}


def agency(history):
    """The agencies service's payload of an agency through ``history`` (entries with their own ``at``)."""
    state = agency_state("A1", [(e["status"], e["on"]) for e in history], offline=True, service_types=["legal"])
    state.status_history = [StatusChange(**e) for e in history]
    return state.model_dump(mode="json")


def steps(facts):
    return [(f.day, f.amount) for f in facts]


def test_an_agency_is_active_between_approval_and_suspension_and_again_after_reinstatement():
    history = [
        entry("filed", "2025-01-10"),
        entry("active", "2025-02-01"),
        entry("suspended", "2025-06-01"),
        entry("active", "2025-09-01"),
    ]
    assert steps(agency_facts(agency(history))) == [
        (date(2025, 2, 1), 1),
        (date(2025, 6, 1), -1),
        (date(2025, 9, 1), 1),
    ]


def test_a_same_day_suspension_leaves_no_step():
    history = [
        entry("filed", "2025-01-10"),
        entry("active", "2025-02-01", "2025-02-01T01:00:00"),
        entry("suspended", "2025-02-01", "2025-02-01T02:00:00"),
    ]
    assert agency_facts(agency(history)) == []


def test_never_approved_means_never_active():
    assert agency_facts(agency([entry("filed", "2025-01-10"), entry("deregistered", "2025-03-01")])) == []


def test_agency_dimensions_are_encoded_for_filtering():
    (first,) = agency_facts(agency([entry("active", "2025-02-01")]))
    assert first.dims == (",legal,", "true", "false", "none")


def test_a_closed_overdue_case_steps_in_and_out_of_the_overdue_stock():
    case = case_state(
        "C1",
        "2025-01-02",
        region="321100",
        closed="2025-05-10",
        on_time=False,
        overdue=[("2025-04-02", "2025-05-09")],
        case_type="counterfeit_patent",
    ).model_dump(mode="json")
    by_series = {}
    for f in case_facts(case):
        by_series.setdefault(f.series, []).append((f.day, f.amount))
    assert by_series["enforcement.cases_filed"] == [(date(2025, 1, 2), 1)]
    assert by_series["enforcement.cases_closed"] == [(date(2025, 5, 10), 1)]
    assert "enforcement.cases_closed_on_time" not in by_series
    assert by_series["enforcement.overdue_open_cases"] == [(date(2025, 4, 2), 1), (date(2025, 5, 10), -1)]
    assert by_series["enforcement.open_cases"] == [(date(2025, 1, 2), 1), (date(2025, 5, 10), -1)]


def test_pledge_amounts_are_exact_fen():
    state = pledge_state("P1", "2025-03-01", "12345678.91", region="420500")
    state.assets = [
        Asset(type="trademark", number="12345678", title="某商标"),
        *(Asset(type="patent", number=f"ZL20231000000{n}.1", title="一种装置") for n in range(3)),
    ]
    state.asset_types, state.kind, state.patent_count = ["trademark", "patent"], "mixed", 3
    pledge = state.model_dump(mode="json")
    amount, count, patents = pledge_facts(pledge)
    assert amount.amount == 1234567891 and amount.dims[:2] == (",patent,trademark,", "mixed")
    assert (count.amount, patents.amount) == (1, 3)


def test_unknown_dimensions_are_a_programming_error():
    with pytest.raises(ValueError):
        fact("financing.pledged_patents", "420500", date(2025, 1, 1), 1, kind="mixed")


def test_filters_are_parsed_and_checked():
    metric = CATALOGUE["agencies.active_agencies"]
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


@pytest.mark.parametrize(
    "raw, path",
    [
        (b"/api/cases/01ABC/close", "cases/01ABC/close"),
        (b"/api/plans/zj-2025/indicators/%E4%B8%93%E5%88%A9", "plans/zj-2025/indicators/%E4%B8%93%E5%88%A9"),
        ("/api/plans/专利".encode(), "plans/%E4%B8%93%E5%88%A9"),  # sent unencoded: encoded for the service
        (b"/api/cases/a%3Fb%23c", "cases/a%3Fb%23c"),  # a "?" or "#" in a segment stays in the segment
        (b"/api/cases/a%20b", "cases/a%20b"),
        (b"/api/cases/v1.2", "cases/v1.2"),
    ],
)
def test_a_resource_path_is_forwarded_segment_by_segment(raw, path):
    assert resource_path(raw) == path


@pytest.mark.parametrize(
    "raw",
    [
        b"/api/cases/../metrics",
        b"/api/cases/%2e%2e/metrics",
        b"/api/cases/%2E%2E/metrics",
        b"/api/cases/.%2e/metrics",
        b"/api/cases/%2e/metrics",
        b"/api/cases/./metrics",
        b"/api/cases/..%2fmetrics",
        b"/api/cases/%2e%2e%2Fmetrics",
        b"/api/cases/..%5cmetrics",
        b"/api/cases/01ABC%2fclose",
        b"/api/cases//metrics",
        b"/api/cases/",
        b"/api/%2e%2e/metrics",
        b"/api/meta/agencies/..%2f..%2fmetrics",
        b"/api/cases/%ff",  # not UTF-8
        b"/metrics",
    ],
)
def test_a_path_with_dot_empty_or_slashed_segments_names_no_resource(raw):
    assert resource_path(raw) is None


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
    assert merged["components"]["schemas"]["AgenciesProblem"] == {"b": 2, "title": "AgenciesProblem"}
    ref = merged["paths"]["/api/agencies"]["get"]["responses"]["200"]["$ref"]
    assert ref == "#/components/schemas/AgenciesProblem"
