"""The settings in force for a region on a day: its own policy's version then, else its nearest
ancestor's, else the national default — for the deadline rules and the watch-list window; and
the snapshot of its deadline rule a case keeps."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.enforcement import domain
from services.enforcement.domain import DeadlineRule, Versioned
from services.enforcement.models import RegionPolicy
from services.enforcement.service._common import to_iso
from zhichan.regions import registry

RULE_FIELDS = ("procedure", "base_amount", "base_unit", "extension_amount", "extension_unit")


def chain_of(region: str) -> list[str]:
    """The region, then its parent, and so on up: the order in which settings are looked for."""
    return [region, *registry().ancestors(region)]


async def policies_of(session: AsyncSession, regions: Iterable[str]) -> dict[str, RegionPolicy]:
    codes = sorted(set(regions))
    rows = (await session.execute(select(RegionPolicy).where(RegionPolicy.region.in_(codes)))).scalars()
    return {policy.region: policy for policy in rows}


def _rule_versions(policy: RegionPolicy | None, procedure: str) -> list[Versioned[DeadlineRule]]:
    if policy is None:
        return []
    return [
        Versioned(rule_of(v), policy.region, date.fromisoformat(v["effective_from"]))
        for v in policy.deadline_rules
        if v["procedure"] == procedure
    ]


def rule_in_force(policies: dict[str, RegionPolicy], region: str, procedure: str, on: date) -> Versioned:
    chain = [_rule_versions(policies.get(code), procedure) for code in chain_of(region)]
    return domain.in_force(chain, on, Versioned(domain.DEFAULT_RULES[procedure]))


def _window_versions(policy: RegionPolicy | None) -> list[Versioned[int]]:
    if policy is None:
        return []
    return [Versioned(v["years"], policy.region, date.fromisoformat(v["effective_from"])) for v in policy.watch_windows]


def window_in_force(policies: dict[str, RegionPolicy], region: str, on: date) -> Versioned[int]:
    chain = [_window_versions(policies.get(code)) for code in chain_of(region)]
    return domain.in_force(chain, on, Versioned(domain.DEFAULT_WATCH_WINDOW_YEARS))


def years_on(policies: dict[str, RegionPolicy], region: str) -> Callable[[date], int]:
    return lambda day: window_in_force(policies, region, day).value


def window_change_days(policies: dict[str, RegionPolicy], region: str) -> list[date]:
    return [v.effective_from for code in chain_of(region) for v in _window_versions(policies.get(code))]


def rule_snapshot(rule: Versioned[DeadlineRule]) -> dict:
    return {**asdict(rule.value), "source_region": rule.region, "effective_from": to_iso(rule.effective_from)}


def rule_of(stored: dict) -> DeadlineRule:
    return DeadlineRule(*(stored[f] for f in RULE_FIELDS))


def rule_source(snapshot: dict) -> str:
    code = snapshot["source_region"]
    if code is None:
        return "national default rule"
    name = registry().get(code).name if code in registry() else code
    return f"rule of region {code} {name} in force from {snapshot['effective_from']}"
