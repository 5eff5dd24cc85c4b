"""The plan file's rules, one by one — no I/O."""

import copy
from datetime import date
from decimal import Decimal

import pytest

from services.targets import plan_document
from services.targets.plan_document import PlanInvalid, read_plan
from zhichan.regions import RegionRegistry
from zhichan.statistics_catalogue import BUILT_IN, Statistic


@pytest.fixture(scope="module")
def regions() -> RegionRegistry:
    known = RegionRegistry()
    known.add("321100-ETDZ", "镇江经济技术开发区", "zone", "321100")
    return known


def plan_file(**changes) -> dict:
    """A small valid plan file; ``changes`` replace top-level parts."""
    document = {
        "format": "zhichan.plan/v1",
        "region": {"code": "321100-ETDZ", "name": "镇江经济技术开发区", "level": "zone", "parent": "321100"},
        "plan": {
            "key": "zj-2024",
            "title": "示范园区工作方案",
            "issued_by": "管委会",
            "start": "2024-01-01",
            "end": "2026-12-31",
        },
        "indicators": [
            {
                "key": "patents",
                "name": "高价值发明专利拥有量",
                "category": "creation",
                "unit": "件",
                "measure": "stock",
                "direction": "at_least",
                "nature": "expected",
                "target": 850,
                "milestones": {2024: 750, 2025: 800, 2026: 850},
                "responsible": ["经开区市场监管局"],
                "source": "reported",
            },
            {
                "key": "pledges",
                "name": "质押融资累计金额",
                "category": "utilization",
                "unit": "亿元",
                "measure": "cumulative",
                "target": 5,
                "source": {"metric": "financing.pledge_amount"},
            },
        ],
        "tasks": [{"key": "matchmaking", "title": "质押对接活动", "due": "2026-12-31", "indicators": ["pledges"]}],
    }
    document.update(changes)
    return document


def with_indicator(index: int = 0, **fields) -> dict:
    document = plan_file()
    document["indicators"] = copy.deepcopy(document["indicators"])
    document["indicators"][index].update(fields)
    return document


def problems_of(document: dict, regions: RegionRegistry) -> dict[str, str]:
    with pytest.raises(PlanInvalid) as caught:
        read_plan(document, regions)
    return {plan_document.path_text(p.path): p.msg for p in caught.value.problems}


def test_a_valid_file_reads_with_defaults(regions):
    doc = read_plan(plan_file(), regions)
    pledges = doc.indicators[1]
    assert pledges.direction == "at_least" and pledges.nature == "expected" and pledges.responsible == []
    assert pledges.source == plan_document.MetricSource("financing.pledge_amount", {})
    assert doc.indicators[0].milestones == {2024: Decimal(750), 2025: Decimal(800), 2026: Decimal(850)}
    assert doc.tasks[0].due == date(2026, 12, 31) and doc.start == date(2024, 1, 1)


def test_path_text():
    assert plan_document.path_text(("indicators", 3, "milestones", "2027")) == "indicators[3].milestones.2027"
    assert plan_document.path_text(("plan", "key")) == "plan.key"
    assert plan_document.path_text(()) == ""


def test_every_problem_is_listed_at_once(regions):
    document = with_indicator(0, unit="a unit far too long", milestones={2024: 750, 2027: 900})
    document["plan"] = {**document["plan"], "key": "Bad Key"}
    found = problems_of(document, regions)
    assert set(found) == {"indicators[0].unit", "indicators[0].milestones.2027", "plan.key"}


def test_unknown_fields_are_refused_at_every_level(regions):
    document = with_indicator(0, colour="red")
    document["plan"] = {**document["plan"], "budget": 1}
    document["extra"] = True
    found = problems_of(document, regions)
    assert {"indicators[0].colour", "plan.budget", "extra"} <= set(found)
    assert "unknown field" in found["extra"]


@pytest.mark.parametrize(
    "field, value",
    [
        ("measure", "monthly"),
        ("category", "luck"),
        ("direction", "up"),
        ("nature", "hopeful"),
        ("trajectory", "exponential"),
    ],
)
def test_vocabularies(regions, field, value):
    found = problems_of(with_indicator(0, **{field: value}), regions)
    assert "is not one of" in found[f"indicators[0].{field}"]


def test_milestone_outside_the_period(regions):
    found = problems_of(with_indicator(0, milestones={2023: 700, 2024: 750}), regions)
    assert found == {"indicators[0].milestones.2023": "2023 lies outside the plan period 2024-01-01..2026-12-31"}


def test_milestone_values_are_numbers(regions):
    found = problems_of(with_indicator(0, milestones={2024: "many", 2025: True}), regions)
    assert set(found) == {"indicators[0].milestones.2024", "indicators[0].milestones.2025"}


def test_milestone_keys_are_years(regions):
    found = problems_of(with_indicator(0, milestones={"next year": 1}), regions)
    assert "keyed by year" in found["indicators[0].milestones.next year"]


@pytest.mark.parametrize("measure", ["stock", "cumulative"])
def test_at_least_stock_and_cumulative_milestones_do_not_decrease(regions, measure):
    found = problems_of(with_indicator(0, measure=measure, milestones={2024: 750, 2025: 700, 2026: 850}), regions)
    assert (
        set(found) == {"indicators[0].milestones.2025"} and "lower than 750" in found["indicators[0].milestones.2025"]
    )


@pytest.mark.parametrize(
    "direction, measure", [("at_most", "stock"), ("at_least", "annual"), ("at_least", "annual_average")]
)
def test_other_milestones_may_go_down(regions, direction, measure):
    read_plan(with_indicator(0, direction=direction, measure=measure, milestones={2024: 9, 2025: 3}), regions)


def test_a_rate_is_in_percent(regions):
    found = problems_of(with_indicator(0, measure="rate", unit="件"), regions)
    assert found == {"indicators[0].unit": "a rate is measured in %"}


def test_duplicate_keys(regions):
    document = plan_file()
    document["indicators"] = [*document["indicators"], {**document["indicators"][0]}]
    document["tasks"] = [*document["tasks"], {"key": "matchmaking", "title": "again"}]
    found = problems_of(document, regions)
    assert set(found) == {"indicators[2].key", "tasks[1].key"}
    assert "also indicators[0]" in found["indicators[2].key"]


@pytest.mark.parametrize("key", ["Patents", "patents_2024", "-patents", "专利", ""])
def test_keys_are_lowercase_letters_digits_and_dashes(regions, key):
    assert "indicators[0].key" in problems_of(with_indicator(0, key=key), regions)


def test_unknown_metric_lists_the_metrics(regions):
    found = problems_of(with_indicator(1, source={"metric": "financing.vibes"}), regions)
    assert "financing.pledge_amount" in found["indicators[1].source.metric"]


def test_unknown_filter_and_value_list_the_allowed_ones(regions):
    source = {"metric": "financing.transaction_count", "filters": {"type": ["transfer", "gift"], "colour": "red"}}
    found = problems_of(with_indicator(1, unit="件", source=source), regions)
    assert "allowed: transfer, licence" in found["indicators[1].source.filters.type[1]"]
    assert "its filters: type" in found["indicators[1].source.filters.colour"]


def test_a_boolean_filter_takes_booleans(regions):
    source = {"metric": "agencies.active_agencies", "filters": {"offline": "yes"}}
    found = problems_of(with_indicator(1, unit="家", measure="stock", source=source), regions)
    assert "allowed: true, false" in found["indicators[1].source.filters.offline"]


@pytest.mark.parametrize("unit", ["件", "%", "分"])
def test_money_metric_needs_a_money_unit(regions, unit):
    found = problems_of(with_indicator(1, unit=unit, measure="rate" if unit == "%" else "cumulative"), regions)
    assert "cannot be read as" in found["indicators[1].source"]


@pytest.mark.parametrize("unit", ["元", "万元", "亿元"])
def test_money_metric_reads_in_any_money_unit(regions, unit):
    read_plan(with_indicator(1, unit=unit), regions)


def test_counts_read_as_other_counts(regions):
    source = {"metric": "financing.matchmaking_events"}  # counted in 场
    read_plan(with_indicator(1, unit="次", measure="annual", source=source), regions)


def test_a_rate_metric_needs_a_rate_measure(regions):
    source = {"metric": "enforcement.on_time_closure_rate"}
    found = problems_of(with_indicator(1, unit="%", measure="stock", source=source), regions)
    assert "it can stand for a rate indicator, not a stock one" in found["indicators[1].source"]


@pytest.mark.parametrize("unit", ["期", "处", "所", "名", "批", "座", "篇", "部", "本", "户", "件/万人", "家/万企"])
def test_any_short_unit_is_taken_for_a_reported_indicator(regions, unit):
    assert read_plan(with_indicator(0, unit=unit), regions).indicators[0].unit == unit


def test_a_unit_must_convert_only_where_a_metric_is_read_in_it(regions):
    found = problems_of(with_indicator(1, unit="期", measure="annual"), regions)
    assert found["indicators[1].source"] == "financing.pledge_amount is counted in 元, which cannot be read as 期"
    statistic = {"metric": "statistics.resident_population"}  # 万人: a count of 10,000 人
    read_plan(with_indicator(1, unit="人", measure="stock", source=statistic), regions)
    found = problems_of(with_indicator(1, unit="元", measure="stock", source=statistic), regions)
    assert "counted in 万人, which cannot be read as 元" in found["indicators[1].source"]


def test_a_statistic_is_a_metric_of_its_kind(regions):
    grants = {"metric": "statistics.invention_grants"}  # a flow
    spec = read_plan(with_indicator(1, unit="件", measure="annual", source=grants), regions).indicators[1]
    assert spec.source == plan_document.MetricSource("statistics.invention_grants") and not spec.accepts_reports
    found = problems_of(with_indicator(1, unit="件", measure="stock", source=grants), regions)
    assert "gives a flow" in found["indicators[1].source"]
    found = problems_of(
        with_indicator(1, unit="件", measure="stock", source={"metric": "statistics.rainfall"}), regions
    )
    assert "unknown statistic 'rainfall'" in found["indicators[1].source.metric"]
    with_filters = {"metric": "statistics.valid_trademarks", "filters": {"type": "x"}}
    found = problems_of(with_indicator(1, unit="件", measure="stock", source=with_filters), regions)
    assert "has no filters" in found["indicators[1].source.filters"]


def test_a_statistic_added_to_the_catalogue_is_known_to_the_reader(regions):
    custom = Statistic("service_inventions", "职务发明专利授权量", "件", "flow", True)
    source = {"metric": "statistics.service_inventions"}
    document = with_indicator(1, unit="件", measure="annual", source=source)
    read_plan(document, regions, statistics={**BUILT_IN, custom.code: custom})
    assert "unknown statistic" in problems_of(document, regions)["indicators[1].source.metric"]


PER_10K = {
    "ratio": {
        "numerator": {"metric": "statistics.valid_high_value_invention_patents"},
        "denominator": {"metric": "statistics.resident_population"},
        "per": 10000,
    }
}


def test_a_ratio_of_two_statistics_for_a_per_capita_level(regions):
    spec = read_plan(with_indicator(1, unit="件", measure="stock", source=PER_10K), regions).indicators[1]
    assert spec.source == plan_document.RatioSource(
        plan_document.MetricSource("statistics.valid_high_value_invention_patents"),
        plan_document.MetricSource("statistics.resident_population"),
        Decimal(10000),
    )
    assert not spec.accepts_reports
    found = problems_of(with_indicator(1, unit="件", measure="annual", source=PER_10K), regions)
    assert "can stand for a stock or rate indicator, not a annual one" in found["indicators[1].source"]


def test_a_growth_is_a_rate_and_may_grow_a_ratio(regions):
    growth = {"growth": PER_10K, "over": "year"}  # 每万人口发明专利拥有量年均增长
    spec = read_plan(with_indicator(1, unit="%", measure="rate", source=growth), regions).indicators[1]
    assert spec.source == plan_document.GrowthSource(
        read_plan(with_indicator(1, unit="件", measure="stock", source=PER_10K), regions).indicators[1].source
    )
    found = problems_of(with_indicator(1, unit="件", measure="stock", source=growth), regions)
    assert "can stand for a rate indicator" in found["indicators[1].source"]
    found = problems_of(
        with_indicator(1, unit="%", measure="rate", source={"growth": PER_10K, "over": "month"}), regions
    )
    assert "not one of year" in found["indicators[1].source.over"]


def test_what_a_ratio_reads_is_checked_where_it_is(regions):
    bad = {
        "ratio": {
            "numerator": "reported",
            "denominator": {"metric": "statistics.gdpp"},
            "per": 0,
            "scale": 1,
        }
    }
    found = problems_of(with_indicator(1, unit="%", measure="rate", source=bad), regions)
    assert "computed from metrics and statistics" in found["indicators[1].source.ratio.numerator"]
    assert "unknown statistic 'gdpp'" in found["indicators[1].source.ratio.denominator.metric"]
    assert "a positive number" in found["indicators[1].source.ratio.per"]
    assert "unknown field 'scale'" in found["indicators[1].source.ratio.scale"]


def test_sources_nest_only_so_deep(regions):
    source = {"metric": "statistics.gdp"}
    for _ in range(4):
        source = {"growth": source}
    found = problems_of(with_indicator(1, unit="%", measure="rate", source=source), regions)
    assert any("nest at most" in msg for msg in found.values())


def test_an_opening_balance_is_added_to_a_flow_within_the_plan(regions):
    source = {"metric": "financing.pledge_amount", "opening": {"as_of": "2024-06-30", "value": 2.3}}
    spec = read_plan(with_indicator(1, source=source), regions).indicators[1]
    assert spec.source.opening == plan_document.Opening(date(2024, 6, 30), Decimal("2.3"))
    outside = {**source, "opening": {"as_of": "2023-12-31", "value": 1}}
    assert (
        "outside the plan period"
        in problems_of(with_indicator(1, source=outside), regions)["indicators[1].source.opening.as_of"]
    )
    stock = {"metric": "agencies.active_agencies", "opening": {"as_of": "2024-06-30", "value": 3}}
    found = problems_of(with_indicator(1, unit="家", measure="stock", source=stock), regions)
    assert "not a flow" in found["indicators[1].source.opening"]


@pytest.mark.parametrize(
    "source",
    [
        PER_10K,
        {"growth": {"metric": "statistics.valid_trademarks"}, "over": "year"},
        {"metric": "financing.pledge_amount", "opening": {"as_of": date(2024, 6, 30), "value": Decimal("2.3")}},
    ],
)
def test_a_source_is_written_back_as_it_was_read(regions, source):
    measure = {"ratio": "stock", "growth": "rate"}.get(next(iter(source)), "cumulative")
    unit = {"rate": "%", "stock": "件"}.get(measure, "亿元")
    spec = read_plan(with_indicator(1, unit=unit, measure=measure, source=source), regions).indicators[1]
    written = plan_document.source_data(spec.source)
    assert plan_document.source_from_data(written) == spec.source
    assert read_plan(with_indicator(1, unit=unit, measure=measure, source=written), regions).indicators[1] == spec


def test_baseline(regions):
    read_plan(with_indicator(0, baseline={"year": 2020, "value": 2.81}), regions)
    found = problems_of(with_indicator(0, baseline={"year": 2025, "value": "x", "source": "?"}), regions)
    assert set(found) == {
        "indicators[0].baseline.year",
        "indicators[0].baseline.value",
        "indicators[0].baseline.source",
    }


def test_target_is_a_required_number(regions):
    document = with_indicator(0)
    del document["indicators"][0]["target"]
    assert "required" in problems_of(document, regions)["indicators[0].target"]
    assert "indicators[0].target" in problems_of(with_indicator(0, target="lots"), regions)


def test_responsible_units_split_on_separators(regions):
    doc = read_plan(with_indicator(0, responsible="县市场监管局、县财政局,县市场监管局"), regions)
    assert doc.indicators[0].responsible == ["县市场监管局", "县财政局"]


def test_task_rules(regions):
    document = plan_file(
        tasks=[
            {"key": "a", "title": "t", "indicators": ["nothing"], "due": "2030-01-01"},
            {"key": "b", "due": "soon"},
        ]
    )
    found = problems_of(document, regions)
    assert set(found) == {"tasks[0].indicators[0]", "tasks[0].due", "tasks[1].title", "tasks[1].due"}


def test_plan_dates(regions):
    document = plan_file()
    document["plan"] = {**document["plan"], "start": "2026-01-01", "end": "2024-12-31"}
    assert "before it starts" in problems_of(document, regions)["plan.end"]
    document["plan"] = {**document["plan"], "start": "first of may"}
    assert "plan.start" in problems_of(document, regions)


def test_format_is_required(regions):
    assert "format" in problems_of(plan_file(format="zhichan.plan/v0"), regions)


def test_known_custom_region_is_checked(regions):
    document = plan_file(region={"code": "321100-ETDZ", "name": "别的园区", "level": "county", "parent": "320000"})
    found = problems_of(document, regions)
    assert set(found) == {"region.name", "region.level", "region.parent"}


def test_standard_region_names_may_be_spelt_in_full(regions):
    document = plan_file(region={"code": "350102", "name": "福州市鼓楼区", "level": "district", "parent": "350100"})
    assert read_plan(document, regions).region.code == "350102"
    document["region"] = {**document["region"], "name": "台江区"}
    assert "region.name" in problems_of(document, regions)


def test_new_regions_need_a_known_or_given_parent(regions):
    zone = {"code": "420500-HTZ", "name": "宜昌高新区", "level": "zone", "parent": "420500-NEW"}
    found = problems_of(plan_file(region=zone), regions)
    assert "unknown region 420500-NEW" in found["region.parent"]
    given = [{"code": "420500-NEW", "name": "新区", "level": "zone", "parent": "420500"}]
    doc = read_plan(plan_file(region=zone, regions=given), regions)
    assert [r.code for r in doc.new_regions(regions)] == ["420500-NEW", "420500-HTZ"]


def test_regions_cannot_lie_in_one_another(regions):
    a = {"code": "420500-AA", "name": "甲", "level": "zone", "parent": "420500-BB"}
    b = {"code": "420500-BB", "name": "乙", "level": "zone", "parent": "420500-AA"}
    found = problems_of(plan_file(region=a, regions=[b]), regions)
    assert "lie in one another" in found["region.parent"]


def test_region_codes_have_a_shape(regions):
    found = problems_of(
        plan_file(region={"code": "ETDZ", "name": "园区", "level": "zone", "parent": "321100"}), regions
    )
    assert "region.code" in found


def test_plan_data_reads_back_as_the_same_plan(regions):
    doc = read_plan(with_indicator(0, baseline={"year": 2023, "value": "700.5"}), regions)
    assert read_plan(plan_document.plan_data(doc), regions) == doc


# --- trajectory and ranges ---------------------------------------------------------------------


def test_the_trajectory_is_linear_unless_compound(regions):
    doc = read_plan(with_indicator(0, trajectory="compound"), regions)
    assert [i.trajectory for i in doc.indicators] == ["compound", "linear"]


@pytest.mark.parametrize("value", ["x", "Compound", ["compound"], 1])
def test_another_trajectory_is_refused_like_the_other_choices(regions, value):
    found = problems_of(with_indicator(0, trajectory=value), regions)
    assert found == {"indicators[0].trajectory": f"{value!r} is not one of linear, compound"}


def test_target_and_milestones_may_be_ranges(regions):
    ranged = with_indicator(
        1,
        unit="场",
        measure="annual",
        source="reported",
        target={"min": 1, "max": 2},
        milestones={2024: {"min": 1, "max": 2}, 2025: 3, "2026": {"min": "1.5", "max": 2}},
    )
    spec = read_plan(ranged, regions).indicators[1]
    assert (spec.target, spec.target_max) == (Decimal(1), Decimal(2))
    assert spec.milestones == {2024: Decimal(1), 2025: Decimal(3), 2026: Decimal("1.5")}
    assert spec.milestone_maxima == {2024: Decimal(2), 2026: Decimal(2)}
    plain = read_plan(plan_file(), regions).indicators[1]
    assert (plain.target_max, plain.milestone_maxima, plain.trajectory) == (None, {}, "linear")


def test_a_range_whose_ends_are_equal_is_one_figure(regions):
    spec = read_plan(with_indicator(0, target={"min": 850, "max": 850}), regions).indicators[0]
    assert (spec.target, spec.target_max) == (Decimal(850), None)


def test_a_range_goes_up(regions):
    found = problems_of(with_indicator(0, target={"min": 900, "max": 850}), regions)
    assert found == {"indicators[0].target": "the range's minimum 900 is above its maximum 850"}
    found = problems_of(with_indicator(0, milestones={2024: {"min": 2, "max": 1}}), regions)
    assert found == {"indicators[0].milestones.2024": "the range's minimum 2 is above its maximum 1"}


def test_a_range_has_min_and_max_and_nothing_else(regions):
    bad = {"min": 800, "max": 900, "about": 850}
    found = problems_of(
        with_indicator(0, target=bad, milestones={2024: {"min": "many", "max": 2}, 2025: {"min": 1}}), regions
    )
    assert set(found) == {
        "indicators[0].target.about",
        "indicators[0].milestones.2024.min",
        "indicators[0].milestones.2025.max",
    }
    assert found["indicators[0].target.about"] == "unknown field 'about'; fields here: min, max"
    assert found["indicators[0].milestones.2025.max"] == "required: a range is {min: N, max: N}"


def test_a_range_written_as_text_says_how_to_write_it(regions):
    found = problems_of(with_indicator(0, target="1—2"), regions)
    assert found["indicators[0].target"].endswith("write a range as {min: 1, max: 2}")


def test_a_ceiling_is_not_a_range(regions):
    ranged = with_indicator(
        0, direction="at_most", target={"min": 1, "max": 2}, milestones={2024: {"min": 3, "max": 4}, 2025: 2}
    )
    assert problems_of(ranged, regions) == {
        "indicators[0].target": "a ceiling is one figure; give the range's maximum",
        "indicators[0].milestones.2024": "a ceiling is one figure; give the range's maximum",
    }


def test_milestones_must_not_decrease_by_their_minima(regions):
    rising = {2024: {"min": 750, "max": 900}, 2025: 800, 2026: 850}  # 900 then 800: the minima rise
    read_plan(with_indicator(0, milestones=rising), regions)
    falling = {2024: 750, 2025: {"min": 700, "max": 800}}
    found = problems_of(with_indicator(0, milestones=falling), regions)
    assert found == {
        "indicators[0].milestones.2025": "700 is lower than 750 in 2024: an at-least stock does not decrease"
    }


def test_ranges_and_trajectory_are_written_back_and_read_the_same(regions):
    ranged = with_indicator(
        0,
        trajectory="compound",
        target={"min": 850, "max": 900},
        milestones={2024: {"min": 750, "max": 780}, 2025: 800},
    )
    doc = read_plan(ranged, regions)
    data = plan_document.plan_data(doc)
    patents, pledges = data["indicators"]
    assert patents["target"] == {"min": 850, "max": 900} and patents["trajectory"] == "compound"
    assert patents["milestones"] == {2024: {"min": 750, "max": 780}, 2025: 800}
    assert "trajectory" not in pledges and pledges["target"] == 5  # a linear single figure: as before
    assert read_plan(data, regions) == doc
