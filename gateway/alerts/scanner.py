"""The gateway's task that raises the alerts whose day has come: when events were applied (a
record overdue already when it arrives) and every ``alert_scan_seconds`` (a deadline passes by
the clock alone, with no event)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from gateway.alerts.service import RAISE_BATCH, raise_due
from zhichan.clock import today
from zhichan.db import SessionFactory

log = logging.getLogger("zhichan.gateway.alerts")


class AlertScanner:
    def __init__(self, session_factory: SessionFactory, every_seconds: float) -> None:
        self.session_factory = session_factory
        self.every_seconds = every_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

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

    async def _run(self) -> None:
        while True:
            try:
                if raised := await self.scan():
                    log.info("%d alert(s) raised", raised)
            except Exception:  # a database hiccup must not end the alerts for good
                log.exception("raising alerts failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.every_seconds)
            self._wake.clear()
