"""Plan files as bytes: YAML, JSON and the Excel workbook, to and from the plain data that
:func:`services.targets.plan_document.read_plan` checks. No I/O beyond the bytes given.

Numbers stay exact: YAML and JSON decimals are read as ``Decimal``, never through a float.
The workbook has the sheets ``plan``, ``indicators``, ``milestones`` (a column per year) and
``tasks`` (and ``regions`` when the file introduces more regions than its own); a missing sheet
or column is reported by name. A range (``{min: 1, max: 2}``) is a text cell ``1—2``.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent
from yaml.nodes import MappingNode, ScalarNode

from services.targets.domain import CATEGORIES, DIRECTIONS, MEASURES, NATURES, TRAJECTORIES
from services.targets.plan_document import RANGE_DASH, Path, PlanInvalid, PlanProblem, Problems, range_text

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
JSON_TYPES = ("application/json",)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXTENSIONS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".xlsx": "xlsx"}
MEDIA_TYPES = {"yaml": "application/yaml; charset=utf-8", "json": "application/json", "xlsx": XLSX_TYPE}
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024  # a workbook is a zip: refuse one that inflates beyond this
# Lists and mappings one inside another, the document itself counted: a plan needs 6 (a range of a
# milestone of an indicator). A deeper file ended in RecursionError (a 500) in the parser, or would
# be stored and fail to serialise later.
MAX_DEPTH = 20

PLAN_COLUMNS = (
    "format",
    "key",
    "title",
    "issued_by",
    "start",
    "end",
    "region_code",
    "region_name",
    "region_level",
    "region_parent",
)
REGION_COLUMNS = ("code", "name", "level", "parent")
REPORTING_COLUMNS = ("period", "due_days", "review", "start")
INDICATOR_COLUMNS = (
    "key",
    "name",
    "category",
    "unit",
    "measure",
    "direction",
    "nature",
    "baseline_year",
    "baseline_value",
    "target",
    "trajectory",
    "responsible",
    "source",
    "filters",
)
# Columns added to the format later: a workbook made from an older template has none of them.
OPTIONAL_INDICATOR_COLUMNS = ("trajectory",)
TASK_COLUMNS = ("key", "title", "responsible", "due", "indicators", "notes")
MILESTONE_KEY_COLUMN = "indicator"
LIST_SEPARATOR = "、"


def format_of(content_type: str | None, filename: str | None = None) -> str | None:
    """``yaml``, ``json`` or ``xlsx`` from a media type, else from a file name's extension."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media in YAML_TYPES:
        return "yaml"
    if media in JSON_TYPES:
        return "json"
    if media == XLSX_TYPE:
        return "xlsx"
    if filename:
        for ext, fmt in EXTENSIONS.items():
            if filename.lower().endswith(ext):
                return fmt
    return None


@dataclass
class Decoded:
    """A plan file's plain data, the problems found while decoding it (a workbook's cells), and
    for a workbook where each part of the document was read from (path prefix → sheet, row)."""

    data: Any
    problems: Problems = field(default_factory=Problems)
    rows: dict[Path, tuple[str, int]] = field(default_factory=dict)

    def located(self, problems: list[PlanProblem]) -> list[PlanProblem]:
        """The problems, each saying which sheet and row of the workbook it comes from."""
        located = []
        for problem in problems:
            for size in range(len(problem.path), 0, -1):
                where = self.rows.get(problem.path[:size])
                if where is not None:
                    problem = PlanProblem(problem.path, f"{problem.msg} (sheet {where[0]!r}, row {where[1]})")
                    break
            located.append(problem)
        return located


def decode(raw: bytes, fmt: str) -> Decoded:
    """Reads the bytes of a plan file; one that cannot be read at all raises :class:`PlanInvalid`."""
    if fmt == "xlsx":
        return read_workbook(raw)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PlanInvalid([PlanProblem((), f"the file is not UTF-8 text: {exc}")]) from None
    if fmt == "json":
        try:
            return Decoded(load_json(text))
        except json.JSONDecodeError as exc:
            raise PlanInvalid([PlanProblem((), f"not JSON: {exc}")]) from None
    try:
        return Decoded(yaml.load(text, Loader=PlanLoader))  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise PlanInvalid([PlanProblem((), f"not YAML: {exc}")]) from None


def encode(data: dict[str, Any], fmt: str) -> bytes:
    if fmt == "yaml":
        return yaml.dump(data, Dumper=PlanDumper, allow_unicode=True, sort_keys=False, width=1000).encode()
    if fmt == "json":
        return json.dumps(_json_ready(data), ensure_ascii=False, indent=2).encode()
    return write_workbook(data)


# --- YAML ----------------------------------------------------------------------------------------


def too_deep(path: Path) -> PlanInvalid:
    return PlanInvalid([PlanProblem(path, f"nested more than {MAX_DEPTH} levels deep")])


# What nests in JSON text: a string (skipped whole: brackets in it are text), a bracket, a separator.
JSON_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]')


def load_json(text: str, at: Path = ()) -> Any:
    """JSON with exact decimals, refused (:class:`PlanInvalid` at the path where it goes too deep,
    under ``at``) when nested more than MAX_DEPTH levels: the parser recurses once per level."""
    frames: list[list] = []  # per open container: [bracket, index or key, expecting a key]
    for token in JSON_STRUCTURE.finditer(text):
        mark = token.group()
        if mark in "[{":
            if len(frames) == MAX_DEPTH:
                raise too_deep((*at, *(frame[1] for frame in frames)))
            frames.append([mark, 0, True] if mark == "[" else [mark, "", True])
        elif mark in "]}":
            if frames:
                frames.pop()
        elif frames and mark == ",":
            frame = frames[-1]
            frame[1], frame[2] = (frame[1] + 1, frame[2]) if frame[0] == "[" else (frame[1], True)
        elif frames and mark == ":":
            frames[-1][2] = False
        elif frames and frames[-1][0] == "{" and frames[-1][2]:
            frames[-1][1] = json.loads(mark)  # the key the value that follows belongs to
    return json.loads(text, parse_float=Decimal)


class PlanLoader(yaml.SafeLoader):
    """Safe YAML with exact decimals, no anchors/aliases (no billion laughs), no duplicate keys,
    nested at most MAX_DEPTH levels (the composer recurses once per level)."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self.path: list[str | int] = []  # of the node being composed
        self.depth = 0  # lists and mappings open around it

    def compose_node(self, parent, index):
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise ConstructorError(None, None, "aliases (*name) are not allowed in a plan file", event.start_mark)
        # index: an item's position in a list, a value's key node in a mapping (None for a key)
        part = index if isinstance(index, int) else index.value if isinstance(index, ScalarNode) else None
        if parent is not None and part is not None:
            self.path.append(part)
        try:
            if not self.check_event(SequenceStartEvent, MappingStartEvent):
                return super().compose_node(parent, index)
            if self.depth == MAX_DEPTH:
                raise too_deep(tuple(self.path))
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1
        finally:
            if parent is not None and part is not None:
                self.path.pop()

    def construct_mapping(self, node: MappingNode, deep: bool = False):
        seen = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise ConstructorError(None, None, f"the key {key!r} is given twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _yaml_decimal(loader: PlanLoader, node) -> Decimal | float:
    text = loader.construct_scalar(node).replace("_", "").lower()
    if text in (".inf", "+.inf", "-.inf", ".nan"):
        return float(text.replace(".", ""))  # refused later as not finite
    return Decimal(text)


PlanLoader.add_constructor("tag:yaml.org,2002:float", _yaml_decimal)


class PlanDumper(yaml.SafeDumper):
    pass


def _represent_decimal(dumper: PlanDumper, value: Decimal):
    if value == value.to_integral_value():
        return dumper.represent_int(int(value))
    return dumper.represent_scalar("tag:yaml.org,2002:float", format(value.normalize(), "f"))


def _represent_dict(dumper: PlanDumper, value: dict):
    # A range is written on one line, as people write it: target: {min: 1, max: 2}
    flow = list(value) == ["min", "max"]
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=flow or None)


PlanDumper.add_representer(Decimal, _represent_decimal)
PlanDumper.add_representer(dict, _represent_dict)


# --- JSON ----------------------------------------------------------------------------------------


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, Decimal):
        # json has no decimal type; numbers of a plan are short, so the float's repr is exact
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


# --- the workbook --------------------------------------------------------------------------------


def write_workbook(data: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    region = data["region"]
    plan = data["plan"]
    sheet = workbook.active
    sheet.title = "plan"
    _write_rows(
        sheet,
        PLAN_COLUMNS,
        [
            [
                data["format"],
                plan["key"],
                plan["title"],
                plan.get("issued_by"),
                plan["start"],
                plan["end"],
                region["code"],
                region["name"],
                region["level"],
                region.get("parent"),
            ]
        ],
    )
    indicators = data.get("indicators", [])
    sheet = workbook.create_sheet("indicators")
    _write_rows(sheet, INDICATOR_COLUMNS, [_indicator_row(i) for i in indicators])
    choices_of = {
        "category": CATEGORIES,
        "measure": MEASURES,
        "direction": DIRECTIONS,
        "nature": NATURES,
        "trajectory": TRAJECTORIES,
    }
    for column, choices in choices_of.items():
        letter = sheet.cell(1, INDICATOR_COLUMNS.index(column) + 1).column_letter
        check = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
        check.add(f"{letter}2:{letter}1000")
        sheet.add_data_validation(check)
    years = list(range(plan["start"].year, plan["end"].year + 1))
    sheet = workbook.create_sheet("milestones")
    _write_rows(
        sheet,
        (MILESTONE_KEY_COLUMN, *years),
        [[i["key"], *(_figure_cell(i["milestones"].get(y)) for y in years)] for i in indicators if i.get("milestones")],
    )
    sheet = workbook.create_sheet("tasks")
    _write_rows(sheet, TASK_COLUMNS, [_task_row(t) for t in data.get("tasks", [])])
    if data.get("regions"):
        sheet = workbook.create_sheet("regions")
        _write_rows(
            sheet, REGION_COLUMNS, [[r["code"], r["name"], r["level"], r.get("parent")] for r in data["regions"]]
        )
    if data.get("reporting"):
        sheet = workbook.create_sheet("reporting")
        _write_rows(sheet, REPORTING_COLUMNS, [[data["reporting"].get(c) for c in REPORTING_COLUMNS]])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _indicator_row(item: dict[str, Any]) -> list[Any]:
    baseline = item.get("baseline") or {}
    source = item["source"]
    filters = {}
    if isinstance(source, str):
        source_cell = source
    elif set(source) <= {"metric", "filters"}:
        source_cell, filters = source["metric"], source.get("filters", {})
    else:  # a ratio, a growth, an opening balance: the source as JSON in its cell
        source_cell = json.dumps(_json_ready(source), ensure_ascii=False)
    return [
        item["key"],
        item["name"],
        item["category"],
        item["unit"],
        item["measure"],
        item["direction"],
        item["nature"],
        baseline.get("year"),
        baseline.get("value"),
        _figure_cell(item["target"]),
        item.get("trajectory"),
        LIST_SEPARATOR.join(item.get("responsible", [])) or None,
        source_cell,
        json.dumps(filters, ensure_ascii=False) if filters else None,
    ]


def _figure_cell(value: Any) -> Any:
    """A target or milestone in a cell: the number, or a range as text ``1—2``."""
    if isinstance(value, dict):
        return RANGE_DASH.join(_decimal_text(value[end]) for end in ("min", "max"))
    return value


def _decimal_text(value: Any) -> str:
    return format(Decimal(value).normalize(), "f") if isinstance(value, Decimal | int) else str(value)


def _figure_from_cell(value: Any) -> Any:
    """A cell's target or milestone: ``1—2`` (or 1-2, 1–2, 1~2, 1～2) is a range; anything else
    is left for the plan's rules to judge."""
    if isinstance(value, str) and (ends := range_text(value)):
        return {"min": ends[0], "max": ends[1]}
    return value


def _task_row(item: dict[str, Any]) -> list[Any]:
    return [
        item["key"],
        item["title"],
        LIST_SEPARATOR.join(item.get("responsible", [])) or None,
        item.get("due"),
        ", ".join(item.get("indicators", [])) or None,
        item.get("notes"),
    ]


def _write_rows(sheet, header: Iterable[Any], rows: list[list[Any]]) -> None:
    header = list(header)
    sheet.append(header)
    for row in rows:
        sheet.append([None] * len(header))
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(sheet.max_row, column)
            if isinstance(value, str):
                cell.value = value
                cell.data_type = "s"  # text stays text, even when it starts with "=" (no formulas)
            elif isinstance(value, Decimal):
                cell.value = int(value) if value == value.to_integral_value() else float(value)
            else:
                cell.value = value
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    for column, name in enumerate(header, start=1):
        sheet.column_dimensions[sheet.cell(1, column).column_letter].width = 14 if name not in ("name", "title") else 40


class _Sheets:
    """The workbook's sheets as lists of {column: value}, with each data row's number."""

    def __init__(self, workbook, problems: Problems) -> None:
        self.workbook = workbook
        self.problems = problems

    def rows(
        self,
        name: str,
        columns: tuple[str, ...],
        *,
        required: bool = True,
        year_columns: bool = False,
        optional: tuple[str, ...] = (),
    ):
        if name not in self.workbook.sheetnames:
            if required:
                self.problems.add(("workbook", name), f"the workbook has no sheet {name!r}")
            return None
        raw = list(self.workbook[name].iter_rows(values_only=True))
        header = [_cell_text(c) for c in raw[0]] if raw else []
        missing = [c for c in columns if c not in header and c not in optional]
        for column in missing:
            self.problems.add(("workbook", name, column), f"sheet {name!r} has no column {column!r}")
        for column in header:
            if column is None or column in columns or (year_columns and _is_year_text(column)):
                continue
            self.problems.add(("workbook", name, column), f"sheet {name!r} has an unknown column {column!r}")
        if missing:
            return None
        rows = []
        for number, values in enumerate(raw[1:], start=2):
            cells = {h: _cell_value(v) for h, v in zip(header, values, strict=False) if h is not None}
            if any(v is not None for v in cells.values()):
                rows.append((number, cells))
        return rows


def read_workbook(raw: bytes) -> Decoded:
    from openpyxl import load_workbook

    _refuse_zip_bomb(raw)
    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise PlanInvalid([PlanProblem(("workbook",), f"not an Excel workbook (.xlsx): {exc}")]) from None
    problems = Problems()
    sheets = _Sheets(workbook, problems)
    try:
        plan_rows = sheets.rows("plan", PLAN_COLUMNS)
        indicator_rows = sheets.rows("indicators", INDICATOR_COLUMNS, optional=OPTIONAL_INDICATOR_COLUMNS)
        milestone_rows = sheets.rows("milestones", (MILESTONE_KEY_COLUMN,), year_columns=True)
        task_rows = sheets.rows("tasks", TASK_COLUMNS)
        region_rows = sheets.rows("regions", REGION_COLUMNS, required=False)
        reporting_rows = sheets.rows("reporting", REPORTING_COLUMNS, required=False, optional=("start",))
    finally:
        workbook.close()
    if None in (plan_rows, indicator_rows, milestone_rows, task_rows):
        raise PlanInvalid(problems.items)
    if len(plan_rows) != 1:
        problems.add(("workbook", "plan"), f"sheet 'plan' needs exactly one plan row, found {len(plan_rows)}")
        raise PlanInvalid(problems.items)
    plan_row, plan = plan_rows[0]
    data: dict[str, Any] = {
        "format": plan.get("format"),
        "region": _present(
            code=plan.get("region_code"),
            name=plan.get("region_name"),
            level=plan.get("region_level"),
            parent=plan.get("region_parent"),
        ),
        "plan": _present(**{c: plan.get(c) for c in ("key", "title", "issued_by", "start", "end")}),
        "indicators": [
            _indicator_from_row(cells, ("indicators", i), problems) for i, (_n, cells) in enumerate(indicator_rows)
        ],
        "tasks": [_task_from_row(cells) for _n, cells in task_rows],
    }
    if region_rows:
        data["regions"] = [_present(**cells) for _n, cells in region_rows]
    rows: dict[Path, tuple[str, int]] = {("plan",): ("plan", plan_row), ("region",): ("plan", plan_row)}
    if reporting_rows:
        if len(reporting_rows) != 1:
            message = f"sheet 'reporting' holds at most one row, found {len(reporting_rows)}"
            problems.add(("workbook", "reporting"), message)
        data["reporting"] = _present(**reporting_rows[0][1])
        rows[("reporting",)] = ("reporting", reporting_rows[0][0])
    rows.update({("indicators", i): ("indicators", n) for i, (n, _c) in enumerate(indicator_rows)})
    rows.update({("tasks", i): ("tasks", n) for i, (n, _c) in enumerate(task_rows)})
    rows.update({("regions", i): ("regions", n) for i, (n, _c) in enumerate(region_rows or [])})
    milestone_at = _attach_milestones(data["indicators"], milestone_rows, problems)
    rows.update({("indicators", i, "milestones"): ("milestones", n) for i, n in milestone_at.items()})
    return Decoded(data, problems, rows)


def _refuse_zip_bomb(raw: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise PlanInvalid([PlanProblem(("workbook",), "not an Excel workbook (.xlsx): not a zip archive")]) from None
    if inflated > MAX_UNZIPPED_BYTES:
        raise PlanInvalid([PlanProblem(("workbook",), "the workbook inflates beyond 50 MB")])


def _indicator_from_row(cells: dict[str, Any], path: Path, problems: Problems) -> dict[str, Any]:
    plain = ("key", "name", "category", "unit", "measure", "direction", "nature", "trajectory", "responsible")
    item = _present(**{c: cells.get(c) for c in plain}, target=_figure_from_cell(cells.get("target")))
    if cells.get("baseline_year") is not None or cells.get("baseline_value") is not None:
        item["baseline"] = _present(year=cells.get("baseline_year"), value=cells.get("baseline_value"))
    source = cells.get("source") or "reported"
    filters = cells.get("filters")
    if filters is not None:
        try:
            filters = load_json(str(filters), (*path, "source", "filters"))
        except PlanInvalid as exc:
            problems.add(exc.problems[0].path, exc.problems[0].msg)
            filters = None
        except json.JSONDecodeError:
            problems.add((*path, "source", "filters"), 'write filters as JSON, e.g. {"type": ["transfer", "licence"]}')
            filters = None
    if isinstance(source, str) and source.lstrip().startswith("{"):
        try:  # a ratio, a growth or a metric with an opening balance, written as JSON
            item["source"] = load_json(source, (*path, "source"))
        except PlanInvalid as exc:
            problems.add(exc.problems[0].path, exc.problems[0].msg)
        except json.JSONDecodeError:
            problems.add((*path, "source"), 'write a derived source as JSON, e.g. {"growth": {"metric": "…"}}')
        return item
    if source == "reported":
        if filters:
            problems.add((*path, "source", "filters"), "a reported indicator has no filters; name a metric in source")
        item["source"] = "reported"
    else:
        item["source"] = _present(metric=source, filters=filters)
    return item


def _task_from_row(cells: dict[str, Any]) -> dict[str, Any]:
    return _present(**{c: cells.get(c) for c in TASK_COLUMNS})


def _attach_milestones(indicators: list[dict[str, Any]], rows, problems: Problems) -> dict[int, int]:
    """Puts each milestone row into its indicator; returns indicator position → row number."""
    by_key = {item.get("key"): position for position, item in enumerate(indicators)}
    found: dict[int, int] = {}
    for number, cells in rows:
        key = cells.get(MILESTONE_KEY_COLUMN)
        position = by_key.get(key)
        if position is None:
            problems.add(
                ("workbook", "milestones", number), f"row {number}: no indicator {key!r} in sheet 'indicators'"
            )
            continue
        if position in found:
            problems.add(("workbook", "milestones", number), f"row {number}: milestones of {key!r} are given twice")
            continue
        found[position] = number
        indicators[position]["milestones"] = {
            int(column): _figure_from_cell(value)
            for column, value in cells.items()
            if column != MILESTONE_KEY_COLUMN and value is not None
        }
    return found


def _present(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _is_year_text(value: str) -> bool:
    return value.isdigit() and len(value) == 4


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def _cell_value(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, float):
        return Decimal(repr(value))
    return value
