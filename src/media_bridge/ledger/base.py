"""The ledger contract every backend (SQLite, PostgreSQL) honours.

The ledger owns delivery semantics: an event is acknowledged to its source only
once ``add_jobs`` has returned (the jobs are durable); a job that is ``done`` is
never run again; a ``running`` job whose lease expired is taken over by another
worker; ``complete``/``fail`` only take effect for the worker holding the lease.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from media_bridge.errors import LedgerDataError as LedgerDataError
from media_bridge.types import Job, JobKind, JobState, NewJob


@dataclass(frozen=True, slots=True)
class SpeechTotals:
    """One speaker key's enrolment progress: clips counted and their net speech, summed."""

    clips: int
    net_speech_s: float


@dataclass(frozen=True, slots=True)
class LedgerGauges:
    """What the metrics read from the ledger at scrape time: jobs by state, how long the
    oldest due job has waited past its due time (0 when none is due), dead jobs by
    error code."""

    by_state: dict[JobState, int]
    oldest_due_age_s: float
    dead_by_code: dict[str, int]


#: the payload of a tombstone: no personal data, nothing to run
TOMBSTONE: dict[str, Any] = {"tombstone": True}


class AddedJobs(int):
    """What ``add_jobs`` recorded: an ``int`` (new and reopened together, as callers that
    only count use it), with ``new`` (keys the ledger lacked) and ``reopened`` (existing
    jobs a ``reopen`` job revived or refreshed, e.g. a conversation watch) apart, and
    ``promoted``: waiting jobs of another class a live job named again, now live (not in
    the int: nothing was added)."""

    new: int
    reopened: int
    promoted: int

    def __new__(cls, new: int = 0, reopened: int = 0, promoted: int = 0) -> AddedJobs:
        added = super().__new__(cls, new + reopened)
        added.new = new
        added.reopened = reopened
        added.promoted = promoted
        return added

    def __repr__(self) -> str:
        return f"AddedJobs(new={self.new}, reopened={self.reopened}, promoted={self.promoted})"


class HandlerLedger(Protocol):
    """What job handlers ask of the ledger (``HandlerContext.ledger``): which keys exist,
    one job's state, and the speakers' net speech. Every ``Ledger`` is one."""

    async def existing_keys(self, keys: Iterable[str]) -> set[str]: ...

    async def get(self, key: str) -> Job | None: ...

    async def record_speech(
        self, speaker_key: str, job_key: str, net_speech_s: float
    ) -> SpeechTotals: ...

    async def speech_totals(self, speaker_key: str) -> SpeechTotals: ...


class Ledger(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def add_jobs(self, jobs: Sequence[NewJob]) -> AddedJobs:
        """Record jobs durably; existing keys are left alone (unless ``reopen`` on a done job),
        but a live job lifts a waiting (pending, retry, running) job of its key to live.

        Returns how many were newly inserted or reopened (``AddedJobs``: the two apart).
        Raises ``LedgerDataError`` (and writes none of them) when the database refuses
        a value.
        """
        ...

    async def existing_keys(self, keys: Iterable[str]) -> set[str]: ...

    async def claim(
        self,
        worker_id: str,
        limit: int,
        lease_seconds: float,
        kinds: Sequence[JobKind] | None = None,
        non_live_limit: int | None = None,
    ) -> list[Job]:
        """Take up to ``limit`` due jobs (pending/retry due now, or running with a lapsed lease).

        Live jobs first, then the other classes (``media_bridge.jobs.priority``), each in due
        order; ``non_live_limit``: at most that many of the other classes (the worker's job
        slots kept for live work)."""
        ...

    async def extend_lease(
        self, keys: Sequence[str], worker_id: str, lease_seconds: float
    ) -> None: ...

    async def complete(
        self, key: str, worker_id: str, result: dict[str, Any], scrub: bool = False
    ) -> bool:
        """Mark done; False when this worker no longer holds the lease. ``scrub``: the job
        becomes a tombstone at once (``ledger.tombstone_after_s = 0``): its payload, which
        may hold personal data, goes the moment it is no longer needed."""
        ...

    async def fail(
        self,
        key: str,
        worker_id: str,
        error: str,
        code: str,
        retry_at: datetime | None,
    ) -> bool:
        """Record a failure: ``retry_at`` set -> state retry; None -> dead."""
        ...

    async def release(self, key: str, worker_id: str, not_before: datetime) -> bool:
        """Hand a running job back unchanged (shutdown, or a watch that must run again later)."""
        ...

    async def get(self, key: str) -> Job | None: ...

    async def list_jobs(
        self, state: JobState | None = None, limit: int = 100, offset: int = 0
    ) -> list[Job]: ...

    async def retry(self, key: str) -> bool:
        """Operator action: a dead (or retry) job becomes pending now, with a fresh attempt
        budget (its last error is kept for the operator)."""
        ...

    async def counts(self) -> dict[JobState, int]: ...

    async def gauges(self, now: datetime) -> LedgerGauges:
        """Jobs by state, the age at ``now`` of the oldest pending/retry job due by then,
        and dead jobs by error code (``none`` when unset): one read, for the metrics."""
        ...

    async def check_writable(self) -> None:
        """Raise unless the ledger takes a write now (a write statement touching no row):
        the intake's readiness."""
        ...

    async def has_work_due(self, before: datetime, ignore_kinds: Collection[JobKind]) -> bool:
        """One consistent read: is any job running, or waiting and due before ``before``?

        Waiting jobs of ``ignore_kinds`` do not count (running ones always do). A caller
        that compared separate counts and listings could miss a job claimed in between.
        """
        ...

    async def record_rejected(self, source: str, reason: str, raw: bytes) -> None:
        """Keep an event that could not be parsed, for an operator to inspect."""
        ...

    async def record_rejected_many(self, rows: Sequence[tuple[str, str, bytes]]) -> None:
        """Keep many rejected events, ``(source, reason, raw)`` each, in ONE write: a body
        of many bad events costs one commit, not one per event."""
        ...

    async def list_rejected(self, limit: int = 100) -> list[dict[str, Any]]: ...

    async def record_speech(
        self, speaker_key: str, job_key: str, net_speech_s: float
    ) -> SpeechTotals:
        """Count one clip's net speech for ``speaker_key``, once per ``job_key``.

        Only the key is kept (it may be a pseudonym), never the audio. A job run again
        (after a crash, or for a duplicate event) adds nothing: the first figure stays.
        Returns the speaker's totals including this clip.
        """
        ...

    async def speech_totals(self, speaker_key: str) -> SpeechTotals:
        """The speaker's totals so far (zero clips when the key is unknown)."""
        ...

    # -- retention and erasure -------------------------------------------------------

    async def tombstone_done(self, before: datetime, dry_run: bool = False) -> int:
        """Done jobs last changed before ``before`` keep only key, state, finish time and
        the delivered sha256: no payload. Their keys still refuse duplicates."""
        ...

    async def purge_done(self, before: datetime, dry_run: bool = False) -> int:
        """Delete done jobs last changed before ``before`` (``ledger.done_retention``)."""
        ...

    async def purge_rejected(self, before: datetime, dry_run: bool = False) -> int:
        """Delete rejected events received before ``before``."""
        ...

    async def scan_payloads(
        self, after_key: str | None, limit: int
    ) -> list[tuple[str, JobState, dict[str, Any]]]:
        """(key, state, payload) of jobs that are not tombstones, by key, after ``after_key``."""
        ...

    async def forget_jobs(self, keys: Sequence[str], dry_run: bool = False) -> int:
        """Erasure: the jobs become done tombstones whatever their state (pending and held
        jobs are cancelled), so their keys still refuse the same events later."""
        ...

    async def forget_speech(self, speaker_keys: Sequence[str], dry_run: bool = False) -> int:
        """Erasure: delete the enrolment-progress rows of these speaker keys."""
        ...
