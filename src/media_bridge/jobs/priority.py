"""Priority classes: under a tight API budget, work that expires first goes first.

A live event's download link goes stale within minutes and a live conversation is in
progress; a backfilled conversation or a transcript waits the same whether it runs now or
later. So every job gets a class when it is recorded (``planned``), the ledger claims due
jobs class by class (live first), and each Platform API request carries the class of the
job that makes it (``current``), so the pacer lets live requests through first and keeps
a share of the budget for them (``genesys.live_reserve``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import IntEnum
from typing import Any

from media_bridge.jobs.payloads import BACKFILL
from media_bridge.types import JobKind, NewJob


class Priority(IntEnum):
    """Lower runs first. Stored in the ledger as the number."""

    #: events as they happen (links that go stale, conversations in progress), and every
    #: consent read and re-check, whatever job makes it
    LIVE = 0
    #: fetches nothing expires on: Speech & Text Analytics transcripts of live calls
    DEFERRED = 1
    #: jobs planned by ``media-bridge backfill`` and everything they discover
    BACKFILL = 2


#: the event ``topic`` backfill payloads carry (``jobs.payloads.BACKFILL``); the jobs a
#: backfilled conversation or recording discovers copy it from their parent's payload
BACKFILL_TOPIC = BACKFILL


def planned(kind: JobKind, payload: dict[str, Any]) -> Priority:
    """The class of a new job, from what it is and where it came from.

    Reads the stored JSON, not a ``jobs.payloads`` type: it runs on every new job of any
    kind (and on payloads of any version) for one field every kind has."""
    event = payload.get("event")
    if isinstance(event, dict) and event.get("topic") == BACKFILL_TOPIC:
        return Priority.BACKFILL
    if kind is JobKind.TRANSCRIPT:
        return Priority.DEFERRED
    return Priority.LIVE


def of(job: NewJob) -> int:
    """The class a new job is recorded with: its own, else ``planned``."""
    return int(job.priority) if job.priority is not None else int(planned(job.kind, job.payload))


def label(value: int) -> str:
    """The metric label and log value of a class (``live``, ``deferred``, ``backfill``)."""
    try:
        return Priority(value).name.lower()
    except ValueError:
        return str(value)


_CURRENT: ContextVar[int] = ContextVar("job_priority", default=int(Priority.LIVE))


def current() -> int:
    """The class of the job running in this task (live outside any job)."""
    return _CURRENT.get()


@contextmanager
def running_as(value: int) -> Iterator[None]:
    """Requests made inside the block (and tasks it starts) carry ``value``."""
    token = _CURRENT.set(int(value))
    try:
        yield
    finally:
        _CURRENT.reset(token)
