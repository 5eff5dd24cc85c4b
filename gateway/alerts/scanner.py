"""The gateway's task that raises the alerts whose day has come: when events were applied (a
record overdue already when it arrives) and every ``alert_scan_seconds`` (a deadline passes by
the clock alone, with no event). At that pace too, when the read model or the day has changed
since it last looked, it computes the active plans' views for indicators whose status worsened."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import date

from gateway.alerts.service import RAISE_BATCH, check_indicators, raise_due
from gateway.viewcache import read_stamp
from zhichan.clock import today
from zhichan.db import SessionFactory

log = logging.getLogger("zhichan.gateway.alerts")


class AlertScanner:
    def __init__(self, session_factory: SessionFactory, every_seconds: float) -> None:
        self.session_factory = session_factory
        self.every_seconds = every_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._looked: tuple[str | None, date] | None = None  # the read model's stamp and the day
        self._looked_at = 0.0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="alert-scanner")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        self._wake.set()

    async def scan(self) -> int:
        """Raises what is due today (every batch of it); answers how many."""
        raised = 0
        while True:
            async with self.session_factory() as session:
                count = await raise_due(session, today())
                await session.commit()
            raised += count
            if count < RAISE_BATCH:
                return raised

    async def check_indicators(self) -> int:
        """Raises ``indicator_worsened`` where a status worsened, when the read model or the day
        changed since the last look; answers how many."""
        async with self.session_factory() as session:
            looked = (await read_stamp(session), today())
            if looked == self._looked:
                return 0
            raised = await check_indicators(session, looked[1])
            await session.commit()
        self._looked = looked
        return raised

    async def _run(self) -> None:
        while True:
            try:
                raised = await self.scan()
                # Views cost more than a scan: once a period, however often events wake the task.
                if time.monotonic() - self._looked_at >= self.every_seconds:
                    self._looked_at = time.monotonic()
                    raised += await self.check_indicators()
                if raised:
                    log.info("%d alert(s) raised", raised)
            except Exception:  # a database hiccup must not end the alerts for good
                log.exception("raising alerts failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.every_seconds)
            self._wake.clear()
