"""Reporting rounds as calendar arithmetic, shared by the targets service (which keeps the
submissions) and the gateway (which raises the alerts of rounds due and missed): a round is a
calendar period cut to its plan's, opened the day after it ends and due some days later."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS_PER_PERIOD = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}


@dataclass(frozen=True)
class Round:
    """One reporting round of a plan: a calendar period cut to the plan's own (a plan starting on
    15 March has a first quarter of 15 March..31 March), and the last day its report is on time."""

    label: str  # 2025-03 (monthly), 2025Q1, 2025H1, 2025
    start: date
    end: date
    due: date


def period_label(period: str, start: date) -> str:
    """The label of the calendar period of this kind beginning on ``start``."""
    if period == "monthly":
        return f"{start.year}-{start.month:02d}"
    if period == "quarterly":
        return f"{start.year}Q{(start.month - 1) // 3 + 1}"
    if period == "half_yearly":
        return f"{start.year}H{(start.month - 1) // 6 + 1}"
    return str(start.year)


def calendar_period(period: str, day: date) -> tuple[date, date]:
    """The calendar period of this kind (a month, quarter, half year or year) holding ``day``."""
    months = MONTHS_PER_PERIOD[period]
    first_month = (day.month - 1) // months * months + 1
    last_month = first_month + months - 1
    return date(day.year, first_month, 1), date(day.year, last_month, calendar.monthrange(day.year, last_month)[1])


def round_at(period: str, due_days: int, day: date, plan_start: date, plan_end: date) -> Round:
    """The round whose period holds ``day``, cut to the plan; due ``due_days`` after it ends."""
    start, end = calendar_period(period, day)
    start, end = max(start, plan_start), min(end, plan_end)
    return Round(period_label(period, start), start, end, end + timedelta(days=due_days))


def plan_rounds(period: str, due_days: int, plan_start: date, plan_end: date, first: date | None = None) -> list[Round]:
    """Every round of a plan, the first to the last. ``first``: the reporting starts with the round
    whose period holds this day (an office that goes live mid-plan); none is expected before it."""
    rounds = []
    day = max(plan_start, first) if first else plan_start
    while day <= plan_end:
        found = round_at(period, due_days, day, plan_start, plan_end)
        rounds.append(found)
        day = found.end + timedelta(days=1)
    return rounds


def opened_rounds(
    period: str, due_days: int, plan_start: date, plan_end: date, today: date, first: date | None = None
) -> list[Round]:
    """The rounds of a plan that have opened by ``today``: a round opens the day after its period
    ends (its value is the figure on that day), so the period under way has none yet."""
    return [found for found in plan_rounds(period, due_days, plan_start, plan_end, first) if found.end < today]
