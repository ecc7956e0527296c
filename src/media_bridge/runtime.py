"""Running the pipeline: the worker, the intake runners and the retention sweep of one
composed ``Bridge``, until the runners are exhausted and nothing is due (``until_idle``)
or until cancelled (SIGTERM: running jobs are handed back).

A top-level module beside ``app.py``, which only composes a process: running spans the
intake and the worker, so it belongs to neither package, and it is the one loop that
``run``, ``replay``, ``backfill``, ``demo``, the benches and the tests share.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from media_bridge.errors import StartupError
from media_bridge.intake.ingest import IntakeResult
from media_bridge.intake.runner import IntakeRunner
from media_bridge.ledger.retention import sweep_forever
from media_bridge.observability import get_logger
from media_bridge.types import JobKind, JobState

if TYPE_CHECKING:
    from media_bridge.app import Bridge
    from media_bridge.operations.port import Readiness

log = get_logger(__name__)

ProgressCallback = Callable[[dict[JobState, int], IntakeResult], Awaitable[None] | None]


async def is_idle(bridge: Bridge, horizon_s: float = 60.0) -> bool:
    """Nothing running and nothing due soon, conversation watches aside.

    A watched conversation that has not ended polls every few seconds for as long
    as it lasts: ``replay`` leaves it (and retries due after ``horizon_s``) in
    the ledger for the next run instead of waiting. One ledger read decides, so a
    job claimed between two reads cannot slip through; the worker's own count
    covers a job whose outcome is being written.
    """
    assert bridge.worker is not None
    if bridge.worker.in_flight:
        return False
    soon = datetime.now(UTC) + timedelta(seconds=horizon_s)
    return not await bridge.ledger.has_work_due(soon, ignore_kinds=(JobKind.CONVERSATION,))


async def _feed(bridge: Bridge, runner: IntakeRunner, readiness: Readiness | None) -> None:
    bridge.intake_result.merge(await runner.run(bridge, readiness))


def _raise_failed(feeds: Sequence[asyncio.Task[None]]) -> None:
    """A runner that failed must stop the process (a supervisor restarts it; its
    unacknowledged events come again), never go quiet."""
    for feeding in feeds:
        if feeding.done() and not feeding.cancelled() and feeding.exception():
            failure = feeding.exception()
            if isinstance(failure, StartupError):  # the operator's to fix: as is
                raise failure
            raise RuntimeError("an event source failed") from failure


async def run_pipeline(
    bridge: Bridge,
    runners: Sequence[IntakeRunner] = (),
    *,
    until_idle: bool = False,
    idle_timeout_s: float = 600.0,
    progress: ProgressCallback | None = None,
    progress_every_s: float = 0.5,
    readiness: Readiness | None = None,
) -> dict[JobState, int]:
    """Run the runners into the ledger and the worker on its jobs; the job counts at the end.

    With ``until_idle``, return once every runner is exhausted and no job is pending,
    running or due for retry (or after ``idle_timeout_s``); a runner that is not
    ``finite`` (a server) is never exhausted, so with one the loop runs until cancelled,
    as it does without ``until_idle``. ``readiness``: the process's, for the runners that
    answer ``/readyz`` themselves.
    """
    assert bridge.worker is not None
    waits_for_idle = until_idle and all(runner.finite for runner in runners)
    worker_task = asyncio.create_task(bridge.worker.run())
    feeds = [asyncio.create_task(_feed(bridge, r, readiness)) for r in runners]
    sweep = asyncio.ensure_future(sweep_forever(bridge.ledger, bridge.settings))
    deadline = time.monotonic() + idle_timeout_s
    try:
        while True:
            await asyncio.sleep(progress_every_s)
            counts = await bridge.ledger.counts()
            if progress is not None:
                maybe = progress(counts, bridge.intake_result)
                if maybe is not None:
                    await maybe
            if worker_task.done():
                worker_task.result()
            _raise_failed(feeds)
            if not waits_for_idle:
                continue
            if all(f.done() for f in feeds) and await is_idle(bridge):
                return counts
            if time.monotonic() > deadline:
                log.warning("idle_timeout", counts={k.value: v for k, v in counts.items()})
                return counts
    finally:
        for task in (*feeds, sweep):
            task.cancel()
        await bridge.worker.stop()
        await asyncio.gather(worker_task, *feeds, sweep, return_exceptions=True)
