"""What the enforcement use cases share: the event of a change, dates as the JSON columns keep
them, and the date range of a list filter."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Select

from services.enforcement import contracts
from zhichan.auth import User
from zhichan.events import record_event


def to_iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def from_iso(value: str | None) -> date | None:
    return date.fromisoformat(value) if value is not None else None


def publish(
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


def between(query: Select, column: ColumnElement, start: date | None, end: date | None) -> Select:
    if start is not None:
        query = query.where(column >= start)
    if end is not None:
        query = query.where(column <= end)
    return query
