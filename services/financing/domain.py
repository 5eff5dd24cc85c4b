"""Financing rules, free of I/O: vocabularies, the pledge kind, the pledge state machine, the
outstanding balance of a pledge on a date, and the checks of amounts and dates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

# Asset types, pledge kinds and transaction types are filters of the metric catalogue too: they
# are declared in the kernel, where the catalogue can read them, and named here.
from zhichan.vocabulary import IP_TYPES as ASSET_TYPES
from zhichan.vocabulary import PLEDGE_KINDS as PLEDGE_KINDS
from zhichan.vocabulary import TRANSACTION_TYPES as TRANSACTION_TYPES
from zhichan.vocabulary import Vocabulary

GUARANTEE_MODES = Vocabulary({"direct": "直接质押", "guarantor": "担保公司担保", "insurance": "保险保证"})
PLEDGE_STATUSES = Vocabulary(
    {"registered": "已登记", "released": "已注销", "defaulted": "已违约", "disposed": "已处置"}
)
ACTION_LABELS = Vocabulary({"release": "注销", "default": "违约", "dispose": "处置"})

# The right each asset type is pledged as. A geographical indication is registered in China as a
# collective or certification mark and pledged as a trademark; a layout-design right is registered
# and pledged at CNIPA as a technology right, like a patent.
KIND_FAMILY = {
    "patent": "patent",
    "layout_design": "patent",
    "trademark": "trademark",
    "gi": "trademark",
    "copyright": "copyright",
}

# Largest amount one record may carry: 1000亿元. It keeps a sum over millions of records inside
# a 64-bit count of fen, and no single IP loan comes near it.
MAX_AMOUNT = Decimal("100000000000.00")

# action → (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "release": (frozenset({"registered"}), "released"),
    "default": (frozenset({"registered"}), "defaulted"),
    "dispose": (frozenset({"defaulted"}), "disposed"),
}


class TransitionNotAllowed(Exception):
    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"cannot {action} a pledge that is {status}")
        self.action = action
        self.status = status


class RuleViolation(ValueError):
    """Input that breaks a rule; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def pledge_kind(asset_types: Sequence[str]) -> str:
    """The kind of a pledge, from the types of its assets (one entry per asset):

    - assets of more than one family (patent + trademark, copyright + gi …) → ``mixed`` (混合质押);
    - several assets of one family (three patents; a patent and a layout design) → ``portfolio`` (组合质押);
    - a single asset → its family: ``patent``, ``trademark`` or ``copyright``.
    """
    if not asset_types:
        raise ValueError("a pledge has at least one asset")
    families = {KIND_FAMILY[t] for t in asset_types}
    if len(families) > 1:
        return "mixed"
    if len(asset_types) > 1:
        return "portfolio"
    return families.pop()


def distinct_asset_types(asset_types: Sequence[str]) -> list[str]:
    """The types present, in the vocabulary's order."""
    present = set(asset_types)
    return [t for t in ASSET_TYPES if t in present]


def next_status(action: str, status: str) -> str:
    allowed_from, target = TRANSITIONS[action]
    if status not in allowed_from:
        raise TransitionNotAllowed(action, status)
    return target


def check_not_future(field: str, day: date, today: date) -> None:
    if day > today:
        raise RuleViolation(field, "the date lies in the future")


def check_effective_date(field: str, effective: date, since: date, since_what: str, today: date) -> None:
    """A change takes effect on a business date: not in the future, not before ``since``."""
    check_not_future(field, effective, today)
    if effective < since:
        raise RuleViolation(field, f"the date lies before the {since_what} ({since.isoformat()})")


def check_period(end_field: str, start: date, end: date, *, strictly_after: bool) -> None:
    if end < start or (strictly_after and end == start):
        raise RuleViolation(end_field, "the period ends before it starts" if end < start else "the period is empty")


def check_default(outstanding: Decimal, loan_amount: Decimal) -> None:
    """The principal outstanding at default is at most what was lent (the API refuses zero)."""
    if outstanding > loan_amount:
        raise RuleViolation("outstanding", f"more than the loan amount ({loan_amount})")


def check_risk_compensation(claim: Decimal, paid: Decimal, outstanding_at_default: Decimal) -> None:
    """A claim covers at most the principal lost at default; what is paid covers at most the claim."""
    if claim > outstanding_at_default:
        raise RuleViolation(
            "claim_amount", f"more than the principal outstanding at default ({outstanding_at_default})"
        )
    if paid > claim:
        raise RuleViolation("paid_amount", "more than the amount claimed")


@dataclass(frozen=True)
class PledgeFacts:
    """What the outstanding balance of a pledge depends on."""

    loan_amount: Decimal
    registered_on: date
    released_on: date | None = None
    defaulted_on: date | None = None
    outstanding_at_default: Decimal | None = None
    disposed_on: date | None = None


def outstanding_on(pledge: PledgeFacts, day: date) -> Decimal:
    """The loan balance a pledge secures at the end of ``day``:

    - nothing before it is registered;
    - the loan amount while registered;
    - nothing once released (注销: the loan was repaid);
    - the principal outstanding at default, from the default until the disposal;
    - nothing once disposed (the disposal closes the loan; a shortfall is a loss, claimed as
      risk compensation, not a balance).
    """
    zero = Decimal("0.00")
    if day < pledge.registered_on:
        return zero
    if pledge.disposed_on is not None and pledge.disposed_on <= day:
        return zero
    if pledge.defaulted_on is not None and pledge.defaulted_on <= day:
        return pledge.outstanding_at_default if pledge.outstanding_at_default is not None else zero
    if pledge.released_on is not None and pledge.released_on <= day:
        return zero
    return pledge.loan_amount


def default_window(today: date, start: date | None, end: date | None) -> tuple[date, date]:
    """A summary's window: ``to`` defaults to today, ``from`` to 1 January of ``to``'s year."""
    end = end or today
    start = start or date(end.year, 1, 1)
    if start > end:
        raise RuleViolation("from", "the window starts after it ends")
    return start, end
