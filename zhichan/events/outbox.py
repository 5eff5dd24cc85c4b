"""The transactional outbox: an event is a row written in the same transaction as the change.

Rows are marked sent, never deleted (the embedded broker keeps messages in memory only, so the
outbox is also each service's event log: ``zhichan republish`` sends it again).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Column, Index, Text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from zhichan.clock import utcnow
from zhichan.db import UTCDateTime, insert_at_commit
from zhichan.events.envelope import Envelope, event_type, topic_of
from zhichan.observability import current_traceparent


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unsent", "sent_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(index=True, unique=True, max_length=36)
    topic: str = Field(max_length=100)
    key: str = Field(max_length=100)
    type: str = Field(max_length=200)
    envelope: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class RelayLease(SQLModel, table=True):
    """One relay per service at a time: the holder renews its lease; others wait for it to lapse."""

    __tablename__ = "relay_lease"

    name: str = Field(primary_key=True, max_length=50)
    holder: str = Field(max_length=100)
    expires_at: float  # epoch seconds: compares the same on SQLite and PostgreSQL


def record_event(
    session: AsyncSession,
    *,
    service: str,
    aggregate: str,
    verb: str,
    aggregate_id: str,
    region: str,
    version: int,
    data: BaseModel | dict[str, Any],
    actor: str | None,
    type_version: int = 1,
) -> Envelope:
    """Adds the event to the session; it is published only if the transaction commits."""

    payload = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
    envelope = Envelope(
        id=str(uuid.uuid4()),  # given, not defaulted: pydantic inspects a default factory's signature each call
        time=utcnow(),
        source=f"/zhichan/{service}",
        type=event_type(service, aggregate, verb, type_version),
        subject=f"{aggregate}/{aggregate_id}",
        region=region,
        aggregateversion=version,
        actor=actor,
        traceparent=current_traceparent(),
        data=payload,
    )
    row = (
        envelope.id,
        topic_of(service),
        str(aggregate_id),
        envelope.type,
        envelope.to_json().decode(),
        envelope.time,
        0,
    )
    # Written with the commit, not flushed by the ORM: a row built and flushed through the unit
    # of work cost more CPU than the rest of recording the event (bench/writes.py).
    insert_at_commit(session, OutboxEvent.__table__, _OUTBOX_COLUMNS, [row], gather="outbox")
    session.info["outbox_written"] = True
    return envelope


_OUTBOX_COLUMNS = ("event_id", "topic", "key", "type", "envelope", "created_at", "attempts")
