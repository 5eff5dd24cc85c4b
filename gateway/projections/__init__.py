"""Projections: each service's events applied to the read model, dispatched by event type.

A projection receives the envelope and the session of the consumer's transaction; it upserts by
aggregate id and ignores anything not newer than the version it holds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.projections import agencies
from zhichan.events.envelope import Envelope

Projection = Callable[[AsyncSession, Envelope], Awaitable[None]]

# (service, aggregate) → projection. Events of other aggregates are acknowledged and skipped.
PROJECTIONS: dict[tuple[str, str], Projection] = {
    ("agencies", "agency"): agencies.apply_agency,
}


async def apply_event(session: AsyncSession, envelope: Envelope) -> None:
    projection = PROJECTIONS.get((envelope.service, envelope.aggregate))
    if projection is not None:
        await projection(session, envelope)
