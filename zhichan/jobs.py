"""Work that outlives its request (a large import): run as a task of the process, watched through
a job resource (status, progress, result).

Jobs live in the process's memory only: a restart forgets them, and one that was running stops
where it was. What a job does must therefore be safe to do again from the start (an import is:
it is idempotent by natural key), and its owner learns of a lost job by the 404 of its resource.
Finished jobs are kept for :data:`KEPT_SECONDS`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from zhichan.ids import new_id

log = logging.getLogger("zhichan.jobs")

KEPT_SECONDS = 24 * 3600
JobStatus = Literal["queued", "running", "succeeded", "failed"]


@dataclass
class Job:
    id: str
    kind: str
    owner: str  # the subject of the token that started it: only they read it
    total: int
    status: JobStatus = "queued"
    done: int = 0
    phase: str | None = None  # what the work is doing, in its own words (an import: checking)
    result: dict[str, Any] | None = None  # what the work answered, or its refusal (a problem's body)
    created: float = field(default_factory=time.time)
    finished: float | None = None

    def progress(self, done: int, phase: str | None = None) -> None:
        self.done, self.phase = done, phase


class Jobs:
    """The jobs of one process, by id."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._tasks: set[asyncio.Task] = set()  # held: a task only weakly referenced may be collected

    def start(
        self, kind: str, owner: str, total: int, work: Callable[[Job], Awaitable[tuple[JobStatus, dict[str, Any]]]]
    ) -> Job:
        """Runs ``work(job)`` as a task; it reports progress on the job and returns the final
        status with its result. An unexpected error fails the job (and is logged)."""
        self._forget_old()
        job = Job(new_id(), kind, owner, total)
        self._jobs[job.id] = job

        async def run() -> None:
            job.status = "running"
            try:
                job.status, job.result = await work(job)
            except Exception:
                log.exception("job %s (%s) failed", job.id, kind)
                job.status, job.result = "failed", {"detail": "the job failed unexpectedly; the error was logged"}
            job.finished = time.time()

        task = asyncio.get_running_loop().create_task(run(), name=f"job-{kind}-{job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def _forget_old(self) -> None:
        horizon = time.time() - KEPT_SECONDS
        for job_id in [j.id for j in self._jobs.values() if j.finished is not None and j.finished < horizon]:
            del self._jobs[job_id]
