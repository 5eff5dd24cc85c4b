"""Custom regions (development zones such as ``321100-ETDZ``) made valid in every process.

The targets service defines them and publishes ``zhichan.targets.region.defined.v1`` with the
region's full state. Any other process keeps them in its own ``custom_region`` table and in
:func:`zhichan.regions.registry` with :class:`RegionSync`, which consumes the targets topic::

    sync = RegionSync("enforcement")
    create_service_app(..., on_startup=[sync.start], on_shutdown=[sync.stop])

and one migration of that service creates the tables it writes::

    migration_ops.create_consumer_tables()   # inbox, consumer positions
    region_sync.create_custom_region_table()

At start the persisted regions are registered before the consumer runs, so a region known once
stays known even when the broker has forgotten its event. The payload model lives here, not in
the targets service, because regions are a kernel concept every service reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import Column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from zhichan.db import SessionFactory, UTCDateTime
from zhichan.events.consumer import EventConsumer, each
from zhichan.events.envelope import Envelope, event_type, topic_of
from zhichan.events.retention import Pruner, inbox_job
from zhichan.regions import RegionRegistry, registry
from zhichan.settings import process_settings

REGION_DEFINED = event_type("targets", "region", "defined")
TARGETS_TOPIC = topic_of("targets")


class RegionState(BaseModel):
    """A custom region's full state, as the targets service defined it."""

    code: str
    name: str
    level: str
    parent: str | None
    version: int
    defined_at: datetime


class CustomRegion(SQLModel, table=True):
    """Custom regions this process knows. In targets it is the record; elsewhere a replica."""

    __tablename__ = "custom_region"

    code: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=100)
    level: str = Field(max_length=20)
    parent: str | None = Field(default=None, max_length=32, index=True)
    version: int = 1
    defined_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))

    def state(self) -> RegionState:
        return RegionState.model_validate(self, from_attributes=True)


def register_all(states: Iterable[RegionState | CustomRegion], regions: RegionRegistry | None = None) -> list[str]:
    """Registers regions parents first, whatever order they come in; returns the codes whose
    parent is still unknown (they are registered when it arrives)."""
    regions = regions or registry()
    pending = {s.code: s for s in states}
    progress = True
    while pending and progress:
        progress = False
        for code, state in list(pending.items()):
            if state.parent is None or state.parent in regions:
                if not _same(regions, state):
                    regions.add(state.code, state.name, state.level, state.parent)
                del pending[code]
                progress = True
    return sorted(pending)


def _same(regions: RegionRegistry, state: RegionState | CustomRegion) -> bool:
    if state.code not in regions:
        return False
    known = regions.get(state.code)
    return (known.name, known.level, known.parent) == (state.name, state.level, state.parent)


async def load_persisted(session: AsyncSession, regions: RegionRegistry | None = None) -> list[str]:
    """Registers every region of the ``custom_region`` table; returns the orphans' codes."""
    rows = (await session.execute(select(CustomRegion))).scalars().all()
    return register_all(rows, regions)


async def store(session: AsyncSession, state: RegionState) -> bool:
    """Upserts the region unless what is stored is as new; returns whether it changed."""
    row = await session.get(CustomRegion, state.code)
    if row is not None and row.version >= state.version:
        return False
    if row is None:
        session.add(CustomRegion(**state.model_dump()))
    else:
        for name, value in state.model_dump().items():
            setattr(row, name, value)
    return True


async def apply_region_event(session: AsyncSession, envelope: Envelope) -> None:
    """The consumer's projection: keeps region events, ignores the topic's other events."""
    if envelope.type != REGION_DEFINED:
        return
    await store(session, RegionState.model_validate(envelope.data))
    await session.flush()
    # Events are keyed by region, so a child may arrive before its parent: registering all
    # stored regions picks up children that were waiting for this one.
    await load_persisted(session)


# Regions are defined a few times a year, so half a second before a service knows a new one is
# nothing; with the platform's 10 ms fetch wait (zhichan.events.consumer) each service polled the
# broker 100 times a second for them: the idle stack took 26 % of a core, 16 % with this.
REGION_FETCH_MAX_WAIT_MS = 500


class RegionSync:
    """Consumes the targets topic into this process's regions (a consumer group per service)."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.consumer: EventConsumer | None = None
        self.pruner: Pruner | None = None

    async def start(self, app: FastAPI, *, consume: bool = True) -> None:
        """Registers the regions kept so far; then, unless ``consume`` is off (a process cut off
        from the bus, as in tests), follows the targets topic for new ones."""
        session_factory: SessionFactory = app.state.session_factory
        async with session_factory() as session:
            await load_persisted(session)
        if not consume:
            return
        self.consumer = EventConsumer(
            app.state.platform,
            (TARGETS_TOPIC,),
            f"{self.service}-regions",
            session_factory,
            each(apply_region_event),
            fetch_max_wait_ms=REGION_FETCH_MAX_WAIT_MS,
        )
        await self.consumer.start()
        # The consumer's inbox, pruned as the gateway's is: a region event applied again is
        # skipped by its version (store).
        settings = getattr(app.state, "settings", None) or process_settings(self.service)
        inbox = inbox_job(session_factory, settings.inbox_retention_days)
        self.pruner = Pruner([inbox], settings.prune_interval_seconds)
        self.pruner.start()

    async def stop(self, app: FastAPI) -> None:
        if self.pruner is not None:
            await self.pruner.stop()
        if self.consumer is not None:
            await self.consumer.stop()


def create_custom_region_table() -> None:
    """The ``custom_region`` table, for a service's Alembic migration."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "custom_region",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("parent", sa.String(length=32), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("defined_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index("ix_custom_region_parent", "custom_region", ["parent"], unique=False)


def drop_custom_region_table() -> None:
    from alembic import op

    op.drop_index("ix_custom_region_parent", table_name="custom_region")
    op.drop_table("custom_region")
