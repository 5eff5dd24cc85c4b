"""Enforcement use cases: load, apply the domain rule, write the rows and their outbox events in
one transaction."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Select

from services.enforcement import contracts, domain
from services.enforcement.domain import CaseFile, DeadlineRule, Versioned
from services.enforcement.models import Campaign, Case, RegionPolicy, WatchlistEntry
from services.enforcement.schemas import (
    CampaignCaseCounts,
    CampaignCreate,
    CaseCreate,
    CaseFilter,
    CaseStats,
    Counts,
    DeadlineRulesPublic,
    DeadlineRulesPut,
    DisclosedCase,
    DisclosureFilter,
    DisclosureList,
    OverdueCase,
    OverdueReport,
    OverdueUnit,
    RuleInForce,
    StatsWindow,
    StepIn,
    WatchlistCase,
    WatchlistItem,
    WatchlistPage,
    WatchWindowPublic,
    WatchWindowPut,
)
from zhichan.api.etag import check_if_match
from zhichan.api.pagination import PageParams, keyset_page, next_page
from zhichan.api.problems import Conflict, Invalid, NotFound
from zhichan.api.scope import get_visible, scoped
from zhichan.auth import User, require_write_access
from zhichan.clock import today, utcnow
from zhichan.db import commit_or_conflict, state_of
from zhichan.events import record_event
from zhichan.money import from_fen, to_fen
from zhichan.regions import registry

VERB_OF_ACTION = {
    "investigate": "investigation_started",
    "extend": "extended",
    "suspend": "suspended",
    "resume": "resumed",
    "decide": "decided",
    "close": "closed",
    "transfer": "transferred",
    "withdraw": "withdrawn",
}
# What each step hands the domain, from its request body.
STEP_FIELDS: dict[str, tuple[str, ...]] = {
    "extend": ("approver", "reason"),
    "suspend": ("reason",),
    "decide": ("outcome", "fine", "confiscation", "illegal_revenue", "decision_number"),
    "transfer": ("to", "receiving_body"),
}
RULE_FIELDS = ("procedure", "base_amount", "base_unit", "extension_amount", "extension_unit")


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value is not None else None


def _publish(
    session: AsyncSession, aggregate: str, verb: str, state: Any, user: User, *, aggregate_id: str | None = None
) -> None:
    """The event of a change, in the outbox, in the change's transaction: the state after it.
    ``aggregate_id``: the key of an aggregate that has no ``id`` (a region's policy)."""
    record_event(
        session,
        service=contracts.SERVICE,
        aggregate=aggregate,
        verb=verb,
        aggregate_id=aggregate_id or state.id,
        region=state.region,
        version=state.version,
        data=state,
        actor=user.sub,
    )


async def _serialize_on(session: AsyncSession, key: str) -> None:
    """Makes concurrent transactions about the same thing take turns. SQLite already runs one
    writer at a time; PostgreSQL gets a transaction-scoped advisory lock."""
    if session.bind.dialect.name == "postgresql":
        lock = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        await session.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": lock})


# ---------------------------------------------------------------- region policies


def _chain(region: str) -> list[str]:
    """The region, then its parent, and so on up: the order in which settings are looked for."""
    return [region, *registry().ancestors(region)]


async def _policies(session: AsyncSession, regions: Iterable[str]) -> dict[str, RegionPolicy]:
    codes = sorted(set(regions))
    rows = (await session.execute(select(RegionPolicy).where(RegionPolicy.region.in_(codes)))).scalars()
    return {policy.region: policy for policy in rows}


def _rule_versions(policy: RegionPolicy | None, procedure: str) -> list[Versioned[DeadlineRule]]:
    if policy is None:
        return []
    return [
        Versioned(_rule_of(v), policy.region, date.fromisoformat(v["effective_from"]))
        for v in policy.deadline_rules
        if v["procedure"] == procedure
    ]


def _rule_in_force(policies: dict[str, RegionPolicy], region: str, procedure: str, on: date) -> Versioned:
    chain = [_rule_versions(policies.get(code), procedure) for code in _chain(region)]
    return domain.in_force(chain, on, Versioned(domain.DEFAULT_RULES[procedure]))


def _window_versions(policy: RegionPolicy | None) -> list[Versioned[int]]:
    if policy is None:
        return []
    return [Versioned(v["years"], policy.region, date.fromisoformat(v["effective_from"])) for v in policy.watch_windows]


def _window_in_force(policies: dict[str, RegionPolicy], region: str, on: date) -> Versioned[int]:
    chain = [_window_versions(policies.get(code)) for code in _chain(region)]
    return domain.in_force(chain, on, Versioned(domain.DEFAULT_WATCH_WINDOW_YEARS))


def _years_on(policies: dict[str, RegionPolicy], region: str) -> Callable[[date], int]:
    return lambda day: _window_in_force(policies, region, day).value


def _window_change_days(policies: dict[str, RegionPolicy], region: str) -> list[date]:
    return [v.effective_from for code in _chain(region) for v in _window_versions(policies.get(code))]


def _rule_snapshot(rule: Versioned[DeadlineRule]) -> dict:
    return {**asdict(rule.value), "source_region": rule.region, "effective_from": _iso(rule.effective_from)}


def _rule_of(stored: dict) -> DeadlineRule:
    return DeadlineRule(*(stored[f] for f in RULE_FIELDS))


def _rule_source(snapshot: dict) -> str:
    code = snapshot["source_region"]
    if code is None:
        return "national default rule"
    name = registry().get(code).name if code in registry() else code
    return f"rule of region {code} {name} in force from {snapshot['effective_from']}"


def policy_tag(region: str | None) -> str:
    """What the ETag of a region's settings names: its policy (``default``: the national one)."""
    return f"region-policy-{region or 'default'}"


def policy_state(policy: RegionPolicy) -> contracts.RegionPolicyState:
    return state_of(contracts.RegionPolicyState, policy)


def _publish_policy(session: AsyncSession, policy: RegionPolicy, verb: str, user: User) -> None:
    _publish(session, "region_policy", verb, policy_state(policy), user, aggregate_id=policy.region)


def _visible_region(user: User, region: str | None) -> None:
    if region is not None and not user.sees(region):
        raise NotFound(f"region {region} is outside your regions")


async def deadline_rules(session: AsyncSession, user: User, region: str | None, on: date | None) -> DeadlineRulesPublic:
    """The rules in force for a region on a date (its own, else its nearest ancestor's, else the
    national defaults; default today), with the region's own versions."""
    _visible_region(user, region)
    on = on or today()
    policies = await _policies(session, _chain(region)) if region else {}
    rules = []
    for procedure in domain.PROCEDURES:
        rule = _rule_in_force(policies, region, procedure, on) if region else Versioned(domain.DEFAULT_RULES[procedure])
        rules.append(RuleInForce(**_rule_snapshot(rule), description=rule.value.describe()))
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
SETTINGS_RACE = "the region's settings changed at the same time; read them again and retry"


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
    await commit_or_conflict(session, SETTINGS_RACE)
    return await deadline_rules(session, user, body.region, today())


async def watch_window(session: AsyncSession, user: User, region: str | None, on: date | None) -> WatchWindowPublic:
    """The watch-list window in force for a region on a date (default today), found as the
    deadline rules are, with the region's own versions."""
    _visible_region(user, region)
    on = on or today()
    policies = await _policies(session, _chain(region)) if region else {}
    window = _window_in_force(policies, region, on) if region else Versioned(domain.DEFAULT_WATCH_WINDOW_YEARS)
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
        targets[uscc] |= {code for code in _chain(region) if code in scope}
    await _refresh_watchlist(session, targets, user)
    await commit_or_conflict(session, SETTINGS_RACE)
    return await watch_window(session, user, body.region, today())


# ---------------------------------------------------------------- cases: state


def case_file(case: Case) -> CaseFile:
    """The domain's view of a stored case."""
    extension = case.extension
    return CaseFile(
        procedure=case.procedure,
        filed=case.filed_date,
        rule=_rule_of(case.deadline_rule),
        rule_source=_rule_source(case.deadline_rule),
        status=case.status,
        last_step_on=date.fromisoformat(case.timeline[-1]["date"]),
        extension=domain.Extension(
            date.fromisoformat(extension["granted_on"]), extension["approver"], extension["reason"]
        )
        if extension
        else None,
        suspensions=tuple(
            domain.Suspension(date.fromisoformat(s["start"]), _day(s["end"]), s["reason"]) for s in case.suspensions
        ),
        decision=domain.Decision(
            case.outcome,
            case.decided_date,
            from_fen(case.fine_fen or 0),
            from_fen(case.confiscation_fen or 0),
            from_fen(case.illegal_revenue_fen or 0),
            case.decision_number,
        )
        if case.outcome
        else None,
        transfer=domain.Transfer(
            case.transfer["to"], date.fromisoformat(case.transfer["transferred_on"]), case.transfer["receiving_body"]
        )
        if case.transfer
        else None,
        ended_on=case.closed_date,
        history=tuple((s["action"], s["status"], date.fromisoformat(s["date"])) for s in case.timeline[1:]),
    )


def _store_lifecycle(case: Case, cf: CaseFile) -> None:
    """Writes what the domain decided back onto the row, with the columns lists filter on."""
    case.status = cf.status
    case.extension = (
        {
            "granted_on": cf.extension.granted_on.isoformat(),
            "approver": cf.extension.approver,
            "reason": cf.extension.reason,
        }
        if cf.extension
        else None
    )
    case.suspensions = [{"start": s.start.isoformat(), "end": _iso(s.end), "reason": s.reason} for s in cf.suspensions]
    case.due_date = cf.due_date
    case.overdue_since = cf.overdue_since
    if cf.decision is not None:
        case.outcome = cf.decision.outcome
        case.decided_date = cf.decision.decided_on
        case.decision_number = cf.decision.decision_number
        case.fine_fen = to_fen(cf.decision.fine)
        case.confiscation_fen = to_fen(cf.decision.confiscation)
        case.illegal_revenue_fen = to_fen(cf.decision.illegal_revenue)
    if cf.transfer is not None:
        case.transfer = {
            "to": cf.transfer.to,
            "receiving_body": cf.transfer.receiving_body,
            "transferred_on": cf.transfer.transferred_on.isoformat(),
        }
    case.closed_date = cf.ended_on
    case.closed_on_time = cf.closed_on_time


def _party(kind: str, name: str, uscc: str | None) -> contracts.PartyState:
    return contracts.PartyState(kind=kind, name=name, uscc=uscc)


def case_state(case: Case) -> contracts.CaseState:
    cf = case_file(case)
    decision = cf.decision
    return state_of(
        contracts.CaseState,
        case,
        type=case.case_type,
        respondent=_party(case.respondent_kind, case.respondent_name, case.respondent_uscc),
        complainant=_party(case.complainant["kind"], case.complainant["name"], case.complainant.get("uscc"))
        if case.complainant
        else None,
        base_due_date=cf.base_due,
        period_end=cf.period_end(),
        suspensions=[
            contracts.SuspensionState(
                start=s.start, end=s.end, reason=s.reason, days=s.days() if s.end is not None else None
            )
            for s in cf.suspensions
        ],
        suspended_days=cf.suspended_days(),
        due_date_basis=cf.basis(),
        overdue_periods=[contracts.Period(start=start, end=end) for start, end in cf.overdue_periods()],
        decision=contracts.DecisionState(
            outcome=decision.outcome,
            decided_date=decision.decided_on,
            fine=decision.fine,
            confiscation=decision.confiscation,
            illegal_revenue=decision.illegal_revenue,
            decision_number=decision.decision_number,
            against_respondent=decision.against_respondent,
        )
        if decision
        else None,
    )


def id_numbers(case: Case) -> dict[str, str | None]:
    """What officers see beside a case's state: its parties' identity card numbers, which no
    event carries."""
    return {
        "respondent_id_number": case.respondent_id_number,
        "complainant_id_number": case.complainant.get("id_number") if case.complainant else None,
    }


def _with_id_numbers(case: Case) -> tuple[contracts.CaseState, dict[str, str | None]]:
    return case_state(case), id_numbers(case)


def _step(action: str, status: str, on: date, user: User, reason: str | None, details: dict) -> dict:
    return {
        "action": action,
        "status": status,
        "date": on.isoformat(),
        "at": utcnow().isoformat(),
        "actor": user.sub,
        "reason": reason,
        "details": details,
    }


# ---------------------------------------------------------------- cases: writes


async def _check_campaign(session: AsyncSession, campaign_id: str, region: str, filed: date) -> None:
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise Invalid.field(["campaign_id"], f"no campaign {campaign_id}")
    if not registry().contains(campaign.region, region):
        raise Invalid.field(
            ["campaign_id"], f"campaign {campaign.name} of region {campaign.region} does not cover {region}"
        )
    if not campaign.start_date <= filed <= campaign.end_date:
        raise Invalid.field(
            ["campaign_id"],
            f"filed on {filed.isoformat()}, outside the campaign's period"
            f" {campaign.start_date.isoformat()}–{campaign.end_date.isoformat()}",
        )


def _domain_problem(exc: Exception, cf: CaseFile, action: str) -> Exception:
    if isinstance(exc, domain.TransitionNotAllowed):
        return Conflict(str(exc), current_status=exc.status, action=exc.action)
    if isinstance(exc, domain.StepRefused):
        return Conflict(str(exc), current_status=cf.status, action=action)
    assert isinstance(exc, domain.InvalidStep)
    return Invalid.field([exc.loc], str(exc))


async def file_case(session: AsyncSession, data: CaseCreate, user: User) -> tuple[contracts.CaseState, dict]:
    require_write_access(user, data.region)
    filed = data.filed_date or today()
    policies = await _policies(session, _chain(data.region))
    rule = _rule_snapshot(_rule_in_force(policies, data.region, data.procedure, filed))
    try:
        cf = domain.new_case(data.procedure, filed, _rule_of(rule), _rule_source(rule), today())
    except domain.InvalidStep as exc:
        raise Invalid.field([exc.loc], str(exc)) from None
    if data.origin == "campaign" and not data.campaign_id:
        raise Invalid.field(["campaign_id"], "a case that comes from a campaign names the campaign")
    if data.campaign_id:
        await _check_campaign(session, data.campaign_id, data.region, filed)
    respondent = data.respondent
    case = Case.new(
        region=data.region,
        case_number=data.case_number,
        case_type=data.type,
        procedure=data.procedure,
        origin=data.origin,
        respondent_kind=respondent.kind,
        respondent_name=respondent.name,
        respondent_uscc=respondent.uscc,
        respondent_id_number=respondent.id_number,
        complainant=data.complainant.model_dump() if data.complainant else None,
        summary=data.summary,
        filed_date=filed,
        handling_unit=data.handling_unit,
        campaign_id=data.campaign_id,
        status="filed",
        deadline_rule=rule,
        timeline=[_step("file", "filed", filed, user, None, {})],
    )
    _store_lifecycle(case, cf)
    session.add(case)
    state, numbers = _with_id_numbers(case)
    _publish(session, "case", "filed", state, user)
    await commit_or_conflict(session, f"case number {data.case_number} is already used in region {data.region}")
    return state, numbers


async def get_case(session: AsyncSession, case_id: str, user: User) -> tuple[contracts.CaseState, dict]:
    return _with_id_numbers(await get_visible(session, Case, case_id, user, "case"))


def _money_text(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


async def transition(
    session: AsyncSession, case_id: str, action: str, body: StepIn, user: User, if_match: str | None = None
) -> tuple[contracts.CaseState, dict]:
    case = await get_visible(session, Case, case_id, user, "case", for_update=True)
    require_write_access(user, case.region)
    if if_match:  # optional: a step is refused anyway when the case moved on to another status
        check_if_match(if_match, case.id, case.version)
    cf = case_file(case)
    on = body.date or today()
    details = {name: getattr(body, name) for name in STEP_FIELDS.get(action, ())}
    try:
        after = cf.apply(action, on, today(), **details)
    except (domain.TransitionNotAllowed, domain.StepRefused, domain.InvalidStep) as exc:
        raise _domain_problem(exc, cf, action) from None
    recorded = {k: _money_text(v) for k, v in details.items() if k != "reason" and v is not None}
    case.timeline = [*case.timeline, _step(action, after.status, on, user, body.reason, recorded)]
    _store_lifecycle(case, after)
    case.touch()
    state, numbers = _with_id_numbers(case)
    _publish(session, "case", VERB_OF_ACTION[action], state, user)
    if after.decision is not None and after.decision.against_respondent and case.respondent_uscc:
        await _refresh_watchlist(session, {case.respondent_uscc: set(_chain(case.region))}, user)
    await session.commit()
    return state, numbers


# ---------------------------------------------------------------- cases: reads


def _between(query: Select, column: ColumnElement, start: date | None, end: date | None) -> Select:
    if start is not None:
        query = query.where(column >= start)
    if end is not None:
        query = query.where(column <= end)
    return query


async def list_cases(
    session: AsyncSession, user: User, page: PageParams, filters: CaseFilter
) -> tuple[tuple[list[contracts.CaseState], str | None], dict[str, dict]]:
    """A page of cases, and each one's identity card numbers by its id."""
    query = scoped(select(Case), Case.region, user, filters.region)
    for column, value in (
        (Case.case_type, filters.type),
        (Case.procedure, filters.procedure),
        (Case.origin, filters.origin),
        (Case.status, filters.status),
        (Case.handling_unit, filters.handling_unit),
        (Case.campaign_id, filters.campaign),
        (Case.respondent_uscc, filters.respondent_uscc),
    ):
        if value is not None:
            query = query.where(column == value)
    query = _between(query, Case.filed_date, filters.filed_from, filters.filed_to)
    query = _between(query, Case.closed_date, filters.closed_from, filters.closed_to)
    if filters.overdue is not None:
        overdue_now = and_(Case.overdue_since.is_not(None), Case.overdue_since <= today())
        query = query.where(overdue_now if filters.overdue else ~overdue_now)
    rows, next_cursor = await keyset_page(session, query, page, Case.id)
    return ([case_state(c) for c in rows], next_cursor), {c.id: id_numbers(c) for c in rows}


async def _cases_touching(session: AsyncSession, user: User, region: str | None, start: date, end: date) -> list[Case]:
    """Cases filed by ``end`` that were still open on ``start`` or later."""
    query = select(Case).where(Case.filed_date <= end, or_(Case.closed_date.is_(None), Case.closed_date >= start))
    return list((await session.execute(scoped(query, Case.region, user, region))).scalars())


async def case_stats(session: AsyncSession, user: User, window: StatsWindow) -> CaseStats:
    """Cases filed, closed, closed on time and overdue in a window (default: the year to today)."""
    end = window.to or today()
    start = window.from_ or date(end.year, 1, 1)
    if end < start:
        raise Invalid.field(["from"], "the window starts after it ends")
    total = domain.Tally()
    by_type = {code: domain.Tally() for code in domain.CASE_TYPES}
    by_procedure = {code: domain.Tally() for code in domain.PROCEDURES}
    for case in await _cases_touching(session, user, window.region, start, end):
        cf = case_file(case)
        for tally in (total, by_type[case.case_type], by_procedure[case.procedure]):
            tally.count(cf, start, end)
    return CaseStats(
        **Counts.of(total).model_dump(),
        region=window.region,
        from_=start,
        to=end,
        by_type={code: Counts.of(t) for code, t in by_type.items()},
        by_procedure={code: Counts.of(t) for code, t in by_procedure.items()},
    )


def _status_on(case: Case, day: date) -> str:
    return [step["status"] for step in case.timeline if date.fromisoformat(step["date"]) <= day][-1]


async def overdue_report(session: AsyncSession, user: User, region: str | None, as_of: date | None) -> OverdueReport:
    """The open cases past their deadline on a day (default today), by handling unit."""
    as_of = as_of or today()
    units: dict[str, list[OverdueCase]] = defaultdict(list)
    for case in await _cases_touching(session, user, region, as_of, as_of):
        cf = case_file(case)
        if not cf.overdue_on(as_of):
            continue
        due = cf.due_as_of(as_of)
        units[case.handling_unit].append(
            OverdueCase(
                id=case.id,
                case_number=case.case_number,
                region=case.region,
                type=case.case_type,
                procedure=case.procedure,
                status=_status_on(case, as_of),
                filed_date=case.filed_date,
                due_date=due,
                days_overdue=(as_of - due).days,
            )
        )
    listed = [
        OverdueUnit(
            handling_unit=unit, count=len(cases), cases=sorted(cases, key=lambda c: (c.due_date, c.case_number))
        )
        for unit, cases in units.items()
    ]
    listed.sort(key=lambda u: (-u.count, u.handling_unit))
    return OverdueReport(region=region, as_of=as_of, total=sum(u.count for u in listed), units=listed)


# ---------------------------------------------------------------- campaigns


def campaign_state(campaign: Campaign) -> contracts.CampaignState:
    return state_of(contracts.CampaignState, campaign, start=campaign.start_date, end=campaign.end_date)


def _case_counts(cases: list[Case]) -> dict[str, CampaignCaseCounts]:
    """What a reader sees beside a campaign's state: counts of its cases."""
    now = today()
    counts = CampaignCaseCounts(
        total=len(cases),
        open=sum(c.status in domain.OPEN_STATUSES for c in cases),
        overdue=sum(c.overdue_since is not None and c.overdue_since <= now for c in cases),
        decided=sum(c.decided_date is not None for c in cases),
        ended=sum(c.status in domain.ENDED_STATUSES for c in cases),
        by_status=dict(Counter(c.status for c in cases)),
        by_type=dict(Counter(c.case_type for c in cases)),
        fines_total=from_fen(sum(c.fine_fen or 0 for c in cases)),
        confiscations_total=from_fen(sum(c.confiscation_fen or 0 for c in cases)),
    )
    return {"case_counts": counts}


async def _counted(session: AsyncSession, user: User, campaigns: list[Campaign]) -> dict[str, dict]:
    """Each campaign's case counts, among the cases the caller sees, by campaign id."""
    query = scoped(select(Case).where(Case.campaign_id.in_([c.id for c in campaigns])), Case.region, user)
    grouped: dict[str, list[Case]] = defaultdict(list)
    for case in (await session.execute(query)).scalars():
        grouped[case.campaign_id].append(case)
    return {c.id: _case_counts(grouped[c.id]) for c in campaigns}


async def create_campaign(
    session: AsyncSession, data: CampaignCreate, user: User
) -> tuple[contracts.CampaignState, dict]:
    require_write_access(user, data.region)
    campaign = Campaign.new(
        name=data.name,
        region=data.region,
        start_date=data.start,
        end_date=data.end,
        focus=data.focus,
        description=data.description,
        created_by=user.sub,
    )
    session.add(campaign)
    state = campaign_state(campaign)
    _publish(session, "campaign", "created", state, user)
    await commit_or_conflict(session, f"region {data.region} already has a campaign named {data.name}")
    return state, _case_counts([])  # no case names it yet


async def get_campaign(session: AsyncSession, campaign_id: str, user: User) -> tuple[contracts.CampaignState, dict]:
    campaign = await get_visible(session, Campaign, campaign_id, user, "campaign")
    return campaign_state(campaign), (await _counted(session, user, [campaign]))[campaign.id]


async def list_campaigns(
    session: AsyncSession, user: User, page: PageParams, region: str | None, active_on: date | None
) -> tuple[tuple[list[contracts.CampaignState], str | None], dict[str, dict]]:
    """A page of campaigns, and each one's case counts by its id."""
    query = scoped(select(Campaign), Campaign.region, user, region)
    if active_on is not None:
        query = query.where(Campaign.start_date <= active_on, Campaign.end_date >= active_on)
    rows, next_cursor = await keyset_page(session, query, page, Campaign.id)
    return ([campaign_state(c) for c in rows], next_cursor), await _counted(session, user, rows)


# ---------------------------------------------------------------- watch list


def watchlist_state(entry: WatchlistEntry) -> contracts.WatchlistEntryState:
    return state_of(contracts.WatchlistEntryState, entry)


def _periods(stored: list[dict]) -> list[tuple[date, date]]:
    return [(date.fromisoformat(p["start"]), date.fromisoformat(p["end"])) for p in stored]


def _reentered(before: list[tuple[date, date]], after: list[tuple[date, date]]) -> bool:
    """Whether a listed stretch appeared that overlaps none of the earlier ones."""
    return any(all(end < old_start or start > old_end for old_start, old_end in before) for start, end in after)


async def _refresh_watchlist(session: AsyncSession, targets: dict[str, set[str]], user: User) -> None:
    """Works out again, for each respondent (USCC) and each region given, the days it is on the
    region's watch list; a changed entry is written with its event (``entered`` when a new
    listed stretch begins)."""
    for uscc in sorted(targets):
        await _serialize_on(session, f"watchlist:{uscc}")
        query = select(Case).where(
            Case.respondent_uscc == uscc,
            Case.outcome.in_(sorted(domain.AGAINST_RESPONDENT)),
            Case.decided_date.is_not(None),
        )
        cases = sorted((await session.execute(query)).scalars(), key=lambda c: (c.decided_date, c.case_number))
        regions = targets[uscc]
        policies = await _policies(session, {code for region in regions for code in _chain(region)})
        for region in sorted(regions):
            scope = registry().descendants(region)
            mine = [c for c in cases if c.region in scope]
            periods = domain.listed_periods(
                [c.decided_date for c in mine], _years_on(policies, region), _window_change_days(policies, region)
            )
            entry = await session.get(WatchlistEntry, f"{region}:{uscc}")
            if entry is None and not periods:
                continue
            decisions = [
                contracts.WatchedDecision(
                    case_id=c.id,
                    case_number=c.case_number,
                    region=c.region,
                    type=c.case_type,
                    outcome=c.outcome,
                    decided_date=c.decided_date,
                ).model_dump(mode="json")
                for c in mine
            ]
            listed = [{"start": start.isoformat(), "end": end.isoformat()} for start, end in periods]
            if entry is not None and entry.decisions == decisions and entry.listed_periods == listed:
                continue
            if entry is None:  # listed: two decisions at least
                verb = "entered"
                entry = WatchlistEntry.new(
                    id=f"{region}:{uscc}",
                    region=region,
                    uscc=uscc,
                    respondent_name=mine[-1].respondent_name,
                    decisions=decisions,
                    listed_periods=listed,
                )
                session.add(entry)
            else:
                verb = "entered" if _reentered(_periods(entry.listed_periods), periods) else "updated"
                entry.respondent_name = mine[-1].respondent_name if mine else entry.respondent_name
                entry.decisions = decisions
                entry.listed_periods = listed
                entry.touch()
            _publish(session, "watchlist_entry", verb, watchlist_state(entry), user)


def _top_regions(user: User) -> set[str]:
    """Where a caller's watch list is read when no region is asked for: the regions of the
    token, or for an administrator the provinces (entries exist at every level above a case)."""
    if user.is_admin and not user.regions:
        return {r.code for r in registry().all() if r.parent is None}
    return {code for code in user.regions if code in registry()}


async def watchlist(
    session: AsyncSession, user: User, page: PageParams, region: str | None, as_of: date | None
) -> WatchlistPage:
    """The respondents listed on a day (default today): on the region's list, or on the lists of
    the caller's regions; in the order of the entries' ids."""
    as_of = as_of or today()
    regions = ({region} if user.sees(region) else set()) if region else _top_regions(user)
    query = select(WatchlistEntry).where(WatchlistEntry.region.in_(sorted(regions))).order_by(WatchlistEntry.id)
    if page.after:
        query = query.where(WatchlistEntry.id > str(page.after.get("id", "")))
    entries = list((await session.execute(query)).scalars())
    policies = await _policies(session, {code for e in entries for code in _chain(e.region)})
    items = []
    for entry in entries:
        period = next(((s, e) for s, e in _periods(entry.listed_periods) if s <= as_of <= e), None)
        if period is None:
            continue
        years = _window_in_force(policies, entry.region, as_of).value
        counting = set(domain.counting_decisions([_day(d["decided_date"]) for d in entry.decisions], as_of, years))
        cases = [
            WatchlistCase(**d, counts_until=domain.add_years(_day(d["decided_date"]), years))
            for d in entry.decisions
            if _day(d["decided_date"]) in counting
        ]
        items.append(
            WatchlistItem(
                id=entry.id,
                region=entry.region,
                uscc=entry.uscc,
                respondent_name=entry.respondent_name,
                window_years=years,
                listed_since=period[0],
                listed_until=period[1],
                cases=cases,
            )
        )
        if len(items) > page.limit:
            break
    items, next_cursor = next_page(items, page, lambda item: {"id": item.id})
    return WatchlistPage(as_of=as_of, items=items, next_cursor=next_cursor)


# ---------------------------------------------------------------- public disclosure


async def disclosed_cases(session: AsyncSession, page: PageParams, filters: DisclosureFilter) -> DisclosureList:
    """Decided cases of penalty and adjudication procedures, newest decision first, with natural
    persons' names masked and no identity card numbers."""
    query = select(Case).where(Case.decided_date.is_not(None), Case.procedure.in_(sorted(domain.DISCLOSED_PROCEDURES)))
    query = scoped(query, Case.region, None, filters.region)
    if filters.type is not None:
        query = query.where(Case.case_type == filters.type)
    query = _between(query, Case.decided_date, filters.from_, filters.to)
    rows, next_cursor = await keyset_page(session, query, page, Case.decided_date.desc(), Case.id.desc())
    return DisclosureList(items=[_disclosed(c) for c in rows], next_cursor=next_cursor)


def _disclosed(c: Case) -> DisclosedCase:
    return DisclosedCase(
        id=c.id,
        case_number=c.case_number,
        region=c.region,
        region_name=registry().get(c.region).name if c.region in registry() else c.region,
        type=c.case_type,
        procedure=c.procedure,
        respondent_kind=c.respondent_kind,
        respondent_name=domain.disclosed_name(c.respondent_kind, c.respondent_name),
        respondent_uscc=c.respondent_uscc if c.respondent_kind == "organization" else None,
        outcome=c.outcome,
        decided_date=c.decided_date,
        decision_number=c.decision_number,
        fine=from_fen(c.fine_fen or 0),
        confiscation=from_fen(c.confiscation_fen or 0),
        illegal_revenue=from_fen(c.illegal_revenue_fen or 0),
    )
