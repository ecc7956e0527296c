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
in due order (``media_bridge.priority``).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from media_bridge.ledger.base import (
    TOMBSTONE,
    AddedJobs,
    LedgerDataError,
    LedgerGauges,
    SpeechTotals,
)
from media_bridge.ledger.dbthread import DbThread
from media_bridge.ledger.schema import migrate
from media_bridge.priority import Priority, of
from media_bridge.redact import mask_personal, redact_text
from media_bridge.types import Job, JobKind, JobState, NewJob

_JOB_COLUMNS = (
    "key, kind, payload, state, attempts, next_attempt_at, created_at, updated_at,"
    " last_error, error_code, result, worker_id, lease_until, priority"
)
_CHUNK = 500  # keys per IN (...) list, under SQLite's variable limit
LIVE = int(Priority.LIVE)


def _ts(value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _dt(value: float) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC)


def _switch_to_wal(conn: sqlite3.Connection, patience_s: float) -> str:
    """``PRAGMA journal_mode = WAL``, waiting out another process doing the same.

    The switch takes an exclusive lock and does not wait on the busy handler, so two
    processes opening a new file together can see "database is locked": try again.
    """
    deadline = time.monotonic() + patience_s
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _job(row: sqlite3.Row | tuple[Any, ...]) -> Job:
    (key, kind, payload, state, attempts, next_at, created, updated, error, code, result,
     worker, lease, priority) = row  # fmt: skip
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
        priority=int(priority),
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
        self._thread: DbThread | None = None

    # -- plumbing ---------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            mode = _switch_to_wal(conn, self._busy_timeout_ms / 1000)
            if mode.lower() != "wal" and self.path != ":memory:":
                raise RuntimeError(f"SQLite ledger {self.path}: WAL mode refused (got {mode})")
            conn.execute("PRAGMA synchronous = NORMAL")
            # savepoint and statement journals in memory, not in temp files (a write each)
            conn.execute("PRAGMA temp_store = MEMORY")
            migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    async def _read(self, op: Callable[[sqlite3.Connection], Any]) -> Any:
        if self._thread is None:
            raise RuntimeError("ledger is not open")
        return await self._thread.submit(op)

    async def _write(self, op: Callable[[sqlite3.Connection], Any], durable: bool = False) -> Any:
        if self._thread is None:
            raise RuntimeError("ledger is not open")
        return await self._thread.submit(op, write=True, durable=durable)

    async def open(self) -> None:
        if self._thread is not None:
            return
        thread = DbThread(self._connect, name=f"sqlite-ledger:{Path(self.path).name}")
        try:
            await thread.start()
        except BaseException:
            await thread.stop()
            raise
        self._thread = thread

    async def close(self) -> None:
        if self._thread is not None:
            thread, self._thread = self._thread, None
            await thread.stop()

    # -- recording ---------------------------------------------------------------

    async def add_jobs(self, jobs: Sequence[NewJob]) -> AddedJobs:
        if not jobs:
            return AddedJobs()
        now = self._clock()
        plain: list[tuple[Any, ...]] = []
        reopen: list[tuple[Any, ...]] = []
        for job in jobs:
            due = _ts(job.not_before) if job.not_before is not None else now
            row = (job.key, job.kind.value, _dumps(job.payload), due, now, now, of(job))
            (reopen if job.reopen else plain).append(row)
        live_keys = list(dict.fromkeys(row[0] for row in plain if row[-1] == LIVE))

        def op(db: sqlite3.Connection) -> AddedJobs:
            before = db.total_changes
            # the reopen rows' keys already held: each such upsert is an update, not a new job
            existing = 0
            reopen_keys = list(dict.fromkeys(row[0] for row in reopen))
            for i in range(0, len(reopen_keys), _CHUNK):
                chunk = reopen_keys[i : i + _CHUNK]
                marks = ",".join("?" * len(chunk))
                sql = f"SELECT count(*) FROM jobs WHERE key IN ({marks})"  # noqa: S608 (marks)
                found = db.execute(sql, chunk)
                existing += int(found.fetchone()[0])
            if plain:
                db.executemany(
                    "INSERT INTO jobs (key, kind, payload, state, attempts, next_attempt_at,"
                    " created_at, updated_at, priority)"
                    " VALUES (?, ?, ?, 'pending', 0, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                    plain,
                )
            if reopen:
                # done/dead -> pending again with a fresh budget (a new event must revive a
                # watch that died during an outage); pending/retry -> new payload, due no
                # later than asked; running -> flagged to run once more after it completes.
                # The class: a revived job takes the new one; a live event lifts a waiting
                # backfill job to live (never the other way)
                db.executemany(
                    "INSERT INTO jobs (key, kind, payload, state, attempts, next_attempt_at,"
                    " created_at, updated_at, priority)"
                    " VALUES (?, ?, ?, 'pending', 0, ?, ?, ?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET"
                    "  payload = excluded.payload,"
                    "  priority = CASE WHEN jobs.state IN ('done', 'dead') THEN excluded.priority"
                    "   ELSE MIN(jobs.priority, excluded.priority) END,"
                    "  updated_at = excluded.updated_at,"
                    "  state = CASE WHEN jobs.state IN ('done', 'dead') THEN 'pending'"
                    "   ELSE jobs.state END,"
                    "  attempts = CASE WHEN jobs.state IN ('done', 'dead') THEN 0"
                    "   ELSE jobs.attempts END,"
                    "  next_attempt_at = CASE WHEN jobs.state IN ('done', 'dead')"
                    "   THEN excluded.next_attempt_at"
                    "   WHEN jobs.state IN ('pending', 'retry')"
                    "   THEN MIN(jobs.next_attempt_at, excluded.next_attempt_at)"
                    "   ELSE jobs.next_attempt_at END,"
                    "  rerun = CASE WHEN jobs.state = 'running' THEN 1 ELSE jobs.rerun END",
                    reopen,
                )
            changed = int(db.total_changes - before)
            # a live job named again lifts the waiting job of its key (backfill found it first)
            promoted = 0
            for i in range(0, len(live_keys), _CHUNK):
                chunk = live_keys[i : i + _CHUNK]
                marks = ",".join("?" * len(chunk))
                lifted = db.execute(
                    f"UPDATE jobs SET priority = {LIVE} WHERE key IN ({marks})"  # noqa: S608
                    f" AND priority > {LIVE} AND state IN ('pending', 'retry', 'running')",
                    chunk,
                )
                promoted += int(lifted.rowcount)
            return AddedJobs(new=max(changed - existing, 0), reopened=existing, promoted=promoted)

        try:
            result: AddedJobs = await self._write(op, durable=self._durable_adds)
        except (UnicodeEncodeError, sqlite3.DataError) as exc:
            raise LedgerDataError(f"SQLite refused a value: {redact_text(str(exc))[:300]}") from exc
        return result

    async def existing_keys(self, keys: Iterable[str]) -> set[str]:
        unique = list(dict.fromkeys(keys))
        if not unique:
            return set()

        def op(db: sqlite3.Connection) -> set[str]:
            found: set[str] = set()
            for i in range(0, len(unique), _CHUNK):
                chunk = unique[i : i + _CHUNK]
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
                f" RETURNING {_JOB_COLUMNS}",
                (worker_id, lease, lease, now, now, *kind_values, n),
            ).fetchall()
            return [_job(row) for row in rows]

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
        tomb = _dumps(TOMBSTONE) if scrub else None
        return await self._update_one(
            "UPDATE jobs SET state = CASE WHEN rerun = 1 THEN 'pending' ELSE 'done' END,"
            " attempts = CASE WHEN rerun = 1 THEN 0 ELSE attempts END,"
            " payload = CASE WHEN rerun = 0 AND ? IS NOT NULL THEN ? ELSE payload END,"
            " rerun = 0, result = ?, next_attempt_at = ?, worker_id = NULL, lease_until = NULL,"
            " last_error = NULL, error_code = NULL, updated_at = ?"
            " WHERE key = ? AND state = 'running' AND worker_id = ?",
            (tomb, tomb, _dumps(result), now, now, key, worker_id),
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
        return await self._update_one(
            "UPDATE jobs SET state = ?, next_attempt_at = ?, last_error = ?, error_code = ?,"
            " worker_id = NULL, lease_until = NULL, rerun = 0, updated_at = ?"
            " WHERE key = ? AND state = 'running' AND worker_id = ?",
            (state, due, error, code, now, key, worker_id),
        )

    async def release(self, key: str, worker_id: str, not_before: datetime) -> bool:
        now = self._clock()
        due = _ts(not_before)
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
            return [_job(row) for row in db.execute(sql, args).fetchall()]

        jobs: list[Job] = await self._read(op)
        return jobs

    async def get(self, key: str) -> Job | None:
        jobs = await self._fetch(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE key = ?", (key,))  # noqa: S608
        return jobs[0] if jobs else None

    async def list_jobs(
        self, state: JobState | None = None, limit: int = 100, offset: int = 0
    ) -> list[Job]:
        if state is None:
            sql = f"SELECT {_JOB_COLUMNS} FROM jobs ORDER BY next_attempt_at, key LIMIT ? OFFSET ?"  # noqa: S608
            return await self._fetch(sql, (limit, offset))
        sql = (
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE state = ?"  # noqa: S608
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
        at = _ts(now)

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
        args = (_ts(before), *ignored)

        def op(db: sqlite3.Connection) -> bool:
            return bool(db.execute(sql, args).fetchone()[0])

        due: bool = await self._read(op)
        return due

    async def record_rejected(self, source: str, reason: str, raw: bytes) -> None:
        await self.record_rejected_many([(source, reason, raw)])

    async def record_rejected_many(self, rows: Sequence[tuple[str, str, bytes]]) -> None:
        if not rows:
            return
        now = self._clock()
        values = [(source, reason, mask_personal(bytes(raw)), now) for source, reason, raw in rows]

        def op(db: sqlite3.Connection) -> None:
            db.executemany(
                "INSERT INTO rejected_events (source, reason, raw, received_at)"
                " VALUES (?, ?, ?, ?)",
                values,
            )

        await self._write(op, durable=self._durable_adds)

    async def list_rejected(self, limit: int = 100) -> list[dict[str, Any]]:
        def op(db: sqlite3.Connection) -> list[dict[str, Any]]:
            rows = db.execute(
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

        result: list[dict[str, Any]] = await self._read(op)
        return result

    # -- enrolment progress --------------------------------------------------------

    @staticmethod
    def _totals(db: sqlite3.Connection, speaker_key: str) -> SpeechTotals:
        clips, total = db.execute(
            "SELECT COUNT(*), COALESCE(SUM(net_speech_s), 0) FROM speech_clips"
            " WHERE speaker_key = ?",
            (speaker_key,),
        ).fetchone()
        return SpeechTotals(clips=int(clips), net_speech_s=round(float(total), 3))

    async def record_speech(
        self, speaker_key: str, job_key: str, net_speech_s: float
    ) -> SpeechTotals:
        now = self._clock()

        def op(db: sqlite3.Connection) -> SpeechTotals:
            db.execute(
                "INSERT INTO speech_clips (speaker_key, job_key, net_speech_s, recorded_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (speaker_key, job_key) DO NOTHING",
                (speaker_key, job_key, float(net_speech_s), now),
            )
            return self._totals(db, speaker_key)

        totals: SpeechTotals = await self._write(op)
        return totals

    async def speech_totals(self, speaker_key: str) -> SpeechTotals:
        totals: SpeechTotals = await self._read(lambda db: self._totals(db, speaker_key))
        return totals

    # -- retention and erasure -----------------------------------------------------

    async def _count_or_run(
        self, where: str, args: tuple[Any, ...], action: str, dry_run: bool
    ) -> int:
        def op(db: sqlite3.Connection) -> int:
            if dry_run:
                return int(db.execute(f"SELECT COUNT(*) FROM {where}", args).fetchone()[0])  # noqa: S608
            return int(db.execute(f"{action} {where}", args).rowcount)

        changed: int = await (self._read(op) if dry_run else self._write(op, durable=True))
        return changed

    async def tombstone_done(self, before: datetime, dry_run: bool = False) -> int:
        tomb = _dumps(TOMBSTONE)
        where = "jobs WHERE state = 'done' AND updated_at < ? AND payload != ?"
        if dry_run:
            return await self._count_or_run(where, (_ts(before), tomb), "", True)

        def op(db: sqlite3.Connection) -> int:
            return int(
                db.execute(
                    "UPDATE jobs SET payload = ?, last_error = NULL,"
                    " result = json_object('tombstone', json('true'),"
                    "   'sha256', json_extract(result, '$.sha256'))"
                    " WHERE state = 'done' AND updated_at < ? AND payload != ?",
                    (tomb, _ts(before), tomb),
                ).rowcount
            )

        changed: int = await self._write(op, durable=True)
        return changed

    async def purge_done(self, before: datetime, dry_run: bool = False) -> int:
        where = "jobs WHERE state = 'done' AND updated_at < ?"
        return await self._count_or_run(where, (_ts(before),), "DELETE FROM", dry_run)

    async def purge_rejected(self, before: datetime, dry_run: bool = False) -> int:
        where = "rejected_events WHERE received_at < ?"
        return await self._count_or_run(where, (_ts(before),), "DELETE FROM", dry_run)

    async def scan_payloads(
        self, after_key: str | None, limit: int
    ) -> list[tuple[str, JobState, dict[str, Any]]]:
        tomb = _dumps(TOMBSTONE)

        def op(db: sqlite3.Connection) -> list[tuple[str, JobState, dict[str, Any]]]:
            rows = db.execute(
                "SELECT key, state, payload FROM jobs WHERE key > ? AND payload != ?"
                " ORDER BY key LIMIT ?",
                (after_key or "", tomb, limit),
            ).fetchall()
            return [(key, JobState(state), json.loads(payload)) for key, state, payload in rows]

        found: list[tuple[str, JobState, dict[str, Any]]] = await self._read(op)
        return found

    async def forget_jobs(self, keys: Sequence[str], dry_run: bool = False) -> int:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return 0
        tomb = _dumps(TOMBSTONE)
        marks = ",".join("?" * len(wanted))
        where = f"jobs WHERE key IN ({marks}) AND payload != ?"
        if dry_run:
            return await self._count_or_run(where, (*wanted, tomb), "", True)
        now = self._clock()
        forgotten = _dumps({"tombstone": True, "forgotten": True})

        def op(db: sqlite3.Connection) -> int:
            return int(
                db.execute(
                    "UPDATE jobs SET state = 'done', payload = ?, result = ?, worker_id = NULL,"  # noqa: S608
                    " lease_until = NULL, last_error = NULL, error_code = NULL, rerun = 0,"
                    f" next_attempt_at = ?, updated_at = ? WHERE key IN ({marks}) AND payload != ?",
                    (tomb, forgotten, now, now, *wanted, tomb),
                ).rowcount
            )

        changed: int = await self._write(op, durable=True)
        return changed

    async def forget_speech(self, speaker_keys: Sequence[str], dry_run: bool = False) -> int:
        wanted = list(dict.fromkeys(speaker_keys))
        if not wanted:
            return 0
        where = f"speech_clips WHERE speaker_key IN ({','.join('?' * len(wanted))})"
        return await self._count_or_run(where, tuple(wanted), "DELETE FROM", dry_run)
