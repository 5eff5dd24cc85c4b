"""A region's own settings (its policy): the deadline rules of cases filed from a date on and the
watch-list window, every version kept; and the settings in force, read."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.enforcement import contracts, domain
from services.enforcement.domain import Versioned
from services.enforcement.models import Case, RegionPolicy
from services.enforcement.schemas import (
    DeadlineRulesPublic,
    DeadlineRulesPut,
    RuleInForce,
    WatchWindowPublic,
    WatchWindowPut,
)
from services.enforcement.service import watchlist
from services.enforcement.service._common import publish
from services.enforcement.service._in_force import chain_of, policies_of, rule_in_force, rule_snapshot, window_in_force
from zhichan.api.etag import check_if_match
from zhichan.api.problems import Invalid, NotFound
from zhichan.auth import User, require_write_access
from zhichan.clock import today, utcnow
from zhichan.db import commit_or_conflict, state_of
from zhichan.regions import registry


def policy_tag(region: str | None) -> str:
    """What the ETag of a region's settings names: its policy (``default``: the national one)."""
    return f"region-policy-{region or 'default'}"


def policy_state(policy: RegionPolicy) -> contracts.RegionPolicyState:
    return state_of(contracts.RegionPolicyState, policy)


def _publish_policy(session: AsyncSession, policy: RegionPolicy, verb: str, user: User) -> None:
    publish(session, "region_policy", verb, policy_state(policy), user, aggregate_id=policy.region)


def _visible_region(user: User, region: str | None) -> None:
    if region is not None and not user.sees(region):
        raise NotFound(f"region {region} is outside your regions")


async def deadline_rules(session: AsyncSession, user: User, region: str | None, on: date | None) -> DeadlineRulesPublic:
    """The rules in force for a region on a date (its own, else its nearest ancestor's, else the
    national defaults; default today), with the region's own versions."""
    _visible_region(user, region)
    on = on or today()
    policies = await policies_of(session, chain_of(region)) if region else {}
    rules = []
    for procedure in domain.PROCEDURES:
        rule = rule_in_force(policies, region, procedure, on) if region else Versioned(domain.DEFAULT_RULES[procedure])
        rules.append(RuleInForce(**rule_snapshot(rule), description=rule.value.describe()))
    own = policies.get(region) if region else None
    return DeadlineRulesPublic(
        region=region, on=on, rules=rules, versions=own.deadline_rules if own else [], version=own.version if own else 0
    )


async def _policy_for_change(
    session: AsyncSession, region: str, effective_from: date | None, if_match: str | None, user: User
) -> tuple[RegionPolicy, date]:
    require_write_access(user, region)
    effective = effective_from or today()
    if effective < today():
        raise Invalid.field(["effective_from"], "a change applies from now on: the date cannot lie in the past")
    policy = await session.get(RegionPolicy, region, with_for_update=True)
    if if_match:  # optional: versions are only ever added, so a blind write loses nothing
        check_if_match(if_match, policy_tag(region), policy.version if policy else 0)
    if policy is None:
        policy = RegionPolicy.new(region=region)
        session.add(policy)
    else:
        policy.touch()
    return policy, effective


# Two first changes of one region at once: the second one's new policy row is refused.
_SETTINGS_RACE = "the region's settings changed at the same time; read them again and retry"


async def put_deadline_rules(
    session: AsyncSession, body: DeadlineRulesPut, if_match: str | None, user: User
) -> DeadlineRulesPublic:
    policy, effective = await _policy_for_change(session, body.region, body.effective_from, if_match, user)
    set_at = utcnow().isoformat()
    added = [
        {
            **rule.model_dump(),
            "effective_from": effective.isoformat(),
            "set_by": user.sub,
            "set_at": set_at,
            "reason": body.reason,
        }
        for rule in body.rules
    ]
    policy.deadline_rules = [*policy.deadline_rules, *added]
    _publish_policy(session, policy, "deadline_rules_changed", user)
    await commit_or_conflict(session, _SETTINGS_RACE)
    return await deadline_rules(session, user, body.region, today())


async def watch_window(session: AsyncSession, user: User, region: str | None, on: date | None) -> WatchWindowPublic:
    """The watch-list window in force for a region on a date (default today), found as the
    deadline rules are, with the region's own versions."""
    _visible_region(user, region)
    on = on or today()
    policies = await policies_of(session, chain_of(region)) if region else {}
    window = window_in_force(policies, region, on) if region else Versioned(domain.DEFAULT_WATCH_WINDOW_YEARS)
    own = policies.get(region) if region else None
    return WatchWindowPublic(
        region=region,
        on=on,
        years=window.value,
        source_region=window.region,
        effective_from=window.effective_from,
        versions=own.watch_windows if own else [],
        version=own.version if own else 0,
    )


async def put_watch_window(
    session: AsyncSession, body: WatchWindowPut, if_match: str | None, user: User
) -> WatchWindowPublic:
    """A new window from its date on; the region's entries (and its descendants') are worked
    out again, since who is listed on later days may change."""
    policy, effective = await _policy_for_change(session, body.region, body.effective_from, if_match, user)
    version = {
        "years": body.years,
        "effective_from": effective.isoformat(),
        "set_by": user.sub,
        "set_at": utcnow().isoformat(),
        "reason": body.reason,
    }
    policy.watch_windows = [*policy.watch_windows, version]
    _publish_policy(session, policy, "watch_window_changed", user)
    scope = registry().descendants(body.region)
    against = await session.execute(
        select(Case.region, Case.respondent_uscc).where(
            Case.region.in_(sorted(scope)),
            Case.outcome.in_(sorted(domain.AGAINST_RESPONDENT)),
            Case.respondent_uscc.is_not(None),
        )
    )
    targets: dict[str, set[str]] = defaultdict(set)
    for region, uscc in against:
        targets[uscc] |= {code for code in chain_of(region) if code in scope}
    await watchlist.refresh(session, targets, user)
    await commit_or_conflict(session, _SETTINGS_RACE)
    return await watch_window(session, user, body.region, today())
