"""The SQLite ledger: one file, WAL, one connection on one dedicated thread.

Every sqlite3 call runs on a single-thread executor, so the event loop never blocks
and writes are serialised without a Python lock. Times are stored as epoch seconds
(REAL, UTC) so due-time comparisons are plain number comparisons on an index.

Durability: the database runs in WAL mode with ``synchronous=NORMAL`` for lease
bookkeeping (claim, complete, fail, release): a committed transaction survives a
process crash (kill -9), only an OS crash or power loss can drop the last ones, and
then a job merely runs again (sinks are idempotent). Transactions whose return lets
a source acknowledge events (``add_jobs``, ``record_rejected``) and operator
``retry`` commit with ``synchronous=FULL`` (the WAL is fsynced before returning),
so they also survive power loss. ``durable_adds=False`` trades that for speed.

Claiming uses one trick: a running job's ``next_attempt_at`` equals its
``lease_until``, so "due" is one condition for every active state and one partial
index (``jobs_due``) serves the claim query in due order.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from media_bridge.ledger.schema import migrate
from media_bridge.types import Job, JobKind, JobState, NewJob

T = TypeVar("T")

_ACTIVE = ("pending", "retry", "running")
_JOB_COLUMNS = (
    "key, kind, payload, state, attempts, next_attempt_at, created_at, updated_at,"
    " last_error, error_code, result, worker_id, lease_until"
)
_CHUNK = 500  # keys per IN (...) list, under SQLite's variable limit


def _ts(value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _dt(value: float) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC)


def _job(row: sqlite3.Row | tuple[Any, ...]) -> Job:
    (key, kind, payload, state, attempts, next_at, created, updated, error, code, result,
     worker, lease) = row  # fmt: skip
    return Job(
        key=key,
        kind=JobKind(kind),
        payload=json.loads(payload),
        state=JobState(state),
        attempts=attempts,
        next_attempt_at=_dt(next_at),
        created_at=_dt(created),
        updated_at=_dt(updated),
        last_error=error,
        error_code=code,
        result=json.loads(result) if result is not None else None,
        worker_id=worker,
        lease_until=_dt(lease) if lease is not None else None,
    )


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


class SqliteLedger:
    """``media_bridge.ledger.base.Ledger`` on one SQLite file."""

    def __init__(
        self,
        path: str | Path,
        *,
        durable_adds: bool = True,
        busy_timeout_ms: int = 10_000,
        max_attempts: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``max_attempts``: a running job whose lease lapsed this many times is made dead
        (``error_code='lease_expired'``) instead of claimed again: a job that kills its
        worker must not loop forever. None: no limit (the worker's fail() decides)."""
        self.path = str(path)
        self._durable_adds = durable_adds
        self._busy_timeout_ms = busy_timeout_ms
        self._max_attempts = max_attempts
        self._clock = clock
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None

    # -- plumbing ---------------------------------------------------------------

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise RuntimeError("ledger is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, *args)

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("ledger is not open")
        return self._conn

    def _connect(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True)
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal" and self.path != ":memory:":
            conn.close()
            raise RuntimeError(f"SQLite ledger {self.path}: WAL mode refused (got {mode})")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn)
        self._conn = conn

    def _disconnect(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute("PRAGMA optimize")
            finally:
                self._conn.close()
                self._conn = None

    def _write(self, fn: Callable[[sqlite3.Connection], T], *, durable: bool = False) -> T:
        """Run ``fn`` in one IMMEDIATE transaction; ``durable`` fsyncs the WAL at commit."""
        db = self._db
        if durable:
            db.execute("PRAGMA synchronous = FULL")
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                value = fn(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return value
        finally:
            if durable:
                db.execute("PRAGMA synchronous = NORMAL")

    async def open(self) -> None:
        if self._executor is not None:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-ledger")
        try:
            await self._run(self._connect)
        except BaseException:
            self._executor.shutdown(wait=True)
            self._executor = None
            raise

    async def close(self) -> None:
        if self._executor is None:
            return
        try:
            await self._run(self._disconnect)
        finally:
            self._executor.shutdown(wait=True)
            self._executor = None

    # -- recording ---------------------------------------------------------------

    def _add_jobs(self, jobs: Sequence[NewJob]) -> int:
        now = self._clock()
        plain: list[tuple[Any, ...]] = []
        reopen: list[tuple[Any, ...]] = []
        for job in jobs:
            due = _ts(job.not_before) if job.not_before is not None else now
            row = (job.key, job.kind.value, _dumps(job.payload), due, now, now)
            (reopen if job.reopen else plain).append(row)

        def tx(db: sqlite3.Connection) -> int:
            before = db.total_changes
            if plain:
                db.executemany(
                    "INSERT INTO jobs (key, kind, payload, state, attempts, next_attempt_at,"
                    " created_at, updated_at) VALUES (?, ?, ?, 'pending', 0, ?, ?, ?)"
                    " ON CONFLICT (key) DO NOTHING",
                    plain,
                )
            if reopen:
                # done -> pending again; running -> flagged to run once more after it completes
                db.executemany(
                    "INSERT INTO jobs (key, kind, payload, state, attempts, next_attempt_at,"
                    " created_at, updated_at) VALUES (?, ?, ?, 'pending', 0, ?, ?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET"
                    "  payload = excluded.payload,"
                    "  updated_at = excluded.updated_at,"
                    "  state = CASE WHEN jobs.state = 'done' THEN 'pending' ELSE jobs.state END,"
                    "  attempts = CASE WHEN jobs.state = 'done' THEN 0 ELSE jobs.attempts END,"
                    "  next_attempt_at = CASE WHEN jobs.state = 'done'"
                    "   THEN excluded.next_attempt_at ELSE jobs.next_attempt_at END,"
                    "  rerun = CASE WHEN jobs.state = 'running' THEN 1 ELSE jobs.rerun END"
                    " WHERE jobs.state IN ('done', 'running')",
                    reopen,
                )
            return db.total_changes - before

        return self._write(tx, durable=self._durable_adds)

    async def add_jobs(self, jobs: Sequence[NewJob]) -> int:
        if not jobs:
            return 0
        return await self._run(self._add_jobs, list(jobs))

    def _existing_keys(self, keys: list[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT key FROM jobs WHERE key IN ({marks})", chunk)  # noqa: S608
            found.update(row[0] for row in rows)
        return found

    async def existing_keys(self, keys: Iterable[str]) -> set[str]:
        unique = list(dict.fromkeys(keys))
        if not unique:
            return set()
        return await self._run(self._existing_keys, unique)

    # -- leases ------------------------------------------------------------------

    def _claim(
        self, worker_id: str, limit: int, lease_seconds: float, kinds: list[str] | None
    ) -> list[Job]:
        now = self._clock()
        lease = now + lease_seconds
        kind_sql, kind_args = "", []
        if kinds:
            kind_sql = f" AND kind IN ({','.join('?' * len(kinds))})"
            kind_args = kinds

        def tx(db: sqlite3.Connection) -> list[Job]:
            if self._max_attempts is not None:
                db.execute(
                    "UPDATE jobs SET state = 'dead', error_code = 'lease_expired',"
                    " last_error = 'the lease lapsed on every attempt: the job may crash"
                    " its worker', worker_id = NULL, lease_until = NULL, updated_at = ?"
                    " WHERE state = 'running' AND next_attempt_at <= ? AND attempts >= ?",
                    (now, now, self._max_attempts),
                )
            rows = db.execute(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, worker_id = ?,"  # noqa: S608
                " lease_until = ?, next_attempt_at = ?, updated_at = ?"
                " WHERE key IN (SELECT key FROM jobs INDEXED BY jobs_due"
                "  WHERE state IN ('pending', 'retry', 'running') AND next_attempt_at <= ?"
                f"{kind_sql} ORDER BY next_attempt_at LIMIT ?)"
                f" RETURNING {_JOB_COLUMNS}",
                (worker_id, lease, lease, now, now, *kind_args, limit),
            ).fetchall()
            return [_job(row) for row in rows]

        jobs = self._write(tx)
        jobs.sort(key=lambda j: (j.created_at, j.key))
        return jobs

    async def claim(
        self,
        worker_id: str,
        limit: int,
        lease_seconds: float,
        kinds: Sequence[JobKind] | None = None,
    ) -> list[Job]:
        if limit <= 0:
            return []
        kind_values = [k.value for k in kinds] if kinds else None
        return await self._run(self._claim, worker_id, limit, lease_seconds, kind_values)

    def _extend(self, keys: list[str], worker_id: str, lease_seconds: float) -> None:
        now = self._clock()
        lease = now + lease_seconds

        def tx(db: sqlite3.Connection) -> None:
            db.executemany(
                "UPDATE jobs SET lease_until = ?, next_attempt_at = ?, updated_at = ?"
                " WHERE key = ? AND state = 'running' AND worker_id = ?",
                [(lease, lease, now, key, worker_id) for key in keys],
            )

        self._write(tx)

    async def extend_lease(self, keys: Sequence[str], worker_id: str, lease_seconds: float) -> None:
        if keys:
            await self._run(self._extend, list(keys), worker_id, lease_seconds)

    def _holder_update(self, sql: str, args: tuple[Any, ...], durable: bool = False) -> bool:
        def tx(db: sqlite3.Connection) -> bool:
            return db.execute(sql, args).rowcount == 1

        return self._write(tx, durable=durable)

    async def complete(self, key: str, worker_id: str, result: dict[str, Any]) -> bool:
        now = self._clock()
        # a reopen that arrived while running (rerun = 1) makes the job pending again now
        return await self._run(
            self._holder_update,
            "UPDATE jobs SET state = CASE WHEN rerun = 1 THEN 'pending' ELSE 'done' END,"
            " attempts = CASE WHEN rerun = 1 THEN 0 ELSE attempts END, rerun = 0,"
            " result = ?, next_attempt_at = ?, worker_id = NULL, lease_until = NULL,"
            " last_error = NULL, error_code = NULL, updated_at = ?"
            " WHERE key = ? AND state = 'running' AND worker_id = ?",
            (_dumps(result), now, now, key, worker_id),
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
        due = _ts(retry_at) if retry_at is not None else now
        return await self._run(
            self._holder_update,
            "UPDATE jobs SET state = ?, next_attempt_at = ?, last_error = ?, error_code = ?,"
            " worker_id = NULL, lease_until = NULL, rerun = 0, updated_at = ?"
            " WHERE key = ? AND state = 'running' AND worker_id = ?",
            (state, due, error, code, now, key, worker_id),
        )

    async def release(self, key: str, worker_id: str, not_before: datetime) -> bool:
        now = self._clock()
        # the claim's attempt is given back: a watch released every poll must not age out
        return await self._run(
            self._holder_update,
            "UPDATE jobs SET state = 'pending', attempts = MAX(attempts - 1, 0),"
            " next_attempt_at = CASE WHEN rerun = 1 THEN MIN(?, ?) ELSE ? END, rerun = 0,"
            " worker_id = NULL, lease_until = NULL, updated_at = ?"
            " WHERE key = ? AND state = 'running' AND worker_id = ?",
            (_ts(not_before), now, _ts(not_before), now, key, worker_id),
        )

    # -- operator ----------------------------------------------------------------

    def _fetch(self, sql: str, args: tuple[Any, ...]) -> list[Job]:
        return [_job(row) for row in self._db.execute(sql, args).fetchall()]

    async def get(self, key: str) -> Job | None:
        jobs = await self._run(
            self._fetch,
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE key = ?",  # noqa: S608
            (key,),
        )
        return jobs[0] if jobs else None

    async def list_jobs(
        self, state: JobState | None = None, limit: int = 100, offset: int = 0
    ) -> list[Job]:
        if state is None:
            sql = f"SELECT {_JOB_COLUMNS} FROM jobs ORDER BY next_attempt_at, key LIMIT ? OFFSET ?"  # noqa: S608
            return await self._run(self._fetch, sql, (limit, offset))
        sql = (
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE state = ?"  # noqa: S608
            " ORDER BY next_attempt_at, key LIMIT ? OFFSET ?"
        )
        return await self._run(self._fetch, sql, (state.value, limit, offset))

    async def retry(self, key: str) -> bool:
        now = self._clock()
        return await self._run(
            self._holder_update,
            "UPDATE jobs SET state = 'pending', next_attempt_at = ?, updated_at = ?"
            " WHERE key = ? AND state IN ('dead', 'retry')",
            (now, now, key),
            True,
        )

    def _counts(self) -> dict[JobState, int]:
        counts = dict.fromkeys(JobState, 0)
        for state, n in self._db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state"):
            counts[JobState(state)] = n
        return counts

    async def counts(self) -> dict[JobState, int]:
        return await self._run(self._counts)

    def _record_rejected(self, source: str, reason: str, raw: bytes) -> None:
        now = self._clock()

        def tx(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO rejected_events (source, reason, raw, received_at)"
                " VALUES (?, ?, ?, ?)",
                (source, reason, bytes(raw), now),
            )

        self._write(tx, durable=self._durable_adds)

    async def record_rejected(self, source: str, reason: str, raw: bytes) -> None:
        await self._run(self._record_rejected, source, reason, raw)

    def _list_rejected(self, limit: int) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT id, source, reason, raw, received_at FROM rejected_events"
            " ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [
            {
                "id": row_id,
                "source": source,
                "reason": reason,
                "raw": bytes(raw).decode("utf-8", errors="replace"),
                "raw_size": len(raw),
                "received_at": _dt(received),
            }
            for row_id, source, reason, raw, received in rows
        ]

    async def list_rejected(self, limit: int = 100) -> list[dict[str, Any]]:
        return await self._run(self._list_rejected, limit)
