"""What the gateway lets go of: the inbox's old event ids (``GATEWAY_INBOX_RETENTION_DAYS``, see
:mod:`zhichan.events.retention` for why that is safe) and the recent events beyond the newest
``GATEWAY_RECENT_EVENTS_PER_REGION`` of each region, pruned every ``GATEWAY_PRUNE_INTERVAL_SECONDS``
by a task of the gateway process, a small transaction at a time.

The recent events are what the region overview lists: a region's 20 newest, its descendants'
included. The newest N ≥ 20 of each region are enough for any union of regions, so the rest can
go. An event delivered again after its inbox row was pruned adds its row back (or finds it there:
the insert skips an id it holds); the row is older than its region's newest N, so it is not among
what the overview shows, and the next prune takes it away again.

Nothing else the events made is pruned here: the read model's states, reports and releases are
what the views compute from, and the alerts and webhook deliveries are records of their own.
"""

from __future__ import annotations

from sqlalchemy import and_, delete, func, or_, select

from gateway.models import RecentEvent
from gateway.settings import GatewaySettings
from zhichan.db import SessionFactory, reads_only
from zhichan.events.retention import PRUNE_BATCH, PruneJob, Pruner, delete_in_batches, inbox_job

_RECENT = RecentEvent.__table__
_ID, _REGION, _TIME = _RECENT.c.event_id, _RECENT.c.region, _RECENT.c.time


async def prune_recent_events(session_factory: SessionFactory, per_region: int, *, batch: int = PRUNE_BATCH) -> int:
    """Keeps the newest ``per_region`` events of each region (by time, then event id, as the replay
    ranks them); answers how many were deleted."""
    async with session_factory() as session:
        await reads_only(session)
        crowded = (await session.execute(select(_REGION).group_by(_REGION).having(func.count() > per_region))).scalars()
        # The oldest event kept in each crowded region: everything older goes.
        last_kept = {}
        for region in list(crowded):
            row = (
                await session.execute(
                    select(_TIME, _ID)
                    .where(_REGION == region)
                    .order_by(_TIME.desc(), _ID.desc())
                    .offset(per_region - 1)
                    .limit(1)
                )
            ).one()
            last_kept[region] = (row.time, row.event_id)
    deleted = 0
    for region, (time, event_id) in last_kept.items():
        older = and_(_REGION == region, or_(_TIME < time, and_(_TIME == time, _ID < event_id)))

        def one_batch(size: int, older=older):
            return delete(_RECENT).where(_ID.in_(select(_ID).where(older).limit(size)))

        deleted += await delete_in_batches(session_factory, one_batch, batch)
    return deleted


def gateway_pruner(session_factory: SessionFactory, settings: GatewaySettings) -> Pruner:
    """The gateway process's prune task: its inbox, then its recent events."""
    per_region = settings.recent_events_per_region
    return Pruner(
        [
            inbox_job(session_factory, settings.inbox_retention_days),
            PruneJob("recent_event", lambda: prune_recent_events(session_factory, per_region)),
        ],
        settings.prune_interval_seconds,
    )
