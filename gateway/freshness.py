"""How fresh an answer is: the last event applied per topic and how far behind the bus."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zhichan.events.consumer import ConsumerPosition


async def freshness(request: Request, session: AsyncSession) -> dict[str, Any]:
    consumer = request.app.state.consumer
    highwaters = consumer.highwaters() if consumer else {}
    positions = (await session.execute(select(ConsumerPosition))).scalars().all()
    topics: dict[str, dict[str, Any]] = {}
    for pos in positions:
        entry = topics.setdefault(
            pos.topic, {"last_event_id": None, "last_event_type": None, "last_event_time": None, "lag": 0}
        )
        if entry["last_event_time"] is None or pos.event_time > entry["last_event_time"]:
            entry.update(last_event_id=pos.event_id, last_event_type=pos.event_type, last_event_time=pos.event_time)
        mark = highwaters.get((pos.topic, pos.partition))
        if mark is not None:
            entry["lag"] += max(0, mark - pos.offset - 1)
    for (topic, _partition), mark in highwaters.items():
        if not any(p.topic == topic and p.partition == _partition for p in positions):
            entry = topics.setdefault(
                topic, {"last_event_id": None, "last_event_type": None, "last_event_time": None, "lag": 0}
            )
            entry["lag"] += mark
    return {"topics": topics, "consumer_assigned": bool(consumer and consumer.assigned)}
