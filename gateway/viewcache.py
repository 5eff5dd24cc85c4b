"""Views computed from the read model, kept in memory until the read model moves.

The key is the read model's stamp (:class:`gateway.models.ReadModelStamp`), rewritten by every
transaction that applies events — by this gateway's consumer, another replica's, or a rebuild —
so a replica never serves a view computed before an event it did not apply itself. A request
reads the stamp before anything else: what it computes afterwards is at least as new as the
stamp it is stored under (possibly newer, which the next stamp replaces)."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.models import ReadModelStamp
from zhichan.db import insert_at_commit

STAMPS = ReadModelStamp.__table__
STAMP_UPSERT = 'ON CONFLICT ("id") DO UPDATE SET "stamp" = excluded."stamp"'
MARKED = "gateway.read_model_stamp"  # the stamp's write at commit: one per transaction


def mark_changed(session: AsyncSession) -> None:
    """Gives the read model a new stamp when this transaction commits; written once per
    transaction, however many events of a batch ask for it."""
    insert_at_commit(session, STAMPS, ("id", "stamp"), [(1, uuid.uuid4().hex)], STAMP_UPSERT, once=MARKED)


async def read_stamp(session: AsyncSession) -> str | None:
    return (await session.execute(select(ReadModelStamp.stamp).where(ReadModelStamp.id == 1))).scalar_one_or_none()


class ViewCache:
    """Computed views of the current stamp, the least recently used dropped beyond ``size``."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._stamp: str | None = None
        self._views: OrderedDict[Hashable, Any] = OrderedDict()

    async def get(self, stamp: str | None, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> Any:
        """The view under ``key`` computed at ``stamp`` (read first), computing it when missing."""
        if stamp != self._stamp:
            self._views.clear()
            self._stamp = stamp
        if key in self._views:
            self._views.move_to_end(key)
            return self._views[key]
        view = await compute()
        if stamp is not None and stamp == self._stamp:  # not if a newer stamp was seen meanwhile
            self._views[key] = view
            while len(self._views) > self.size:
                self._views.popitem(last=False)
        return view
