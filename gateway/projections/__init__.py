"""Projections: each service's events applied to the read model, dispatched by aggregate.

Every event carries the aggregate's full state, so applying one means: if it is newer than
what the read model holds, replace that aggregate's facts (and, for plans and reports, their
rows). Events of aggregates the gateway does not count are acknowledged and skipped.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.facts import FACTS_OF
from gateway.readmodel import claim_version, replace_facts
from zhichan.events.envelope import Envelope


async def apply_event(session: AsyncSession, envelope: Envelope) -> None:
    to_facts = FACTS_OF.get((envelope.service, envelope.aggregate))
    if to_facts is None:
        return
    key = f"{envelope.service}/{envelope.aggregate}/{envelope.aggregate_id}"
    if not await claim_version(session, key, envelope.aggregateversion):
        return
    await replace_facts(session, key, to_facts(envelope.data))
