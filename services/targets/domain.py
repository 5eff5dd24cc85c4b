"""Targets rules, free of I/O: the vocabularies of plans, indicators and tasks, the plan and task
state machines, the rules a progress report must meet, and how a figure is read (exactly).

A plan file is read into a checked plan by :mod:`services.targets.plan_document`.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from zhichan.metrics_catalogue import UNITS
from zhichan.regions import LEVEL_LABELS
from zhichan.vocabulary import Vocabulary

CATEGORIES = Vocabulary(
    {
        "creation": "创造",
        "utilization": "运用",
        "protection": "保护",
        "management": "管理",
        "service": "服务",
        "talent": "人才",
        "governance": "治理",
    }
)
MEASURES = Vocabulary(
    {
        "stock": "存量(拥有量、总数)",
        "cumulative": "累计",
        "annual": "年度",
        "annual_average": "年均",
        "rate": "比率",
    }
)
DIRECTIONS = Vocabulary({"at_least": "不低于", "at_most": "不高于"})
NATURES = Vocabulary({"expected": "预期性", "binding": "约束性"})
# How the yearly figures between the baseline and the target go where no milestone gives them.
TRAJECTORIES = Vocabulary({"linear": "线性(每年增加相同数量)", "compound": "复合增长(每年增长相同比例)"})
PLAN_STATUSES = Vocabulary({"draft": "草案", "active": "执行中", "closed": "已结束"})
TASK_STATUSES = Vocabulary({"planned": "未开始", "in_progress": "推进中", "done": "已完成", "delayed": "滞后"})
UNIT_LABELS = Vocabulary({unit: unit for unit in UNITS})
REGION_LEVELS = Vocabulary(LEVEL_LABELS)

STANDARD_CODE = re.compile(r"^[0-9]{6}$")  # a GB/T 2260 code; a custom one is zhichan.regions.CUSTOM_CODE


def parse_number(value: Any) -> Decimal:
    """A finite decimal from a number or a numeric string; never a bool. Raises ValueError."""
    if isinstance(value, bool) or value is None:
        raise ValueError("expected a number")
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"expected a number, got {value!r}") from None
    if not number.is_finite():
        raise ValueError("expected a finite number")
    return number


# --- state machines and report rules -------------------------------------------------------------


class TransitionNotAllowed(Exception):
    def __init__(self, what: str, current: str, wanted: str) -> None:
        super().__init__(f"a {what} that is {current} cannot become {wanted}")
        self.current = current
        self.wanted = wanted


PLAN_TRANSITIONS = {"activate": ("draft", "active"), "close": ("active", "closed")}
TASK_TRANSITIONS: dict[str, frozenset[str]] = {
    "planned": frozenset({"in_progress", "delayed"}),
    "in_progress": frozenset({"done", "delayed"}),
    "delayed": frozenset({"in_progress", "done"}),
    "done": frozenset(),
}


def next_plan_status(action: str, status: str) -> str:
    allowed_from, target = PLAN_TRANSITIONS[action]
    if status != allowed_from:
        raise TransitionNotAllowed("plan", status, target)
    return target


class ReasonRequired(ValueError):
    pass


def check_task_transition(current: str, wanted: str, reason: str | None) -> None:
    if wanted not in TASK_TRANSITIONS[current]:
        raise TransitionNotAllowed("task", current, wanted)
    if wanted == "delayed" and not (reason and reason.strip()):
        raise ReasonRequired("say why the task is delayed (reason)")


class ReportDateError(ValueError):
    pass


def check_report_date(as_of: date, start: date, end: date, today: date) -> None:
    """A report describes a day of the plan that has come."""
    if not start <= as_of <= end:
        raise ReportDateError(f"{as_of} lies outside the plan period {start}..{end}")
    if as_of > today:
        raise ReportDateError(f"{as_of} lies in the future")


def may_report(department: str | None, responsible: list[str]) -> bool:
    """A department reports on the indicators it is responsible for."""
    return department is not None and department in responsible
