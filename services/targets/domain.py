"""Targets rules, free of I/O: the vocabularies of plans, indicators and tasks, the plan and task
state machines, the rules a progress report must meet, how a figure is read (exactly), and what
makes an official statistic's release new, a revision (数据修订) or the same again.

A plan file is read into a checked plan by :mod:`services.targets.plan_document`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from zhichan.metrics_catalogue import UNITS, UnitMismatch, convert_unit
from zhichan.regions import LEVEL_LABELS
from zhichan.rounds import Round, opened_rounds
from zhichan.statistics_catalogue import Period
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
STATISTIC_KINDS = Vocabulary({"stock": "存量(期末水平)", "flow": "流量(期内累计)"})
PERIOD_KINDS = Vocabulary({"month": "月度", "quarter": "季度", "year": "年度"})
# Reporting rounds (填报): how often the responsible departments report, whether an officer reviews
# what they report before it counts, and where a submission stands.
REPORTING_PERIODS = Vocabulary({"monthly": "月报", "quarterly": "季报", "half_yearly": "半年报", "yearly": "年报"})
REVIEW_MODES = Vocabulary({"none": "报送即生效", "required": "审核后生效"})
REPORT_REVIEWS = Vocabulary(
    {"not_required": "无需审核", "pending": "待审核", "approved": "已通过", "returned": "已退回"}
)
SUBMISSION_STATUSES = Vocabulary({"submitted": "已报送", "approved": "已通过", "returned": "已退回"})
TIMELINESS = Vocabulary({"on_time": "按时报送", "late": "逾期报送", "missing": "未报送", "open": "报送期内"})

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


# --- reporting rounds ----------------------------------------------------------------------------

MAX_DUE_DAYS = 366


class RoundError(ValueError):
    pass


def find_round(
    label: str, period: str, due_days: int, plan_start: date, plan_end: date, today: date, first: date | None = None
) -> Round:
    """The opened round with this label (RoundError when there is none)."""
    for found in opened_rounds(period, due_days, plan_start, plan_end, today, first):
        if found.label == label:
            return found
    since = f", from the round holding {first} (the reporting's start)" if first else ""
    raise RoundError(
        f"no {REPORTING_PERIODS[period]} round {label} open in this plan: a round opens the day after its "
        f"period ends, within the plan period {plan_start}..{plan_end}{since}"
    )


def timeliness(submitted_on: date | None, due: date, today: date) -> str:
    """A round's report by a department: on time (first submitted by the due day), late, missing
    (not submitted and the due day has passed) or open (not submitted, still time)."""
    if submitted_on is not None:
        return "on_time" if submitted_on <= due else "late"
    return "missing" if today > due else "open"


# What may happen to a submission, from each status: an officer approves or returns (with a reason)
# what is submitted; the department resubmits what was returned, or, where the plan wants no review,
# corrects what it submitted.
SUBMISSION_ACTIONS = {"approve": ("submitted", "approved"), "return": ("submitted", "returned")}


def next_submission_status(action: str, status: str, review_required: bool, reason: str | None = None) -> str:
    if action == "resubmit":
        if status == "returned" or (status == "submitted" and not review_required):
            return "submitted"
        raise TransitionNotAllowed("submission", status, "submitted")
    if not review_required:
        raise TransitionNotAllowed("submission of a plan without review", status, SUBMISSION_ACTIONS[action][1])
    allowed_from, target = SUBMISSION_ACTIONS[action]
    if status != allowed_from:
        raise TransitionNotAllowed("submission", status, target)
    if action == "return" and not (reason and reason.strip()):
        raise ReasonRequired("say why the submission is returned (reason)")
    return target


def review_of_submitted(review_required: bool) -> str:
    """The review status of a report made in a round: pending where the plan wants review."""
    return "pending" if review_required else "not_required"


# --- statistic releases --------------------------------------------------------------------------

# A released figure's digits before and after the point: 26 in all are exact through a unit's
# conversion (28 significant digits of Decimal arithmetic), and converted (元 ↔ 亿元 moves the point 8
# places) the figure still fits the column's 40 characters.
MAX_WHOLE_DIGITS, MAX_DECIMALS = 20, 6


class ReleaseRefused(ValueError):
    pass


def release_figure(value: Any) -> Decimal:
    """A released figure: a decimal, 0 or more."""
    number = parse_number(value)
    if number < 0:
        raise ReleaseRefused(f"{value} is negative; a released figure is 0 or more")
    if number.adjusted() >= MAX_WHOLE_DIGITS or _decimal_places(number) > MAX_DECIMALS:
        raise ReleaseRefused(f"{value}: at most {MAX_WHOLE_DIGITS} digits before the point and {MAX_DECIMALS} after")
    return plain(number)


def _decimal_places(number: Decimal) -> int:
    """Its digits after the point, trailing zeros aside; counted, not normalised (normalize()
    rounds to the context's 28 digits, and overflows on 1e999999999)."""
    _sign, digits, exponent = number.as_tuple()
    written = "".join(map(str, digits))
    significant = written.rstrip("0")
    return max(0, -(exponent + len(written) - len(significant))) if significant else 0


def in_statistic_unit(value: Decimal, unit: str | None, statistic_unit: str) -> Decimal:
    """A figure given in ``unit`` (the statistic's when None) in the statistic's unit, converted
    within its family (人 → 万人)."""
    try:
        return plain(convert_unit(value, unit or statistic_unit, statistic_unit))
    except UnitMismatch as exc:
        raise ReleaseRefused(f"{exc}: the statistic is counted in {statistic_unit}") from None


def plain(number: Decimal) -> Decimal:
    """The shortest exact form, without an exponent: 1234 (not 1.234E+3), 1 (not 1.00000000)."""
    shortest = number.normalize()
    return shortest.quantize(Decimal(1)) if shortest.as_tuple().exponent > 0 else shortest


def check_publication(published_on: date, period: Period, today: date) -> None:
    """A figure is published once its period has begun (a month's flash estimate comes before the
    month ends), and not in the future."""
    if published_on < period.start:
        raise ReleaseRefused(f"published on {published_on}, before the period {period.label} began")
    if published_on > today:
        raise ReleaseRefused(f"published on {published_on}, a day still to come")


@dataclass(frozen=True)
class Release:
    """What identifies a release within its cell: the day it was published, its figure and source."""

    published_on: date
    value: Decimal
    source: str


@dataclass(frozen=True)
class Recorded(Release):
    id: str


def release_outcome(release: Release, recorded: list[Recorded]) -> tuple[str, Recorded | None]:
    """What a release does to its cell, whose releases so far are ``recorded``: ``unchanged`` (the
    same release is recorded: a file imported again), ``created`` (the cell's first) or
    ``revised`` (a later figure: it revises the latest), with the recorded release it matches or
    revises. A cell's releases follow one another in publication order, one a day: a different
    figure of a day recorded, or of a day before the latest, is refused."""
    same_day = next((r for r in recorded if r.published_on == release.published_on), None)
    if same_day is not None:
        if (same_day.value, same_day.source) == (release.value, release.source):
            return "unchanged", same_day
        raise ReleaseRefused(
            f"the release of {release.published_on} is recorded already, as {same_day.value} from "
            f"{same_day.source}; a revision is published on a later day"
        )
    if not recorded:
        return "created", None
    latest = max(recorded, key=lambda r: r.published_on)
    if release.published_on < latest.published_on:
        raise ReleaseRefused(
            f"published on {release.published_on}, before the latest release of this cell "
            f"({latest.published_on}): releases are recorded in publication order"
        )
    return "revised", latest
