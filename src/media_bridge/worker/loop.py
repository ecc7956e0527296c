"""The worker loop: claim due jobs from the ledger, run their handlers, record the outcome.

Concurrency is bounded by ``concurrency`` slots; a job is claimed only when a slot
is free, so a slow sink slows claiming instead of growing memory. Leases of running
jobs are extended in the background, so only a dead worker's jobs are taken over.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from media_bridge import metrics
from media_bridge.errors import BridgeError, Unexpected, UrlExpired
from media_bridge.genesys import budget
from media_bridge.jobs import JobHandler, JobOutcome, priority
from media_bridge.jobs.keys import split_key
from media_bridge.ledger.base import Ledger
from media_bridge.observability import get_logger
from media_bridge.redact import redact_text
from media_bridge.retry import full_jitter_backoff
from media_bridge.types import Job, JobKind, NewJob

if TYPE_CHECKING:  # the context imports the clients, the worker needs only its type
    from media_bridge.worker.context import HandlerContext

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    base_s: float = 1.0
    max_s: float = 300.0

    def next_attempt(self, job: Job, error: BridgeError) -> datetime | None:
        """When to try again, or None to park the job as dead."""
        if not error.retryable or job.attempts >= self.max_attempts:
            return None
        now = datetime.now(UTC)
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, int | float):  # RateLimited, CredentialsRejected
            return now + timedelta(seconds=float(retry_after))
        if isinstance(error, UrlExpired):
            return now + timedelta(
                seconds=full_jitter_backoff(0, base=self.base_s, cap=self.base_s)
            )
        delay = full_jitter_backoff(job.attempts - 1, base=self.base_s, cap=self.max_s)
        return now + timedelta(seconds=delay)


class Worker:
    def __init__(
        self,
        ledger: Ledger,
        handlers: Mapping[JobKind, JobHandler],
        context: HandlerContext,
        *,
        worker_id: str,
        concurrency: int = 32,
        lease_seconds: float = 120.0,
        retry: RetryPolicy | None = None,
        idle_poll_s: float = 0.2,
        scrub_done: bool = False,
        live_reserve: float = 0.0,
    ) -> None:
        """``live_reserve``: the share of the ``concurrency`` slots jobs of classes other
        than live may not take (``genesys.live_reserve``): a backfill whose jobs all wait on
        the API budget must not leave a live event without a slot."""
        self._ledger = ledger
        self._handlers = dict(handlers)
        self._context = context
        self.worker_id = worker_id
        self._concurrency = concurrency
        self._lease_seconds = lease_seconds
        self._retry = retry or RetryPolicy()
        self._idle_poll_s = idle_poll_s
        #: done jobs become tombstones at once (``ledger.tombstone_after_s = 0``)
        self._scrub_done = scrub_done
        self._running: dict[str, asyncio.Task[None]] = {}
        #: the priority class of each running job
        self._classes: dict[str, int] = {}
        self._non_live_slots = (
            max(1, int(concurrency * (1.0 - live_reserve))) if live_reserve > 0 else None
        )
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """New jobs were recorded: claim now instead of at the next poll."""
        self._wake.set()

    @property
    def in_flight(self) -> int:
        return len(self._running)

    async def run(self, *, until_idle: bool = False) -> None:
        """Claim and run jobs until ``stop()``; with ``until_idle``, return once nothing is due."""
        lease_task = asyncio.create_task(self._keep_leases())
        try:
            while not self._stopping:
                free = self._concurrency - len(self._running)
                claimed: list[Job] = []
                if free > 0:
                    claimed = await self._ledger.claim(
                        self.worker_id,
                        free,
                        self._lease_seconds,
                        list(self._handlers),
                        self._non_live_free(),
                    )
                for job in claimed:
                    task = asyncio.create_task(self._run_one(job))
                    self._running[job.key] = task
                    self._classes[job.key] = job.priority
                if claimed and len(claimed) == free:
                    continue
                if until_idle and not self._running and not claimed:
                    return
                await self._pause()
        finally:
            lease_task.cancel()
            await self._drain()

    def _non_live_free(self) -> int | None:
        """Slots jobs of other classes than live may still take (None: no limit)."""
        if self._non_live_slots is None:
            return None
        busy = sum(1 for level in self._classes.values() if level > priority.Priority.LIVE)
        return max(0, self._non_live_slots - busy)

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def _pause(self) -> None:
        """Sleep until woken (new jobs, a finished job) or the poll interval passes."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._idle_poll_s)
        self._wake.clear()

    async def _drain(self) -> None:
        """Shutdown: let running jobs finish for a moment, then hand the rest back."""
        if not self._running:
            return
        tasks = list(self._running.values())
        _, pending = await asyncio.wait(tasks, timeout=5.0)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _keep_leases(self) -> None:
        interval = max(self._lease_seconds / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            if self._running:
                try:
                    await self._ledger.extend_lease(
                        list(self._running), self.worker_id, self._lease_seconds
                    )
                except Exception as exc:  # the ledger may be briefly away: leases are long
                    log.warning("lease_extend_failed", error=str(exc))

    async def _run_one(self, job: Job) -> None:
        # every line the job logs (its handler, the Genesys client's and the fetcher's
        # retries) names the job
        with structlog.contextvars.bound_contextvars(
            key=job.key,
            conversation_id=_conversation_id(job),
            job_kind=job.kind.value,
            attempt=job.attempts,
            priority=priority.label(job.priority),
            worker=self.worker_id,
        ):
            await self._run_bound(job)

    async def _run_bound(self, job: Job) -> None:
        started = time.monotonic()
        metrics.JOBS_IN_FLIGHT.inc()
        metrics.JOBS_CLAIMED.labels(priority=priority.label(job.priority)).inc()
        try:
            handler = self._handlers[job.kind]
            try:
                # its Platform API requests carry its class to the pacer
                with budget.counting() as spent, priority.running_as(job.priority):
                    outcome = await handler(job, self._context)
                # the Platform API requests this run spent (GENESYS.md section 8)
                outcome.result["api_requests"] = spent.count
            except BridgeError as error:
                await self._record_failure(job, error)
                return
            except asyncio.CancelledError:
                await self._ledger.release(job.key, self.worker_id, datetime.now(UTC))
                raise
            except Exception as exc:  # a bug must not kill the worker: retry, then dead
                log.exception("job_crashed")
                await self._record_failure(job, Unexpected(f"{type(exc).__name__}: {exc}"))
                return
            await self._record_outcome(job, outcome)
            _log_delivery(outcome)
            log.debug("job_ran", seconds=round(time.monotonic() - started, 3))
        finally:
            metrics.JOBS_IN_FLIGHT.dec()
            self._running.pop(job.key, None)
            self._classes.pop(job.key, None)
            self._wake.set()

    async def _record_outcome(self, job: Job, outcome: JobOutcome) -> None:
        # shielded: a shutdown must not leave a finished job "running" until its lease lapses
        await asyncio.shield(self._write_outcome(job, outcome))

    async def _write_outcome(self, job: Job, outcome: JobOutcome) -> None:
        if outcome.new_jobs:
            added = await self._ledger.add_jobs(_discovered(job, outcome.new_jobs))
            if added:
                metrics.JOBS_PLANNED.labels(kind="discovered").inc(added)
            if added.promoted:
                metrics.JOBS_PROMOTED.inc(added.promoted)
                log.info("jobs_promoted_to_live", jobs=added.promoted)
        if outcome.run_again_at is not None:
            await self._ledger.release(job.key, self.worker_id, outcome.run_again_at)
            metrics.JOBS_FINISHED.labels(kind=job.kind.value, outcome="again").inc()
            return
        await self._ledger.complete(job.key, self.worker_id, outcome.result, self._scrub_done)
        metrics.JOBS_FINISHED.labels(kind=job.kind.value, outcome="done").inc()

    async def _record_failure(self, job: Job, error: BridgeError) -> None:
        retry_at = self._retry.next_attempt(job, error)
        message = redact_text(str(error))[:2000]
        await asyncio.shield(
            self._ledger.fail(job.key, self.worker_id, message, error.code, retry_at)
        )
        outcome = "retry" if retry_at else "dead"
        metrics.JOBS_FINISHED.labels(kind=job.kind.value, outcome=outcome).inc()
        logger = log.warning if retry_at else log.error
        logger("job_failed", code=error.code, error=message, outcome=outcome)


#: how much earlier than the job that found them discovered jobs fall due
_AHEAD = timedelta(milliseconds=1)


def _discovered(parent: Job, found: list[NewJob]) -> list[NewJob]:
    """The jobs a job found, as the ledger should record them.

    They never rank above their parent (a backfilled conversation's messages are backfill
    too, whatever their payloads say). Within their class they fall due just before the
    parent did (unless they name a time): they hold links fresh from the read the parent
    just made, which expire first, and a backfill delivers conversation by conversation
    instead of reading every conversation before fetching any item.
    """
    return [
        dataclasses.replace(
            job,
            priority=max(priority.of(job), parent.priority),
            not_before=job.not_before or parent.created_at - _AHEAD,
        )
        for job in found
    ]


def _conversation_id(job: Job) -> str | None:
    found = job.payload.get("conversation_id")
    if isinstance(found, str):
        return found
    return split_key(job.key).conversation_id


def _log_delivery(outcome: JobOutcome) -> None:
    """One INFO line per delivery (the job's key, kind and conversation are in the context)."""
    result = outcome.result
    if outcome.run_again_at is not None or not result.get("sink"):
        return
    size = result.get("bytes")
    if size is None and isinstance(result.get("files"), list):
        sizes = [f.get("size") for f in result["files"] if isinstance(f, dict)]
        size = sum(s for s in sizes if isinstance(s, int)) if sizes else None
    log.info(
        "delivered",
        sink=result["sink"],
        bytes=size,
        audio_s=result.get("audio_s"),
    )
