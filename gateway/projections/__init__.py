"""Projections: each service's events applied to the read model, dispatched by aggregate.

Every event carries the aggregate's full state, so applying one means: if it is newer than
what the read model holds, replace that aggregate's facts (or, for plans and reports, their
rows). Events of aggregates the gateway does not keep are acknowledged and skipped.
Statistic releases are records of their own, like reports: each kept once, by its id (a revision
is another release), so replaying them again changes nothing.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.facts import FACTS_OF
from gateway.models import PlanView, RecentEvent, ReportView, StatisticDefinitionView, StatisticReleaseView
from gateway.readmodel import apply_states, claim_version
from gateway.viewcache import mark_changed
from services.targets.contracts import PlanState, ProgressReportState, StatisticDefinitionState, StatisticReleaseState
from zhichan import region_sync
from zhichan.db import insert_at_commit
from zhichan.events.envelope import Envelope
from zhichan.observability import traceparent_var

# The targets service's aggregates the read model keeps, each in rows of its own.
TARGETS_AGGREGATES = ("plan", "progress_report", "statistic", "statistic_release")


async def apply_event(session: AsyncSession, envelope: Envelope) -> None:
    """Applies one event to the read model. The recent events are its callers' to write, once for
    many events (:func:`apply_events`, the replay)."""
    if not is_kept(envelope):
        return
    mark_changed(session)  # views cached before this event are stale once it commits
    key = f"{envelope.service}/{envelope.aggregate}/{envelope.aggregate_id}"
    if envelope.type == region_sync.REGION_DEFINED:
        await region_sync.apply_region_event(session, envelope)
    elif (envelope.service, envelope.aggregate) == ("targets", "plan"):
        if await claim_version(session, key, envelope.aggregateversion):
            await _store_plan(session, envelope.data)
    elif (envelope.service, envelope.aggregate) == ("targets", "progress_report"):
        if await claim_version(session, key, envelope.aggregateversion):
            await _store_report(session, envelope.data)
    elif (envelope.service, envelope.aggregate) == ("targets", "statistic"):
        if await claim_version(session, key, envelope.aggregateversion):
            await _store_statistic(session, envelope.data)
    elif (envelope.service, envelope.aggregate) == ("targets", "statistic_release"):
        await _store_release(session, envelope.data)
    else:
        facts = FACTS_OF[(envelope.service, envelope.aggregate)](envelope.data)
        await apply_states(session, [(key, envelope.aggregateversion, facts)])


async def apply_events(session: AsyncSession, envelopes: list[Envelope]) -> None:
    """The live consumer's projection: the events of one fetch, as if applied one after the
    other, with each table written once for the lot rather than once per event (the event
    lag under load was the gateway's statements per event, measured by bench/lag.py)."""
    newest: dict[str, tuple[int, Envelope]] = {}
    for envelope in envelopes:
        if (envelope.service, envelope.aggregate) not in FACTS_OF:  # regions, plans, reports, statistics: few
            traceparent_var.set(envelope.traceparent)  # logs of the projection carry the writer's trace
            await apply_event(session, envelope)
            continue
        # Only the newest state of an aggregate matters (the first of equal versions, as
        # apply_states keeps): the others' facts are never computed, as in a replay.
        key = f"{envelope.service}/{envelope.aggregate}/{envelope.aggregate_id}"
        held = newest.get(key)
        if held is None or envelope.aggregateversion > held[0]:
            newest[key] = (envelope.aggregateversion, envelope)
    if newest:
        mark_changed(session)  # as apply_event does: views cached before these are stale
        # Facts of different aggregates are independent, and of one aggregate the newest version
        # wins whatever the order: applying them after the other events changes nothing.
        await apply_states(
            session,
            [
                (key, version, FACTS_OF[(envelope.service, envelope.aggregate)](envelope.data))
                for key, (version, envelope) in newest.items()
            ],
        )
    kept = [(e.id, e.type, e.subject, e.region, e.time) for e in envelopes if is_kept(e)]
    # An event applied again after the inbox let go of its id may find its row (gateway.retention).
    columns = ("event_id", "type", "subject", "region", "time")
    insert_at_commit(session, RecentEvent.__table__, columns, kept, "ON CONFLICT DO NOTHING")


def recent_event(envelope: Envelope) -> RecentEvent:
    return RecentEvent(
        event_id=envelope.id, type=envelope.type, subject=envelope.subject, region=envelope.region, time=envelope.time
    )


def is_kept(envelope: Envelope) -> bool:
    """Whether the read model keeps anything of this event (others are acknowledged only)."""
    return kept_type(envelope.type, envelope.service, envelope.aggregate)


def kept_type(event_type: str, service: str, aggregate: str) -> bool:
    """:func:`is_kept` from an event's type and its service and aggregate parts."""
    return (
        event_type == region_sync.REGION_DEFINED
        or (service == "targets" and aggregate in TARGETS_AGGREGATES)
        or (service, aggregate) in FACTS_OF
    )


async def _store_plan(session: AsyncSession, data: dict) -> None:
    plan = PlanState.model_validate(data)
    row = await session.get(PlanView, plan.key)
    if row is None:
        row = PlanView(
            key=plan.key,
            region=plan.region,
            title=plan.title,
            status=plan.status,
            start=plan.start,
            end=plan.end,
            version=plan.version,
            state=data,
        )
        session.add(row)
    row.region, row.title, row.status, row.start, row.end = plan.region, plan.title, plan.status, plan.start, plan.end
    row.version, row.state = plan.version, data


async def _store_report(session: AsyncSession, data: dict) -> None:
    report = ProgressReportState.model_validate(data)
    row = await session.get(ReportView, report.id)
    if row is not None:
        # a newer version of a report changes its review only: the value is never changed
        row.review = report.review
    else:
        session.add(
            ReportView(
                id=report.id,
                plan=report.plan,
                indicator=report.indicator,
                region=report.region,
                as_of=report.as_of,
                value=str(report.value),
                department=report.department,
                supersedes=report.supersedes,
                created_at=report.created_at,
                review=report.review,
            )
        )


async def _store_statistic(session: AsyncSession, data: dict) -> None:
    definition = StatisticDefinitionState.model_validate(data)
    row = await session.get(StatisticDefinitionView, definition.code)
    if row is None:
        row = StatisticDefinitionView(code=definition.code)
        session.add(row)
    row.name, row.unit, row.kind = definition.name, definition.unit, definition.kind
    row.additive, row.description, row.version = definition.additive, definition.description, definition.version


async def _store_release(session: AsyncSession, data: dict) -> None:
    release = StatisticReleaseState.model_validate(data)
    if await session.get(StatisticReleaseView, release.id) is None:
        session.add(
            StatisticReleaseView(
                id=release.id,
                statistic=release.statistic,
                region=release.region,
                period_kind=release.period_kind,
                period_start=release.period_start,
                period_end=release.period_end,
                value=str(release.value),
                unit=release.unit,
                published_on=release.published_on,
                revises=release.revises,
                created_at=release.created_at,
            )
        )
