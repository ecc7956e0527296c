"""The SQLite ledger: one file, WAL, one connection on one dedicated thread.

Every sqlite3 call runs on one dedicated thread (``DbThread``), so the event loop
never blocks and writes are serialised without a Python lock; operations queued at
the same moment share one transaction (group commit), each in its own SAVEPOINT.
Times are stored as epoch seconds (REAL, UTC) so due-time comparisons are plain
number comparisons on an index.

Durability: the database runs in WAL mode with ``synchronous=NORMAL`` for lease
bookkeeping (claim, complete, fail, release): a committed transaction survives a
process crash (kill -9), only an OS crash or power loss can drop the last ones, and
then a job merely runs again (sinks are idempotent). Transactions whose return lets
a source acknowledge events (``add_jobs``, ``record_rejected``) and operator
``retry`` commit with ``synchronous=FULL`` (the WAL is fsynced before returning),
so they also survive power loss. ``durable_adds=False`` trades that for speed.

Claiming uses one trick: a running job's ``next_attempt_at`` equals its
``lease_until``, so "due" is one condition for every active state and one partial
index (``jobs_due_by_priority``) serves the claim query: live jobs first, each class
in due order (``media_bridge.jobs.priority``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from media_bridge.jobs.priority import of
from media_bridge.ledger.base import TOMBSTONE, AddedJobs, LedgerDataError, LedgerGauges
from media_bridge.ledger.sqlite_add import add_rows
from media_bridge.ledger.sqlite_rows import CHUNK, JOB_COLUMNS, LIVE, dumps, job_from_row, ts
from media_bridge.ledger.sqlite_upkeep import SqliteUpkeep
from media_bridge.redact import redact_text
from media_bridge.types import Job, JobKind, JobState, NewJob


class SqliteLedger(SqliteUpkeep):
    """``media_bridge.ledger.base.Ledger`` on one SQLite file."""

    # -- recording ---------------------------------------------------------------

    async def add_jobs(self, jobs: Sequence[NewJob]) -> AddedJobs:
        if not jobs:
            return AddedJobs()
        now = self._clock()
        plain: list[tuple[Any, ...]] = []
        reopen: list[tuple[Any, ...]] = []
        for job in jobs:
            due = ts(job.not_before) if job.not_before is not None else now
            row = (job.key, job.kind.value, dumps(job.payload), due, now, now, of(job))
            (reopen if job.reopen else plain).append(row)
        try:
            result: AddedJobs = await self._write(
                lambda db: add_rows(db, plain, reopen), durable=self._durable_adds
            )
        except (UnicodeEncodeError, sqlite3.DataError) as exc:
            raise LedgerDataError(f"SQLite refused a value: {redact_text(str(exc))[:300]}") from exc
        return result

    async def existing_keys(self, keys: Iterable[str]) -> set[str]:
        unique = list(dict.fromkeys(keys))
        if not unique:
            return set()

        def op(db: sqlite3.Connection) -> set[str]:
            found: set[str] = set()
            for i in range(0, len(unique), CHUNK):
                chunk = unique[i : i + CHUNK]
                marks = ",".join("?" * len(chunk))
                sql = f"SELECT key FROM jobs WHERE key IN ({marks})"  # noqa: S608
                found.update(row[0] for row in db.execute(sql, chunk))
            return found

        result: set[str] = await self._read(op)
        return result

    # -- leases ------------------------------------------------------------------

    async def claim(
        self,
        worker_id: str,
        limit: int,
        lease_seconds: float,
        kinds: Sequence[JobKind] | None = None,
        non_live_limit: int | None = None,
    ) -> list[Job]:
        if limit <= 0:
            return []
        kind_values = [k.value for k in kinds] if kinds else []
        kind_sql = f" AND kind IN ({','.join('?' * len(kind_values))})" if kind_values else ""
        max_attempts = self._max_attempts

        def take(db: sqlite3.Connection, now: float, lease: float, among: str, n: int) -> list[Job]:
            rows = db.execute(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, worker_id = ?,"  # noqa: S608
                " lease_until = ?, next_attempt_at = ?, updated_at = ?"
                " WHERE key IN (SELECT key FROM jobs INDEXED BY jobs_due_by_priority"
                "  WHERE state IN ('pending', 'retry', 'running') AND next_attempt_at <= ?"
                f"{among}{kind_sql} ORDER BY priority, next_attempt_at LIMIT ?)"
                f" RETURNING {JOB_COLUMNS}",
                (worker_id, lease, lease, now, now, *kind_values, n),
            ).fetchall()
            return [job_from_row(row) for row in rows]

        def op(db: sqlite3.Connection) -> list[Job]:
            now = self._clock()  # read inside the transaction: batched ops run later
            lease = now + lease_seconds
            if max_attempts is not None:
                db.execute(
                    "UPDATE jobs SET state = 'dead', error_code = 'lease_expired',"
                    " last_error = 'the lease lapsed on every attempt: the job may crash"
                    " its worker', worker_id = NULL, lease_until = NULL, updated_at = ?"
                    " WHERE state = 'running' AND next_attempt_at <= ? AND attempts >= ?",
                    (now, now, max_attempts),
                )
            if non_live_limit is None:
                return take(db, now, lease, "", limit)
            live = take(db, now, lease, f" AND priority = {LIVE}", limit)
            others = min(limit - len(live), non_live_limit)
            if others <= 0:
                return live
            return live + take(db, now, lease, f" AND priority > {LIVE}", others)

        jobs: list[Job] = await self._write(op)
        jobs.sort(key=lambda j: (j.priority, j.created_at, j.key))
        return jobs

    async def extend_lease(self, keys: Sequence[str], worker_id: str, lease_seconds: float) -> None:
        if not keys:
            return

        def op(db: sqlite3.Connection) -> None:
            now = self._clock()
            lease = now + lease_seconds
            db.executemany(
                "UPDATE jobs SET lease_until = ?, next_attempt_at = ?, updated_at = ?"
                " WHERE key = ? AND state = 'running' AND worker_id = ?",
                [(lease, lease, now, key, worker_id) for key in keys],
            )

        await self._write(op)

    async def _update_one(self, sql: str, args: tuple[Any, ...], durable: bool = False) -> bool:
        def op(db: sqlite3.Connection) -> bool:
            return bool(db.execute(sql, args).rowcount == 1)

        changed: bool = await self._write(op, durable=durable)
        return changed

    async def complete(
        self, key: str, worker_id: str, result: dict[str, Any], scrub: bool = False
    ) -> bool:
        now = self._clock()
        # a reopen that arrived while running (rerun = 1) makes the job pending again now
        # (with its payload: it runs again); otherwise ``scrub`` leaves a tombstone
        tomb = dumps(TOMBSTONE) if scrub else None
        return await self._update_one(
            "UPDATE jobs SET state = CASE WHEN rerun = 1 THEN 'pending' ELSE 'done' END,"
            " attempts = CASE WHEN rerun = 1 THEN 0 ELSE attempts END,"
            " payload = CASE WHEN rerun = 0 AND ? IS NOT NULL THEN ? ELSE payload END,"
            " rerun = 0, result = ?, next_attempt_at = ?, worker_id = NULL, lease_until = NULL,"
            " last_error = NULL, error_code = NULL, updated_at = ?"
            " WHERE key = ? AND state = 'running' AND worker_id = ?",
            (tomb, tomb, dumps(result), now, now, key, worker_id),
        )

    async def fail(
        self,
        key: str,
        worker_id: str,
        error: str,
        code: str,
        retry_at: datetime | None,
    ) -> bool:
        now = self._clock()
        state = "retry" if retry_at is not None else "dead"
        due = ts(retry_at) if retry_at is not None else now
        return await self._update_one(
            "UPDATE jobs SET state = ?, next_attempt_at = ?, last_error = ?, error_code = ?,"
            " worker_id = NULL, lease_until = NULL, rerun = 0, updated_at = ?"
            " WHERE key = ? AND state = 'running' AND worker_id = ?",
            (state, due, error, code, now, key, worker_id),
        )

    async def release(self, key: str, worker_id: str, not_before: datetime) -> bool:
        now = self._clock()
        due = ts(not_before)
        # the claim's attempt is given back: a watch released every poll must not age out
        return await self._update_one(
            "UPDATE jobs SET state = 'pending', attempts = MAX(attempts - 1, 0),"
            " next_attempt_at = CASE WHEN rerun = 1 THEN MIN(?, ?) ELSE ? END, rerun = 0,"
            " worker_id = NULL, lease_until = NULL, updated_at = ?"
            " WHERE key = ? AND state = 'running' AND worker_id = ?",
            (due, now, due, now, key, worker_id),
        )

    # -- operator ----------------------------------------------------------------

    async def _fetch(self, sql: str, args: tuple[Any, ...]) -> list[Job]:
        def op(db: sqlite3.Connection) -> list[Job]:
            return [job_from_row(row) for row in db.execute(sql, args).fetchall()]

        jobs: list[Job] = await self._read(op)
        return jobs

    async def get(self, key: str) -> Job | None:
        jobs = await self._fetch(f"SELECT {JOB_COLUMNS} FROM jobs WHERE key = ?", (key,))  # noqa: S608
        return jobs[0] if jobs else None

    async def list_jobs(
        self, state: JobState | None = None, limit: int = 100, offset: int = 0
    ) -> list[Job]:
        if state is None:
            sql = f"SELECT {JOB_COLUMNS} FROM jobs ORDER BY next_attempt_at, key LIMIT ? OFFSET ?"  # noqa: S608
            return await self._fetch(sql, (limit, offset))
        sql = (
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE state = ?"  # noqa: S608
            " ORDER BY next_attempt_at, key LIMIT ? OFFSET ?"
        )
        return await self._fetch(sql, (state.value, limit, offset))

    async def retry(self, key: str) -> bool:
        now = self._clock()
        return await self._update_one(
            "UPDATE jobs SET state = 'pending', next_attempt_at = ?, updated_at = ?,"
            " attempts = 0 WHERE key = ? AND state IN ('dead', 'retry')",
            (now, now, key),
            durable=True,
        )

    async def counts(self) -> dict[JobState, int]:
        def op(db: sqlite3.Connection) -> dict[JobState, int]:
            counts = dict.fromkeys(JobState, 0)
            for state, n in db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state"):
                counts[JobState(state)] = n
            return counts

        result: dict[JobState, int] = await self._read(op)
        return result

    async def gauges(self, now: datetime) -> LedgerGauges:
        at = ts(now)

        def op(db: sqlite3.Connection) -> LedgerGauges:
            by_state = dict.fromkeys(JobState, 0)
            for state, n in db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state"):
                by_state[JobState(state)] = n
            (oldest,) = db.execute(
                "SELECT MIN(next_attempt_at) FROM jobs"
                " WHERE state IN ('pending', 'retry') AND next_attempt_at <= ?",
                (at,),
            ).fetchone()
            dead = db.execute(
                "SELECT COALESCE(error_code, 'none'), COUNT(*) FROM jobs"
                " WHERE state = 'dead' GROUP BY 1"
            )
            age = max(0.0, at - oldest) if oldest is not None and at is not None else 0.0
            return LedgerGauges(by_state, age, {code: n for code, n in dead})

        result: LedgerGauges = await self._read(op)
        return result

    async def check_writable(self) -> None:
        def op(db: sqlite3.Connection) -> None:
            # a write statement opens a write transaction even when it matches no row:
            # a read-only file or a lock held past busy_timeout fails here
            db.execute("UPDATE jobs SET updated_at = updated_at WHERE 0")

        await self._write(op)

    async def has_work_due(self, before: datetime, ignore_kinds: Collection[JobKind]) -> bool:
        ignored = [kind.value for kind in ignore_kinds]
        not_ignored = f" AND kind NOT IN ({','.join('?' * len(ignored))})" if ignored else ""
        sql = (
            "SELECT EXISTS (SELECT 1 FROM jobs WHERE state = 'running')"  # noqa: S608
            " OR EXISTS (SELECT 1 FROM jobs"
            "  WHERE state IN ('pending', 'retry') AND next_attempt_at <= ?"
            f"{not_ignored})"
        )
        args = (ts(before), *ignored)

        def op(db: sqlite3.Connection) -> bool:
            return bool(db.execute(sql, args).fetchone()[0])

        due: bool = await self._read(op)
        return due
