"""The job: its keys (``jobs.keys``), its payloads (``jobs.payloads``: one frozen,
versioned type per kind), its planning (``jobs.planning`` from events,
``jobs.message_planning`` from message reads, ``jobs.call_planning`` from a call's
recording listing) and the handler contract, how a worker runs one job. Those
modules are imported by name, not from here: ``media_bridge.types`` imports
``jobs.keys``, and the payloads and planning import ``media_bridge.types``.

A handler either returns a ``JobOutcome`` or raises a ``BridgeError``; the worker
turns that into ledger state (done, run again later, retry with backoff, dead).
Handlers must be safe to run twice for the same job (a crash between the sink
write and ``complete`` re-runs it): sinks are idempotent by key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # media_bridge.types builds its keys with jobs.keys: no import cycle
    from media_bridge.types import Job, NewJob
    from media_bridge.worker.context import HandlerContext


@dataclass(slots=True)
class JobOutcome:
    #: the JSON the ledger stores as the job's result (``Ledger.complete``, ``Job.result``):
    #: a plain dict, because the worker adds ``api_requests`` to it and the values come from
    #: API answers the bridge reads defensively anyway; a narrower type would only move
    #: ``isinstance`` checks into every reader
    result: dict[str, Any] = field(default_factory=dict)
    #: jobs discovered while running (a conversation's new messages, a call's recordings)
    new_jobs: list[NewJob] = field(default_factory=list)
    #: not finished: hand the job back and run it again at this time (a watched
    #: conversation that has not ended, a recording still transcoding)
    run_again_at: datetime | None = None


class JobHandler(Protocol):
    """One ``JobKind``'s handler: the job and what handlers share (``HandlerContext``)."""

    async def __call__(self, job: Job, ctx: HandlerContext) -> JobOutcome: ...
