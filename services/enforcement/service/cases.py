"""Cases (案件): filing with the deadline rule in force, the steps of the lifecycle, one case and
the list. A case's use cases return its state and, beside it, what only officers see whole: the
parties' identity card numbers (masked for other readers) and a complainant's name."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.enforcement import contracts, domain
from services.enforcement.domain import CaseFile
from services.enforcement.models import Campaign, Case, RegionPolicy
from services.enforcement.schemas import CaseCreate, CaseFilter, StepIn
from services.enforcement.service import watchlist
from services.enforcement.service._common import between, from_iso, publish, to_iso
from services.enforcement.service._in_force import (
    chain_of,
    policies_of,
    rule_in_force,
    rule_of,
    rule_snapshot,
    rule_source,
)
from zhichan.api.etag import check_if_match
from zhichan.api.pagination import PageParams, keyset_page
from zhichan.api.problems import Conflict, Invalid
from zhichan.api.scope import get_visible, scoped
from zhichan.auth import User, require_write_access
from zhichan.clock import today, utcnow
from zhichan.db import commit_or_conflict, state_of
from zhichan.money import from_fen, to_fen
from zhichan.personal import mask_id_number, mask_name, shown
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
# A case as a reader is answered: its state, and beside it its parties' personal data.
Identified = tuple[contracts.CaseState, dict[str, str | None]]


def case_file(case: Case) -> CaseFile:
    """The domain's view of a stored case."""
    extension = case.extension
    return CaseFile(
        procedure=case.procedure,
        filed=case.filed_date,
        rule=rule_of(case.deadline_rule),
        rule_source=rule_source(case.deadline_rule),
        status=case.status,
        last_step_on=date.fromisoformat(case.timeline[-1]["date"]),
        extension=domain.Extension(
            date.fromisoformat(extension["granted_on"]), extension["approver"], extension["reason"]
        )
        if extension
        else None,
        suspensions=tuple(
            domain.Suspension(date.fromisoformat(s["start"]), from_iso(s["end"]), s["reason"]) for s in case.suspensions
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


def _lifecycle(cf: CaseFile) -> dict[str, Any]:
    """What the domain decided, as the row's columns (with those lists filter on); a decision's
    and a transfer's once there are any."""
    columns: dict[str, Any] = {
        "status": cf.status,
        "extension": {
            "granted_on": cf.extension.granted_on.isoformat(),
            "approver": cf.extension.approver,
            "reason": cf.extension.reason,
        }
        if cf.extension
        else None,
        "suspensions": [
            {"start": s.start.isoformat(), "end": to_iso(s.end), "reason": s.reason} for s in cf.suspensions
        ],
        "due_date": cf.due_date,
        "overdue_since": cf.overdue_since,
    }
    if cf.decision is not None:
        columns |= {
            "outcome": cf.decision.outcome,
            "decided_date": cf.decision.decided_on,
            "decision_number": cf.decision.decision_number,
            "fine_fen": to_fen(cf.decision.fine),
            "confiscation_fen": to_fen(cf.decision.confiscation),
            "illegal_revenue_fen": to_fen(cf.decision.illegal_revenue),
        }
    if cf.transfer is not None:
        columns["transfer"] = {
            "to": cf.transfer.to,
            "receiving_body": cf.transfer.receiving_body,
            "transferred_on": cf.transfer.transferred_on.isoformat(),
        }
    columns |= {"closed_date": cf.ended_on, "closed_on_time": cf.closed_on_time}
    return columns


def _store_lifecycle(case: Case, cf: CaseFile) -> None:
    """Writes what the domain decided back onto the row. Only the columns that changed are set:
    setting a table model's attribute is SQLModel's and SQLAlchemy's bookkeeping each time, and
    an equal value changes nothing the UPDATE writes (SQLAlchemy compares them)."""
    for name, value in _lifecycle(cf).items():
        if getattr(case, name) != value:
            setattr(case, name, value)


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
        decision=state_of(contracts.DecisionState, decision, decided_date=decision.decided_on) if decision else None,
    )


def personal_data(case: Case, user: User) -> dict[str, str | None]:
    """What a reader sees beside a case's state: its parties' identity card numbers, which no
    event carries, and the complainant's name unless it is an organization's — whole for an
    officer, masked for an auditor or a department (:mod:`zhichan.personal`)."""
    complainant = case.complainant or {}
    shown_data = {
        "respondent_id_number": shown(user, case.respondent_id_number, mask_id_number),
        "complainant_id_number": shown(user, complainant.get("id_number"), mask_id_number),
    }
    if complainant and complainant["kind"] != "organization":  # a person, or not said
        shown_data["complainant_name"] = shown(user, complainant["name"], mask_name)
    return shown_data


def _with_personal_data(case: Case, user: User) -> Identified:
    return case_state(case), personal_data(case, user)


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


async def check_campaign(session: AsyncSession, campaign_id: str, region: str, filed: date, user: User) -> None:
    """That a case of ``region`` filed on ``filed`` may name the campaign: it covers both (422)."""
    campaign = await session.get(Campaign, campaign_id)
    covers = campaign is not None and registry().contains(campaign.region, region)
    # A campaign that covers the case's region is the caller's to name (a province's, for a city's
    # officer); one of a region the caller does not see, and that does not cover it, does not exist.
    if campaign is None or not (covers or user.sees(campaign.region)):
        raise Invalid.field(["campaign_id"], f"no campaign {campaign_id}")
    if not covers:
        raise Invalid.field(
            ["campaign_id"], f"campaign {campaign.name} of region {campaign.region} does not cover {region}"
        )
    if not campaign.start_date <= filed <= campaign.end_date:
        raise Invalid.field(
            ["campaign_id"],
            f"filed on {filed.isoformat()}, outside the campaign's period"
            f" {campaign.start_date.isoformat()}–{campaign.end_date.isoformat()}",
        )


DOMAIN_REFUSALS = (domain.TransitionNotAllowed, domain.StepRefused, domain.InvalidStep)


def domain_problem(exc: Exception, status: str, action: str) -> Exception:
    """The answer to a step the domain refused, for a case that is ``status``."""
    if isinstance(exc, domain.TransitionNotAllowed):
        return Conflict(str(exc), current_status=exc.status, action=exc.action)
    if isinstance(exc, domain.StepRefused):
        return Conflict(str(exc), current_status=status, action=action)
    assert isinstance(exc, domain.InvalidStep)
    return Invalid.field([exc.loc], str(exc))


async def open_case(
    session: AsyncSession, data: CaseCreate, user: User, policies: dict[str, RegionPolicy] | None = None
) -> Case:
    """A new case, filed under the deadline rule in force on its filing date, in the session with
    its ``filed`` event; not committed. ``policies``: those of the region and its ancestors, when
    the caller read them already (an import reads them once for all its cases)."""
    require_write_access(user, data.region)
    filed = data.filed_date or today()
    if policies is None:
        policies = await policies_of(session, chain_of(data.region))
    rule = rule_snapshot(rule_in_force(policies, data.region, data.procedure, filed))
    try:
        cf = domain.new_case(data.procedure, filed, rule_of(rule), rule_source(rule), today())
    except domain.InvalidStep as exc:
        raise Invalid.field([exc.loc], str(exc)) from None
    if data.origin == "campaign" and not data.campaign_id:
        raise Invalid.field(["campaign_id"], "a case that comes from a campaign names the campaign")
    if data.campaign_id:
        await check_campaign(session, data.campaign_id, data.region, filed, user)
    # The lifecycle's columns given at once, not set after: each attribute set costs (see _store_lifecycle).
    case = Case.new(
        **data.model_dump(include=set(CaseCreate.model_fields) - NOT_COLUMNS),
        **_parties(data),
        **_lifecycle(cf),
        case_type=data.type,
        filed_date=filed,
        deadline_rule=rule,
        timeline=[_step("file", "filed", filed, user, None, {})],
    )
    session.add(case)
    publish(session, "case", "filed", case_state(case), user)
    return case


# CaseCreate's fields that are not columns of the same name (the parties are spread, the type renamed).
NOT_COLUMNS = frozenset({"type", "respondent", "complainant", "filed_date"})


def _parties(data: CaseCreate) -> dict[str, Any]:
    respondent = {f"respondent_{field}": value for field, value in data.respondent.model_dump().items()}
    return {**respondent, "complainant": data.complainant.model_dump() if data.complainant else None}


async def file_case(session: AsyncSession, data: CaseCreate, user: User) -> Identified:
    case = await open_case(session, data, user)
    await commit_or_conflict(session, f"case number {data.case_number} is already used in region {data.region}")
    return _with_personal_data(case, user)


async def get_case(session: AsyncSession, case_id: str, user: User) -> Identified:
    return _with_personal_data(await get_visible(session, Case, case_id, user, "case"), user)


def recorded_details(details: dict[str, Any]) -> dict[str, Any]:
    """What a step's timeline entry keeps of its details: those given, money as text, the reason
    apart (the entry has a field of its own for it)."""
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in details.items() if k != "reason" and v is not None}


def take_step(
    session: AsyncSession, case: Case, action: str, on: date, details: dict[str, Any], reason: str | None, user: User
) -> CaseFile:
    """One step of a case's lifecycle on the business date ``on``, with its event, in the
    session; the domain's refusal is raised as it is (:func:`domain_problem` makes it an answer)."""
    after = case_file(case).apply(action, on, today(), **details)
    case.timeline = [*case.timeline, _step(action, after.status, on, user, reason, recorded_details(details))]
    _store_lifecycle(case, after)
    case.touch()
    publish(session, "case", VERB_OF_ACTION[action], case_state(case), user)
    return after


async def transition(
    session: AsyncSession, case_id: str, action: str, body: StepIn, user: User, if_match: str | None = None
) -> Identified:
    case = await get_visible(session, Case, case_id, user, "case", for_update=True)
    require_write_access(user, case.region)
    if if_match:  # optional: a step is refused anyway when the case moved on to another status
        check_if_match(if_match, case.id, case.version)
    details = {name: getattr(body, name) for name in STEP_FIELDS.get(action, ())}
    try:
        after = take_step(session, case, action, body.date or today(), details, body.reason, user)
    except DOMAIN_REFUSALS as exc:
        raise domain_problem(exc, case.status, action) from None
    if after.decision is not None and after.decision.against_respondent and case.respondent_uscc:
        await watchlist.refresh(session, {case.respondent_uscc: set(chain_of(case.region))}, user)
    await session.commit()
    return _with_personal_data(case, user)


async def list_cases(
    session: AsyncSession, user: User, page: PageParams, filters: CaseFilter
) -> tuple[tuple[list[contracts.CaseState], str | None], dict[str, dict]]:
    """A page of cases, and each one's personal data (:func:`personal_data`) by its id."""
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
    query = between(query, Case.filed_date, filters.filed_from, filters.filed_to)
    query = between(query, Case.closed_date, filters.closed_from, filters.closed_to)
    if filters.overdue is not None:
        overdue_now = and_(Case.overdue_since.is_not(None), Case.overdue_since <= today())
        query = query.where(overdue_now if filters.overdue else ~overdue_now)
    rows, next_cursor = await keyset_page(session, query, page, Case.id)
    return ([case_state(c) for c in rows], next_cursor), {c.id: personal_data(c, user) for c in rows}
