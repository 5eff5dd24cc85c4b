"""Plan files as bytes: YAML, JSON and the workbook, exact both ways."""

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from services.targets import plan_document, planfile
from services.targets.plan_document import PlanInvalid
from services.targets.tests.unit.test_plan_document import plan_file
from zhichan.regions import RegionRegistry


@pytest.fixture(scope="module")
def regions() -> RegionRegistry:
    known = RegionRegistry()
    known.add("321100-ETDZ", "镇江经济技术开发区", "zone", "321100")
    return known


@pytest.fixture(scope="module")
def plan(regions) -> plan_document.PlanDocument:
    document = plan_file()
    document["indicators"][0]["baseline"] = {"year": 2023, "value": "2.81"}
    document["indicators"][1]["source"] = {"metric": "financing.pledge_amount", "filters": {"kind": ["mixed"]}}
    document["tasks"][0]["notes"] = '=HYPERLINK("http://evil")'  # text, never a formula
    return plan_document.read_plan(document, regions)


def read_back(raw: bytes, fmt: str, regions) -> plan_document.PlanDocument:
    decoded = planfile.decode(raw, fmt)
    return plan_document.read_plan(decoded.data, regions, decoded.problems)


@pytest.mark.parametrize("fmt", ["yaml", "json", "xlsx"])
def test_each_format_gives_the_same_plan_back(plan, regions, fmt):
    assert read_back(planfile.encode(plan_document.plan_data(plan), fmt), fmt, regions) == plan


def test_yaml_to_json_to_xlsx_to_yaml(plan, regions):
    current = plan
    for fmt in ("yaml", "json", "xlsx", "yaml"):
        current = read_back(planfile.encode(plan_document.plan_data(current), fmt), fmt, regions)
    assert current == plan


def test_yaml_decimals_are_exact():
    assert planfile.decode(b"a: 0.1\nb: 1_000.25\nc: 7", "yaml").data == {
        "a": Decimal("0.1"),
        "b": Decimal("1000.25"),
        "c": 7,
    }
    assert planfile.decode(b'{"a": 0.1}', "json").data == {"a": Decimal("0.1")}


@pytest.mark.parametrize(
    "text, reason",
    [
        (b"a: &x [1]\nb: *x\n", "aliases"),
        (b"a: 1\na: 2\n", "given twice"),
        (b"a: [1\n", "not YAML"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_yaml_that_is_refused(text, reason):
    with pytest.raises(PlanInvalid) as caught:
        planfile.decode(text, "yaml")
    assert reason in caught.value.problems[0].msg


def test_exported_yaml_reads_like_the_format(plan):
    text = planfile.encode(plan_document.plan_data(plan), "yaml").decode()
    assert "code: 321100-ETDZ" in text and "parent: '321100'" in text and "start: 2024-01-01" in text
    assert "value: 2.81" in text and "2024: 750" in text


def test_workbook_sheets_and_text_cells(plan):
    workbook = load_workbook(io.BytesIO(planfile.encode(plan_document.plan_data(plan), "xlsx")))
    assert workbook.sheetnames == ["plan", "indicators", "milestones", "tasks"]
    tasks = workbook["tasks"]
    assert tasks.cell(2, planfile.TASK_COLUMNS.index("notes") + 1).data_type == "s"
    milestones = [c.value for c in workbook["milestones"][1]]
    assert milestones == ["indicator", 2024, 2025, 2026]


def _workbook(plan, edit) -> bytes:
    workbook = load_workbook(io.BytesIO(planfile.encode(plan_document.plan_data(plan), "xlsx")))
    edit(workbook)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _problems(raw: bytes, regions) -> dict[str, str]:
    with pytest.raises(PlanInvalid) as caught:
        decoded = planfile.decode(raw, "xlsx")
        try:
            plan_document.read_plan(decoded.data, regions, decoded.problems)
        except PlanInvalid as exc:
            raise PlanInvalid(decoded.located(exc.problems)) from None
    return {plan_document.path_text(p.path): p.msg for p in caught.value.problems}


def test_a_missing_sheet_is_named(plan, regions):
    found = _problems(_workbook(plan, lambda wb: wb.remove(wb["milestones"])), regions)
    assert found == {"workbook.milestones": "the workbook has no sheet 'milestones'"}


def test_a_missing_column_is_named(plan, regions):
    found = _problems(_workbook(plan, lambda wb: wb["indicators"].delete_cols(4)), regions)
    assert found == {"workbook.indicators.unit": "sheet 'indicators' has no column 'unit'"}


def test_an_unknown_column_is_named(plan, regions):
    def add(wb):
        wb["tasks"].cell(1, 20).value = "budget"

    assert "workbook.tasks.budget" in _problems(_workbook(plan, add), regions)


def test_cell_problems_say_sheet_and_row(plan, regions):
    def edit(wb):
        wb["indicators"].cell(3, planfile.INDICATOR_COLUMNS.index("unit") + 1).value = "吨"  # pledges: 元 are not 吨
        wb["milestones"].cell(2, 3).value = 100  # 2025 below 2024's 750

    found = _problems(_workbook(plan, edit), regions)
    assert found["indicators[1].source"].endswith("(sheet 'indicators', row 3)")
    assert found["indicators[0].milestones.2025"].endswith("(sheet 'milestones', row 2)")


def test_milestone_column_outside_the_period(plan, regions):
    def edit(wb):
        wb["milestones"].cell(1, 5).value = 2027
        wb["milestones"].cell(2, 5).value = 900

    assert "indicators[0].milestones.2027" in _problems(_workbook(plan, edit), regions)


def test_milestones_of_an_unknown_indicator(plan, regions):
    def edit(wb):
        wb["milestones"].append(["ghost", 1, 2, 3])

    assert "workbook.milestones[3]" in _problems(_workbook(plan, edit), regions)


def test_filters_are_json(plan, regions):
    def edit(wb):
        wb["indicators"].cell(3, planfile.INDICATOR_COLUMNS.index("filters") + 1).value = "kind=mixed"

    assert "indicators[1].source.filters" in _problems(_workbook(plan, edit), regions)


def test_dates_and_numbers_typed_by_hand(plan, regions):
    def edit(wb):
        sheet = wb["plan"]
        sheet.cell(2, planfile.PLAN_COLUMNS.index("start") + 1).value = "2024-01-01"
        sheet.cell(2, planfile.PLAN_COLUMNS.index("region_parent") + 1).value = 321100

    doc = read_back(_workbook(plan, edit), "xlsx", regions)
    assert doc.start == date(2024, 1, 1) and doc.region.parent == "321100"


def test_not_a_workbook():
    with pytest.raises(PlanInvalid) as caught:
        planfile.decode(b"PK not really", "xlsx")
    assert "not an Excel workbook" in caught.value.problems[0].msg


def test_a_workbook_that_inflates_too_much_is_refused(plan, monkeypatch):
    monkeypatch.setattr(planfile, "MAX_UNZIPPED_BYTES", 1000)
    with pytest.raises(PlanInvalid) as caught:
        planfile.decode(planfile.encode(plan_document.plan_data(plan), "xlsx"), "xlsx")
    assert "inflates" in caught.value.problems[0].msg


@pytest.mark.parametrize(
    "content_type, filename, fmt",
    [
        ("application/yaml", None, "yaml"),
        ("text/yaml; charset=utf-8", None, "yaml"),
        ("application/json", None, "json"),
        (planfile.XLSX_TYPE, None, "xlsx"),
        ("application/octet-stream", "plan.YML", "yaml"),
        (None, "plan.xlsx", "xlsx"),
        ("text/plain", "plan.txt", None),
    ],
)
def test_format_of(content_type, filename, fmt):
    assert planfile.format_of(content_type, filename) == fmt


# --- ranges and the trajectory -------------------------------------------------------------------


@pytest.fixture(scope="module")
def ranged(regions) -> plan_document.PlanDocument:
    """The plan with a ranged target and milestone (每年 1—2 场) and a compound trajectory."""
    document = plan_file()
    document["indicators"][0].update(
        trajectory="compound", baseline={"year": 2023, "value": 700}, milestones={2024: 750, 2025: 800}
    )
    document["indicators"][1].update(
        unit="场",
        measure="annual",
        source={"metric": "financing.matchmaking_events"},
        target={"min": 1, "max": 2},
        milestones={2024: {"min": "1.5", "max": 2}, 2025: 3, 2026: {"min": 1, "max": 2}},
    )
    return plan_document.read_plan(document, regions)


@pytest.mark.parametrize("fmt", ["yaml", "json", "xlsx"])
def test_ranges_and_trajectory_come_back_from_each_format(ranged, regions, fmt):
    back = read_back(planfile.encode(plan_document.plan_data(ranged), fmt), fmt, regions)
    assert back == ranged
    assert back.indicators[1].target_max == 2 and back.indicators[1].milestone_maxima == {2024: 2, 2026: 2}
    assert back.indicators[0].trajectory == "compound"


def test_ranges_through_yaml_json_xlsx_yaml(ranged, regions):
    current = ranged
    for fmt in ("yaml", "json", "xlsx", "yaml"):
        current = read_back(planfile.encode(plan_document.plan_data(current), fmt), fmt, regions)
    assert current == ranged


def test_ranges_read_like_the_format(ranged, plan):
    text = planfile.encode(plan_document.plan_data(ranged), "yaml").decode()
    assert "target: {min: 1, max: 2}" in text and "2024: {min: 1.5, max: 2}" in text and "trajectory: compound" in text
    assert "trajectory" not in planfile.encode(plan_document.plan_data(plan), "yaml").decode()  # linear: as before
    as_json = json.loads(planfile.encode(plan_document.plan_data(ranged), "json"))
    assert as_json["indicators"][1]["milestones"] == {
        "2024": {"min": 1.5, "max": 2},
        "2025": 3,
        "2026": {"min": 1, "max": 2},
    }


def test_a_range_is_a_text_cell_with_a_dash(ranged):
    workbook = load_workbook(io.BytesIO(planfile.encode(plan_document.plan_data(ranged), "xlsx")))
    indicators = workbook["indicators"]
    target = indicators.cell(3, planfile.INDICATOR_COLUMNS.index("target") + 1)
    assert (target.value, target.data_type) == ("1—2", "s")
    assert indicators.cell(2, planfile.INDICATOR_COLUMNS.index("trajectory") + 1).value == "compound"
    assert indicators.cell(3, planfile.INDICATOR_COLUMNS.index("trajectory") + 1).value is None
    assert [c.value for c in workbook["milestones"][3]] == ["pledges", "1.5—2", 3, "1—2"]


@pytest.mark.parametrize("text", ["1—2", "1-2", "1–2", "1~2", "1～2", " 1 — 2 "])
def test_ranges_typed_by_hand(plan, regions, text):
    def edit(wb):
        wb["indicators"].cell(3, planfile.INDICATOR_COLUMNS.index("target") + 1).value = text
        wb["milestones"].cell(2, 2).value = "700-750"

    doc = read_back(_workbook(plan, edit), "xlsx", regions)
    assert (doc.indicators[1].target, doc.indicators[1].target_max) == (1, 2)
    assert doc.indicators[0].milestones[2024] == 700 and doc.indicators[0].milestone_maxima == {2024: 750}


def test_a_range_in_a_cell_follows_the_rules(plan, regions):
    def edit(wb):
        wb["indicators"].cell(3, planfile.INDICATOR_COLUMNS.index("target") + 1).value = "6—5"
        wb["indicators"].cell(3, planfile.INDICATOR_COLUMNS.index("trajectory") + 1).value = "steep"

    found = _problems(_workbook(plan, edit), regions)
    assert found["indicators[1].target"] == "the range's minimum 6 is above its maximum 5 (sheet 'indicators', row 3)"
    assert found["indicators[1].trajectory"].startswith("'steep' is not one of linear, compound")


def test_a_workbook_of_an_older_template_has_no_trajectory_column(ranged, regions):
    def drop(wb):
        wb["indicators"].delete_cols(planfile.INDICATOR_COLUMNS.index("trajectory") + 1)

    doc = read_back(_workbook(ranged, drop), "xlsx", regions)
    assert [i.trajectory for i in doc.indicators] == ["linear", "linear"]
    assert doc.indicators[1].target_max == 2  # the rest reads as before


def _nested(depth: int) -> str:
    """``{"indicators": [{"filters": {"x": [[…]]}}]}`` with ``depth`` containers in all."""
    return '{"indicators": [{"filters": {"x": ' + "[" * (depth - 4) + "]" * (depth - 4) + "}}]}"


def _refusal(raw: bytes, fmt: str) -> dict[str, str]:
    with pytest.raises(PlanInvalid) as caught:
        planfile.decode(raw, fmt)
    return {plan_document.path_text(p.path): p.msg for p in caught.value.problems}


@pytest.mark.parametrize("fmt", ["json", "yaml"])  # JSON is YAML too
@pytest.mark.parametrize("depth", [planfile.MAX_DEPTH + 1, 100_000])
def test_a_file_nested_deeper_than_a_plan_is_refused_naming_where(fmt, depth):
    """A deeply nested file ended in RecursionError, a 500; it is a problem at the path where the
    nesting goes too deep."""
    found = _refusal(_nested(depth).encode(), fmt)
    where = "indicators[0].filters.x" + "[0]" * (planfile.MAX_DEPTH - 4)
    assert found == {where: f"nested more than {planfile.MAX_DEPTH} levels deep"}


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_nesting_up_to_the_limit_is_read(fmt):
    assert planfile.decode(_nested(planfile.MAX_DEPTH).encode(), fmt).data["indicators"][0]["filters"]["x"]


def test_block_yaml_nested_too_deeply_is_refused():
    text = "plan:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(200)) + "  " * 201 + "v\n"
    found = _refusal(text.encode(), "yaml")
    assert list(found) == [".".join(["plan", *(f"k{i}" for i in range(planfile.MAX_DEPTH - 1))])]


def test_json_strings_with_brackets_do_not_count_as_nesting():
    text = json.dumps({"a": "[" * 1000 + '\\"{' * 1000, "b": [["]"]]})
    assert planfile.decode(text.encode(), "json").data["b"] == [["]"]]


def test_workbook_filters_nested_too_deeply_are_a_problem_of_their_cell(plan, regions):
    def edit(wb):
        column = planfile.INDICATOR_COLUMNS.index("filters") + 1
        wb["indicators"].cell(3, column).value = '{"kind": ' + "[" * 5000 + "]" * 5000 + "}"

    found = _problems(_workbook(plan, edit), regions)
    assert any(path.startswith("indicators[1].source.filters") and "levels deep" in msg for path, msg in found.items())


@pytest.fixture(scope="module")
def derived(regions) -> plan_document.PlanDocument:
    document = plan_file()
    population = {"metric": "statistics.resident_population"}
    document["indicators"] += [
        {
            "key": "per-10k",
            "name": "每万人口高价值发明专利拥有量",
            "category": "creation",
            "unit": "件/万人",
            "measure": "stock",
            "target": 10,
            "source": {
                "ratio": {
                    "numerator": {"metric": "statistics.valid_high_value_invention_patents"},
                    "denominator": population,
                    "per": 10000,
                }
            },
        },
        {
            "key": "trademarks-growth",
            "name": "有效注册商标量年均增长",
            "category": "creation",
            "unit": "%",
            "measure": "rate",
            "target": 8,
            "source": {"growth": {"metric": "statistics.valid_trademarks"}, "over": "year"},
        },
        {
            "key": "pledges-since-2020",
            "name": "质押融资累计金额(上线前已达)",
            "category": "utilization",
            "unit": "亿元",
            "measure": "cumulative",
            "target": 5,
            "source": {"metric": "financing.pledge_amount", "opening": {"as_of": "2024-06-30", "value": "2.3"}},
        },
    ]
    return plan_document.read_plan(document, regions)


@pytest.mark.parametrize("fmt", ["yaml", "json", "xlsx"])
def test_derived_sources_come_back_from_each_format(derived, regions, fmt):
    assert read_back(planfile.encode(plan_document.plan_data(derived), fmt), fmt, regions) == derived


def test_a_derived_source_is_json_in_its_cell(derived):
    sheet = load_workbook(io.BytesIO(planfile.encode(plan_document.plan_data(derived), "xlsx")))["indicators"]
    column = planfile.INDICATOR_COLUMNS.index("source") + 1
    cells = {sheet.cell(row, 1).value: sheet.cell(row, column).value for row in range(2, sheet.max_row + 1)}
    assert cells["pledges"] == "financing.pledge_amount"
    assert json.loads(cells["trademarks-growth"]) == {
        "growth": {"metric": "statistics.valid_trademarks"},
        "over": "year",
    }
    opening = json.loads(cells["pledges-since-2020"], parse_float=Decimal)["opening"]
    assert opening == {"as_of": "2024-06-30", "value": Decimal("2.3")}


def test_a_derived_source_that_is_not_json_is_a_problem_of_its_cell(plan, regions):
    def edit(wb):
        wb["indicators"].cell(3, planfile.INDICATOR_COLUMNS.index("source") + 1).value = "{growth: valid_trademarks"

    assert "as JSON" in _problems(_workbook(plan, edit), regions)["indicators[1].source"]


@pytest.mark.parametrize("fmt", ["yaml", "json", "xlsx"])
def test_the_reporting_block_comes_back_from_each_format(regions, fmt):
    document = plan_file(reporting={"period": "quarterly", "due_days": 10, "review": "required"})
    reporting = plan_document.read_plan(document, regions)
    back = read_back(planfile.encode(plan_document.plan_data(reporting), fmt), fmt, regions)
    assert back == reporting and back.reporting == plan_document.ReportingSpec("quarterly", 10, "required")


@pytest.mark.parametrize(
    "reporting, where",
    [
        ({"period": "weekly", "due_days": 10}, "reporting.period"),
        ({"due_days": 10}, "reporting.period"),
        ({"period": "monthly"}, "reporting.due_days"),
        ({"period": "monthly", "due_days": 2.5}, "reporting.due_days"),
        ({"period": "monthly", "due_days": 400}, "reporting.due_days"),
        ({"period": "monthly", "due_days": True}, "reporting.due_days"),
        ({"period": "monthly", "due_days": 10, "review": "sometimes"}, "reporting.review"),
        ({"period": "monthly", "due_days": 10, "reviewer": "x"}, "reporting.reviewer"),
        ("monthly", "reporting"),
    ],
)
def test_a_bad_reporting_block_is_named(regions, reporting, where):
    with pytest.raises(PlanInvalid) as caught:
        plan_document.read_plan(plan_file(reporting=reporting), regions)
    assert where in {plan_document.path_text(p.path) for p in caught.value.problems}


@pytest.mark.parametrize("fmt", ["yaml", "json", "xlsx"])
def test_a_reporting_start_comes_back_from_each_format(regions, fmt):
    document = plan_file(reporting={"period": "quarterly", "due_days": 10, "review": "required", "start": "2025-07-01"})
    doc = plan_document.read_plan(document, regions)
    assert doc.reporting == plan_document.ReportingSpec("quarterly", 10, "required", date(2025, 7, 1))
    assert read_back(planfile.encode(plan_document.plan_data(doc), fmt), fmt, regions) == doc


@pytest.mark.parametrize("start", ["2020-01-01", "next quarter"])
def test_a_reporting_start_outside_the_plan_or_not_a_date_is_named(regions, start):
    with pytest.raises(PlanInvalid) as caught:
        plan_document.read_plan(plan_file(reporting={"period": "monthly", "due_days": 10, "start": start}), regions)
    assert "reporting.start" in {plan_document.path_text(p.path) for p in caught.value.problems}


def test_reporting_defaults_to_no_review(regions):
    doc = plan_document.read_plan(plan_file(reporting={"period": "yearly", "due_days": 0}), regions)
    assert doc.reporting == plan_document.ReportingSpec("yearly", 0, "none")
    assert plan_document.read_plan(plan_file(), regions).reporting is None
