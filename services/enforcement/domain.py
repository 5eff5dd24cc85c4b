"""Enforcement rules, free of I/O: the vocabularies, legal deadlines (办案期限), the case state
machine, the on-time closure rate, the repeat-infringer watch list and the masking of personal
data for public disclosure."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

from zhichan import rates, vocabulary
from zhichan.personal import mask_name as mask_person_name
from zhichan.vocabulary import Vocabulary

# Case types, procedures and origins are filters of the metric catalogue too: they are declared
# in the kernel, where the catalogue can read them, and named here.
CASE_TYPES = vocabulary.CASE_TYPES
PROCEDURES = vocabulary.CASE_PROCEDURES
ORIGINS = vocabulary.CASE_ORIGINS
STATUSES = Vocabulary(
    {
        "filed": "已立案",
        "investigating": "调查中",
        "suspended": "中止",
        "decided": "已作出决定",
        "closed": "已结案",
        "transferred": "已移送",
        "withdrawn": "已撤销",
    }
)
# What a decision may be; a transfer ends a case with the outcome ``transferred`` besides.
DECISION_OUTCOMES = Vocabulary(
    {
        "penalty_decision": "行政处罚决定",
        "adjudication_infringement": "行政裁决(侵权成立)",
        "adjudication_no_infringement": "行政裁决(侵权不成立)",
        "mediation_agreement": "调解协议",
        "dismissed": "不予处罚/驳回/终止",
    }
)
OUTCOMES = Vocabulary({**DECISION_OUTCOMES, "transferred": "移送"})
TRANSFER_TARGETS = Vocabulary(
    {"police": "公安机关", "judiciary": "司法机关", "other_authority": "其他有管辖权的行政机关"}
)
PARTY_KINDS = Vocabulary({"organization": "单位", "natural_person": "自然人"})
PERIOD_UNITS = Vocabulary({"days": "日", "months": "个月"})
ACTION_LABELS = Vocabulary(
    {
        "file": "立案",
        "investigate": "开始调查",
        "extend": "延长办案期限",
        "suspend": "中止",
        "resume": "恢复",
        "decide": "作出决定",
        "close": "结案",
        "transfer": "移送",
        "withdraw": "撤销立案",
    }
)

OPEN_STATUSES = frozenset({"filed", "investigating", "suspended", "decided"})
ENDED_STATUSES = frozenset({"closed", "transferred", "withdrawn"})
# What a procedure may end in: a penalty only in a penalty procedure, and so on.
OUTCOMES_BY_PROCEDURE = {
    "administrative_penalty": frozenset({"penalty_decision", "dismissed"}),
    "administrative_adjudication": frozenset(
        {"adjudication_infringement", "adjudication_no_infringement", "dismissed"}
    ),
    "mediation": frozenset({"mediation_agreement", "dismissed"}),
}
# Decisions that find against the respondent: they count towards the watch list.
AGAINST_RESPONDENT = frozenset({"penalty_decision", "adjudication_infringement"})
# Mediation ends in an agreement between the parties, not an administrative decision, so it is
# not published (行政执法信息公开 covers decisions of penalty and adjudication).
DISCLOSED_PROCEDURES = frozenset({"administrative_penalty", "administrative_adjudication"})

# action → (statuses it may start from, status it leads to; None keeps the status)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "investigate": (frozenset({"filed"}), "investigating"),
    "extend": (frozenset({"filed", "investigating", "suspended"}), None),
    "suspend": (frozenset({"investigating"}), "suspended"),
    "resume": (frozenset({"suspended"}), "investigating"),
    "decide": (frozenset({"investigating"}), "decided"),
    "close": (frozenset({"decided"}), "closed"),
    "transfer": (frozenset({"filed", "investigating", "suspended"}), "transferred"),
    "withdraw": (frozenset({"filed", "investigating", "suspended"}), "withdrawn"),
}

DEFAULT_WATCH_WINDOW_YEARS = 5
WATCH_THRESHOLD = 2
ONE_DAY = timedelta(days=1)


class TransitionNotAllowed(Exception):
    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"cannot {action} a case that is {status}")
        self.action = action
        self.status = status


class StepRefused(Exception):
    """The step is allowed from this status, but not for this case (409)."""


class InvalidStep(ValueError):
    """Something the caller sent does not fit the rules (422); ``loc`` names the field."""

    def __init__(self, loc: str, msg: str) -> None:
        super().__init__(msg)
        self.loc = loc


# ---------------------------------------------------------------- calendar arithmetic


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later; the last day of the month when it has no such day
    (a period in months ends on the corresponding day, 期间届满对应日)."""
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)


def add_period(day: date, amount: int, unit: str) -> date:
    if unit == "days":
        return day + timedelta(days=amount)
    if unit == "months":
        return add_months(day, amount)
    raise ValueError(f"unknown period unit {unit!r}")


def describe_period(amount: int, unit: str) -> str:
    singular = {"days": "day", "months": "month"}[unit]
    return f"{amount} {singular}{'' if amount == 1 else 's'}"


# ---------------------------------------------------------------- rules that change over time

T = TypeVar("T")


@dataclass(frozen=True)
class Versioned(Generic[T]):
    """A setting of one region, in force from a date (None: the national default)."""

    value: T
    region: str | None = None
    effective_from: date | None = None


def in_force(chain: Sequence[Sequence[Versioned[T]]], day: date, default: Versioned[T]) -> Versioned[T]:
    """The setting in force on ``day`` for a region whose own versions come first in ``chain``,
    then its parent's and so on: the nearest region with a version already in force wins; among
    a region's versions the latest effective date wins, and of two on one date the later set."""
    for versions in chain:
        current = [v for v in versions if v.effective_from is not None and v.effective_from <= day]
        if current:
            return sorted(current, key=lambda v: v.effective_from)[-1]
    return default


# ---------------------------------------------------------------- deadlines


@dataclass(frozen=True)
class DeadlineRule:
    procedure: str
    base_amount: int
    base_unit: str
    extension_amount: int
    extension_unit: str

    def describe(self) -> str:
        text = f"{describe_period(self.base_amount, self.base_unit)} from filing"
        if self.extension_amount:
            text += f", extendable once by {describe_period(self.extension_amount, self.extension_unit)}"
        return text


DEFAULT_RULES: dict[str, DeadlineRule] = {
    "administrative_penalty": DeadlineRule("administrative_penalty", 90, "days", 30, "days"),
    "administrative_adjudication": DeadlineRule("administrative_adjudication", 3, "months", 1, "months"),
    "mediation": DeadlineRule("mediation", 30, "days", 0, "days"),
}


@dataclass(frozen=True)
class Extension:
    granted_on: date
    approver: str
    reason: str


@dataclass(frozen=True)
class Suspension:
    start: date
    end: date | None
    reason: str

    def days(self, through: date | None = None) -> int:
        """Days the clock stood still: from the day it stopped to the day it restarted (an open
        suspension, up to ``through``); none of it after ``through``."""
        end = self.end if self.end is not None else through
        if end is None:
            return 0
        if through is not None:
            end = min(end, through)
        return max((end - self.start).days, 0)


@dataclass(frozen=True)
class Decision:
    outcome: str
    decided_on: date
    fine: Decimal = Decimal("0.00")
    confiscation: Decimal = Decimal("0.00")
    illegal_revenue: Decimal = Decimal("0.00")
    decision_number: str | None = None

    @property
    def against_respondent(self) -> bool:
        return self.outcome in AGAINST_RESPONDENT


@dataclass(frozen=True)
class Transfer:
    to: str
    transferred_on: date
    receiving_body: str | None = None


@dataclass(frozen=True)
class CaseFile:
    """A case's lifecycle and its clock. Every step returns a new CaseFile or raises."""

    procedure: str
    filed: date
    rule: DeadlineRule
    rule_source: str = "national default rule"
    status: str = "filed"
    last_step_on: date | None = None
    extension: Extension | None = None
    suspensions: tuple[Suspension, ...] = ()
    decision: Decision | None = None
    transfer: Transfer | None = None
    ended_on: date | None = None
    history: tuple[tuple[str, str, date], ...] = field(default=())  # (action, status after, date)

    # ------------------------------------------------------------ the clock

    @property
    def base_due(self) -> date:
        return add_period(self.filed, self.rule.base_amount, self.rule.base_unit)

    def period_end(self, on: date | None = None) -> date:
        """The deadline before suspensions: the base period, plus the extension once granted
        (counted from the original deadline)."""
        if self.extension is not None and (on is None or self.extension.granted_on <= on):
            return add_period(self.base_due, self.rule.extension_amount, self.rule.extension_unit)
        return self.base_due

    def suspended_days(self, on: date | None = None) -> int:
        """Days suspended up to ``on`` (an open suspension counts through ``on``); without
        ``on``, the suspensions that have ended."""
        return sum(s.days(on) for s in self.suspensions if on is None or s.start <= on)

    @property
    def suspended_since(self) -> date | None:
        open_ones = [s.start for s in self.suspensions if s.end is None]
        return open_ones[-1] if open_ones else None

    @property
    def due_date(self) -> date | None:
        """The deadline with every suspension counted; None while the clock is stopped."""
        if self.suspended_since is not None:
            return None
        return self.period_end() + timedelta(days=self.suspended_days())

    def due_as_of(self, on: date) -> date:
        """The deadline as it stood on ``on``: extensions granted by then, days suspended by then."""
        return self.period_end(on) + timedelta(days=self.suspended_days(on))

    def open_on(self, on: date) -> bool:
        return self.filed <= on and (self.ended_on is None or on < self.ended_on)

    def overdue_on(self, on: date) -> bool:
        """Open on ``on`` and past its deadline as it stood then. A case suspended before its
        deadline is not overdue while suspended; one suspended after it stays overdue."""
        return self.open_on(on) and on > self.due_as_of(on)

    @property
    def closed_on_time(self) -> bool | None:
        if self.ended_on is None:
            return None
        return self.ended_on <= self.due_as_of(self.ended_on)

    def overdue_periods(self) -> list[tuple[date, date | None]]:
        """Every stretch of days on which the case is open and overdue, as far as its record
        tells today; the last one is open-ended while the case is open and nothing stops it.
        Overdue status only changes on a step's date or the day after a deadline, so looking
        at those days is exact."""
        steps = {self.filed, *(on for _, _, on in self.history)}
        steps |= {s.start for s in self.suspensions} | {s.end for s in self.suspensions if s.end is not None}
        if self.extension is not None:
            steps.add(self.extension.granted_on)
        if self.ended_on is not None:
            steps.add(self.ended_on)
        candidates = sorted(steps | {self.due_as_of(day) + ONE_DAY for day in steps})
        periods: list[tuple[date, date | None]] = []
        start: date | None = None
        for day in candidates:
            overdue = self.overdue_on(day)
            if overdue and start is None:
                start = day
            elif not overdue and start is not None:
                periods.append((start, day - ONE_DAY))
                start = None
        if start is not None:
            periods.append((start, None))
        return periods

    @property
    def overdue_since(self) -> date | None:
        """Start of the open-ended overdue stretch (the case is open and will stay overdue)."""
        periods = self.overdue_periods()
        return periods[-1][0] if periods and periods[-1][1] is None else None

    def basis(self) -> str:
        """Why the due date is what it is, in one sentence per ingredient."""
        rule = self.rule
        parts = [
            f"{PROCEDURES[self.procedure]} ({self.procedure}): {describe_period(rule.base_amount, rule.base_unit)}"
            f" from filing on {self.filed.isoformat()} under the {self.rule_source}"
            f" → {self.base_due.isoformat()}."
        ]
        if self.extension is not None:
            parts.append(
                f"Extended by {describe_period(rule.extension_amount, rule.extension_unit)}"
                f" (approved by {self.extension.approver} on {self.extension.granted_on.isoformat()})"
                f" → {self.period_end().isoformat()}."
            )
        elif rule.extension_amount:
            allowed = describe_period(rule.extension_amount, rule.extension_unit)
            parts.append(f"Not extended (the rule allows {allowed}).")
        ended = [s for s in self.suspensions if s.end is not None]
        if ended:
            days = self.suspended_days()
            spans = ", ".join(f"{s.start.isoformat()}–{s.end.isoformat()}" for s in ended)
            parts.append(
                f"{days} day{'' if days == 1 else 's'} suspended ({spans}) do not count"
                f" → {(self.period_end() + timedelta(days=days)).isoformat()}."
            )
        if self.suspended_since is not None:
            parts.append(
                f"Suspended since {self.suspended_since.isoformat()}: the clock is stopped and the due date"
                " moves by one day for every day until the case resumes."
            )
        return " ".join(parts)

    # ------------------------------------------------------------ the steps

    def apply(self, action: str, on: date, today: date, **details: Any) -> CaseFile:
        if action not in TRANSITIONS:
            raise ValueError(f"unknown action {action!r}")
        allowed_from, target = TRANSITIONS[action]
        if self.status not in allowed_from:
            raise TransitionNotAllowed(action, self.status)
        check_step_date(on, self.last_step_on or self.filed, today)
        changed = getattr(self, f"_{action}")(on, **details)
        status = target or self.status
        return replace(changed, status=status, last_step_on=on, history=(*self.history, (action, status, on)))

    def _investigate(self, on: date) -> CaseFile:
        return self

    def _extend(self, on: date, approver: str, reason: str) -> CaseFile:
        if self.extension is not None:
            raise StepRefused(f"the deadline was already extended on {self.extension.granted_on.isoformat()}")
        if not self.rule.extension_amount:
            raise StepRefused(f"the {self.rule_source} for {self.procedure} allows no extension")
        due = self.due_as_of(on)
        if on > due:
            raise InvalidStep(
                "date", f"an extension must be approved by the deadline ({due.isoformat()}), not after it"
            )
        return replace(self, extension=Extension(on, approver, reason))

    def _suspend(self, on: date, reason: str) -> CaseFile:
        return replace(self, suspensions=(*self.suspensions, Suspension(on, None, reason)))

    def _resume(self, on: date) -> CaseFile:
        return replace(self, suspensions=self._end_suspension(on))

    def _decide(
        self,
        on: date,
        outcome: str,
        fine: Decimal = Decimal("0.00"),
        confiscation: Decimal = Decimal("0.00"),
        illegal_revenue: Decimal = Decimal("0.00"),
        decision_number: str | None = None,
    ) -> CaseFile:
        if outcome not in OUTCOMES_BY_PROCEDURE[self.procedure]:
            allowed = ", ".join(sorted(OUTCOMES_BY_PROCEDURE[self.procedure]))
            raise InvalidStep("outcome", f"a {self.procedure} case ends in one of: {allowed}")
        for name, amount in (("fine", fine), ("confiscation", confiscation), ("illegal_revenue", illegal_revenue)):
            if amount < 0:
                raise InvalidStep(name, "an amount of money cannot be negative")
        if outcome != "penalty_decision" and (fine or confiscation):
            raise InvalidStep("fine" if fine else "confiscation", "fines and confiscations come only with a penalty")
        return replace(
            self, decision=Decision(outcome, on, fine, confiscation, illegal_revenue, decision_number=decision_number)
        )

    def _close(self, on: date) -> CaseFile:
        return replace(self, ended_on=on)

    def _transfer(self, on: date, to: str, receiving_body: str | None = None) -> CaseFile:
        return replace(
            self, suspensions=self._end_suspension(on), transfer=Transfer(to, on, receiving_body), ended_on=on
        )

    def _withdraw(self, on: date) -> CaseFile:
        return replace(self, suspensions=self._end_suspension(on), ended_on=on)

    def _end_suspension(self, on: date) -> tuple[Suspension, ...]:
        return tuple(replace(s, end=on) if s.end is None else s for s in self.suspensions)


def check_step_date(on: date, previous: date, today: date) -> None:
    """A step happens on a business date: not in the future, not before the previous step."""
    if on > today:
        raise InvalidStep("date", "the date lies in the future")
    if on < previous:
        raise InvalidStep("date", f"the date lies before the case's previous step ({previous.isoformat()})")


def new_case(procedure: str, filed: date, rule: DeadlineRule, rule_source: str, today: date) -> CaseFile:
    if filed > today:
        raise InvalidStep("filed_date", "the filing date lies in the future")
    return CaseFile(procedure=procedure, filed=filed, rule=rule, rule_source=rule_source, last_step_on=filed)


# ---------------------------------------------------------------- the on-time closure rate


def on_time_closure_rate(closed_on_time: int, closed: int, overdue_open: int) -> Decimal | None:
    """按期结案率 in percent: closed on time ÷ (closed + overdue and still open), rounded as the
    gateway's metric is (:func:`zhichan.rates.percent`). None when there is nothing to measure."""
    return rates.percent(closed_on_time, closed + overdue_open)


@dataclass
class Tally:
    filed: int = 0
    closed: int = 0
    closed_on_time: int = 0
    overdue_open: int = 0

    @property
    def rate(self) -> Decimal | None:
        return on_time_closure_rate(self.closed_on_time, self.closed, self.overdue_open)

    def count(self, case: CaseFile, start: date, end: date) -> None:
        """Counts one case for the window ``start``..``end``: filed and closed in the window by
        their dates; overdue-open as it stood at the window's end."""
        if start <= case.filed <= end:
            self.filed += 1
        if case.ended_on is not None and start <= case.ended_on <= end:
            self.closed += 1
            self.closed_on_time += bool(case.closed_on_time)
        if case.overdue_on(end):
            self.overdue_open += 1


# ---------------------------------------------------------------- the watch list


def listed_periods(
    decided: Sequence[date],
    years_on: Callable[[date], int],
    change_days: Iterable[date] = (),
    threshold: int = WATCH_THRESHOLD,
) -> list[tuple[date, date]]:
    """The stretches of days on which a respondent is on the watch list: at least ``threshold``
    decisions against it, each counting from its date through the same date ``years`` later
    (``years`` being the window in force on the day looked at). Whether it is listed changes
    only on a decision's date, the day after one ages out, or a day the window changes."""
    if len(decided) < threshold:
        return []
    first = min(decided)
    changes = sorted({d for d in change_days if d > first})
    windows = {years_on(first), *(years_on(d) for d in changes)}
    candidates = sorted({*decided, *changes, *(add_years(d, n) + ONE_DAY for d in decided for n in windows)})
    periods: list[tuple[date, date]] = []
    start: date | None = None
    for day in candidates:
        years = years_on(day)
        listed = sum(d <= day <= add_years(d, years) for d in decided) >= threshold
        if listed and start is None:
            start = day
        elif not listed and start is not None:
            periods.append((start, day - ONE_DAY))
            start = None
    assert start is None, "every decision ages out after the last candidate day"
    return periods


def counting_decisions(decided: Iterable[date], day: date, years: int) -> list[date]:
    """The decisions that count on ``day`` in a window of ``years``."""
    return [d for d in decided if d <= day <= add_years(d, years)]


# ---------------------------------------------------------------- personal data

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def validate_id_number(value: str) -> str:
    """A resident identity card number (GB 11643-1999): 17 digits, a valid birth date and the
    ISO 7064 MOD 11-2 check character. Returns it in upper case."""
    code = value.strip().upper()
    if len(code) != 18 or not code[:17].isdigit() or code[17] not in "0123456789X":
        raise ValueError("an identity card number has 17 digits and a check character (0–9 or X)")
    try:
        date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError:
        raise ValueError("characters 7–14 of an identity card number are a birth date") from None
    if _ID_CHECK[sum(int(c) * w for c, w in zip(code[:17], _ID_WEIGHTS, strict=True)) % 11] != code[17]:
        raise ValueError("the check character (18th) of the identity card number does not match")
    return code


def disclosed_name(kind: str, name: str) -> str:
    return mask_person_name(name) if kind == "natural_person" else name
