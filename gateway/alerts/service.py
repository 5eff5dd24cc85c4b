"""Alerts kept, raised, listed and acknowledged.

:func:`schedule` runs in the transaction that applies a fetch of events (the inbox applies each
once): each record's plan (:mod:`gateway.alerts.rules`) replaces what its earlier state planned
and has not been raised. :func:`raise_due` raises those whose day has come, each with its event
in the same transaction (the kernel's outbox: published at least once, and only if it commits)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date

from pydantic import ValidationError
from sqlalchemy import bindparam, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import views
from gateway.alerts import contracts, rules
from gateway.alerts.contracts import AlertState
from gateway.alerts.models import Alert, IndicatorStatusSeen, RoundSubmissionSeen
from gateway.models import PlanView
from zhichan.api.pagination import PageParams, keyset_page
from zhichan.api.problems import NotFound
from zhichan.api.scope import scoped
from zhichan.auth import User
from zhichan.clock import utcnow
from zhichan.db import insert_at_commit
from zhichan.events import record_event
from zhichan.events.envelope import Envelope
from zhichan.ids import new_id

log = logging.getLogger("zhichan.gateway.alerts")
SCHEDULED, RAISED, CANCELLED = "scheduled", "raised", "cancelled"
RAISE_BATCH = 500
# The columns' lengths (gateway.alerts.models.Alert).
RECORD_LENGTH, CAUSE_LENGTH, TITLE_LENGTH = 200, 300, 500


def _shortened(title: str) -> str:
    """A title within its column: a task's title alone may hold 1,000 characters."""
    return title if len(title) <= TITLE_LENGTH else title[: TITLE_LENGTH - 1] + "…"


def state_of(alert: Alert) -> AlertState:
    return AlertState.model_validate(alert, from_attributes=True)


# Read and written as table rows, not ORM objects: a fetch of a backlog plans alerts for thousands
# of records, and building, flushing and loading them through the ORM was most of the consumer's
# time while it caught up (bench/catchup.py).
ALERTS = Alert.__table__
_KEPT = select(ALERTS.c.id, ALERTS.c.record, ALERTS.c.cause, ALERTS.c.status, ALERTS.c.record_version).where(
    ALERTS.c.record.in_(bindparam("records", expanding=True))
)
_CHANGE = (
    update(ALERTS)
    .where(ALERTS.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        record_version=bindparam("b_record_version"),
        # A new status is a new version, updated now (as Stamped.touch); a new record_version alone is not.
        version=ALERTS.c.version + bindparam("b_changes"),
        updated_at=case((bindparam("b_changes") == 1, bindparam("b_updated_at")), else_=ALERTS.c.updated_at),
    )
)
_NEW_COLUMNS = (
    "id", "cause", "kind", "record", "record_version", "region", "title", "link", "responsible", "due_date",
    "raise_on", "status", "version", "created_at", "updated_at",
)  # fmt: skip
RECORDS_PER_SELECT = 5_000


def newest_per_aggregate(envelopes: list[Envelope]) -> list[Envelope]:
    """Each aggregate's newest event of ``envelopes`` (the later of equal versions), in the order
    they came: an event carries its record's whole state, so the newest says all there is to plan."""
    newest: dict[tuple[str, str, str], int] = {}
    for n, envelope in enumerate(envelopes):
        key = (envelope.service, envelope.aggregate, envelope.aggregate_id)
        held = newest.get(key)
        if held is None or envelope.aggregateversion >= envelopes[held].aggregateversion:
            newest[key] = n
    return [envelopes[n] for n in sorted(newest.values())]


async def schedule(session: AsyncSession, envelopes: list[Envelope], due_soon_days: int) -> None:
    plans = []
    for envelope in newest_per_aggregate([e for e in envelopes if rules.concerns(e)]):
        try:
            plans += rules.planned(envelope, due_soon_days)
        except ValidationError:  # a payload the contract no longer reads loses its alerts, not the read model
            log.warning(
                "no alerts from event %s (%s): its payload does not fit the contract", envelope.id, envelope.type
            )
    reported = await _note_round_submissions(session, envelopes)
    if not plans:
        return
    newest: dict[str, rules.RecordAlerts] = {}
    for plan in plans:  # a fetch may hold several states of a record: the newest plans
        if plan.record not in newest or plan.version >= newest[plan.record].version:
            newest[plan.record] = plan
    reported |= await _reported_rounds(session, list(newest))
    for record in reported & set(newest):  # a department's report in a round arrived: nothing to alert
        newest[record] = replace(newest[record], alerts=())
    kept: dict[str, list] = {}
    records = list(newest)
    for start in range(0, len(records), RECORDS_PER_SELECT):
        rows = await session.execute(_KEPT, {"records": records[start : start + RECORDS_PER_SELECT]})
        for row in rows:
            kept.setdefault(row.record, []).append(row)
    now = utcnow()
    changes, new_rows = [], []
    for record, plan in newest.items():
        alerts = kept.get(record, [])
        if any(a.record_version > plan.version for a in alerts):
            continue  # an older state arriving after a newer one
        wanted = {p.cause: p for p in plan.alerts}
        for alert in alerts:
            status = alert.status
            if status == SCHEDULED and alert.cause not in wanted:
                status = CANCELLED
            elif status == CANCELLED and alert.cause in wanted:  # due again (a case reopened …)
                status = SCHEDULED
            if status != alert.status or alert.record_version != plan.version:
                changes.append(
                    {
                        "b_id": alert.id,
                        "b_status": status,
                        "b_record_version": plan.version,
                        "b_changes": int(status != alert.status),
                        "b_updated_at": now,
                    }
                )
        known = {a.cause for a in alerts}
        new_rows += [
            _new_row(plan, planned, now)
            for planned in plan.alerts
            if planned.cause not in known and _fits(plan.record, planned)
        ]
    if changes:
        await session.execute(_CHANGE, changes)
    insert_at_commit(session, ALERTS, _NEW_COLUMNS, new_rows)


async def _note_round_submissions(session: AsyncSession, envelopes: list[Envelope]) -> set[str]:
    """Keeps each department's first report in a round, and cancels the round's alerts for it
    not yet raised; answers their records."""
    reported = {
        (e.data["plan"], e.data["round"], e.data["department"])
        for e in envelopes
        if (e.service, e.aggregate) == ("targets", "round_submission")
    }
    records = set()
    for plan, label, department in reported:
        record = rules.round_record(plan, label, department)
        records.add(record)
        if await session.get(RoundSubmissionSeen, (plan, label, department)) is None:
            session.add(RoundSubmissionSeen(plan=plan, round=label, department=department))
        query = select(Alert).where(Alert.record == record, Alert.status == SCHEDULED)
        for alert in (await session.execute(query)).scalars():
            alert.status = CANCELLED
            alert.touch()
    return records


async def _reported_rounds(session: AsyncSession, records: list[str]) -> set[str]:
    """Of these records, the rounds' reports that arrived already."""
    plans = {record.split("/")[2] for record in records if "/rounds/" in record}
    if not plans:
        return set()
    query = select(RoundSubmissionSeen).where(RoundSubmissionSeen.plan.in_(sorted(plans)))
    return {rules.round_record(s.plan, s.round, s.department) for s in (await session.execute(query)).scalars()}


def _fits(record: str, planned: rules.PlannedAlert) -> bool:
    """Whether the alert's keys fit their columns: names from a plan file (a department, a key) can
    be long, and one that does not fit must not stop the events being applied."""
    if len(record) <= RECORD_LENGTH and len(planned.cause) <= CAUSE_LENGTH:
        return True
    log.warning("no alert %s: its record or cause is longer than its column", planned.kind)
    return False


def _new_row(plan: rules.RecordAlerts, planned: rules.PlannedAlert, now) -> tuple:
    return (
        new_id(),
        planned.cause,
        planned.kind,
        plan.record,
        plan.version,
        plan.region,
        _shortened(planned.title),
        planned.link,
        list(planned.responsible),
        planned.due_date,
        planned.raise_on,
        SCHEDULED,
        1,
        now,
        now,
    )


async def raise_due(session: AsyncSession, today: date) -> int:
    """Raises the alerts scheduled for ``today`` or before (at most a batch), each with its event;
    a "due soon" whose deadline has already passed is cancelled instead, its "overdue" says more.
    Answers how many were raised; the caller commits."""
    query = (
        select(Alert)
        .where(Alert.status == SCHEDULED, Alert.raise_on <= today)
        .order_by(Alert.raise_on, Alert.id)
        .limit(RAISE_BATCH)
        .with_for_update(skip_locked=True)  # PostgreSQL: gateways share the work
    )
    raised = 0
    for alert in (await session.execute(query)).scalars():
        if alert.kind.endswith("_due_soon") and alert.due_date is not None and alert.due_date < today:
            alert.status = CANCELLED
            alert.touch()
            continue
        alert.status, alert.raised_on = RAISED, today
        alert.touch()
        _publish(session, alert, "raised", None)
        raised += 1
    return raised


# How far each verdict is from the goal: a status further on than the one seen last is worse.
# Not started and no data say nothing of progress and are left out.
SEVERITY = {"achieved": 1, "on_track": 1, "at_risk": 2, "behind": 3}
STATUS_LABELS = {"achieved": "已完成", "on_track": "进展顺利", "at_risk": "存在风险", "behind": "滞后"}


async def check_indicators(session: AsyncSession, today: date) -> int:
    """Computes every active plan's view for ``today`` and raises ``indicator_worsened`` for each
    indicator whose status is worse than when last looked; answers how many. The caller commits."""
    seen = {(s.plan, s.indicator): s for s in (await session.execute(select(IndicatorStatusSeen))).scalars()}
    plans = (await session.execute(select(PlanView).where(PlanView.status == "active"))).scalars().all()
    raised = 0
    for plan in plans:
        view = await views.plan_progress(views.ViewReads(session), plan, today)
        for indicator in view["indicators"]:
            status, before = indicator["status"], seen.get((plan.key, indicator["key"]))
            if before is None:
                session.add(IndicatorStatusSeen(plan=plan.key, indicator=indicator["key"], status=status, as_of=today))
                continue
            if SEVERITY.get(status, 0) > SEVERITY.get(before.status, 99):
                raised += _raise_worsened(session, plan, indicator, before.status, today)
            if status in SEVERITY and status != before.status:
                before.status, before.as_of = status, today
    return raised


def _raise_worsened(session: AsyncSession, plan: PlanView, indicator: dict, was: str, today: date) -> int:
    record = f"targets/plan/{plan.state['id']}/indicators/{indicator['key']}"
    now = indicator["status"]
    alert = Alert.new(
        id=new_id(),
        cause=f"indicator_worsened:{record}:{was}->{now}:{today.isoformat()}",
        kind="indicator_worsened",
        record=record,
        record_version=plan.version,
        region=plan.region,
        title=_shortened(f"指标「{indicator['name']}」由{STATUS_LABELS[was]}变为{STATUS_LABELS[now]}（{plan.title}）"),
        link=f"/api/progress/plans/{plan.key}",
        responsible=list(indicator["responsible"]),
        due_date=None,
        raise_on=today,
        status=RAISED,
        raised_on=today,
    )
    session.add(alert)
    _publish(session, alert, "raised", None)
    return 1


def _publish(session: AsyncSession, alert: Alert, verb: str, actor: str | None) -> None:
    record_event(
        session,
        service=contracts.SERVICE,
        aggregate="alert",
        verb=verb,
        aggregate_id=alert.id,
        region=alert.region,
        version=alert.version,
        data=state_of(alert),
        actor=actor,
    )


async def listed(
    session: AsyncSession,
    user: User,
    page: PageParams,
    *,
    region: str | None,
    kind: str | None,
    acknowledged: bool | None,
) -> tuple[list[AlertState], str | None]:
    """The alerts raised in the caller's regions (of ``region``, when asked), the newest first; a
    department's user sees those its department is responsible for."""
    query = scoped(select(Alert).where(Alert.status == RAISED), Alert.region, user, region)
    if kind is not None:
        query = query.where(Alert.kind == kind)
    if acknowledged is not None:
        query = query.where(Alert.acknowledged_at.is_not(None) if acknowledged else Alert.acknowledged_at.is_(None))
    rows, cursor = await keyset_page(session, query, page, Alert.raised_on.desc(), Alert.id.desc())
    if user.department and not user.has_any_role(("officer", "admin")):
        # Filtered here, as JSON lists are searched differently on each database: a page may be short.
        rows = [alert for alert in rows if user.department in alert.responsible]
    return [state_of(alert) for alert in rows], cursor


async def acknowledge(session: AsyncSession, alert_id: str, user: User) -> AlertState:
    """Marks the alert seen and being dealt with (its event ``acknowledged``); acknowledging it
    again changes nothing."""
    alert = await session.get(Alert, alert_id, with_for_update=True)
    if alert is None or alert.status != RAISED or not user.sees(alert.region):
        raise NotFound(f"no alert {alert_id}")
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = utcnow(), user.sub
        alert.touch()
        _publish(session, alert, "acknowledged", user.sub)
        await session.commit()
    return state_of(alert)
