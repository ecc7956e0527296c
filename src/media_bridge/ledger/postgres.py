"""The PostgreSQL ledger: several workers on several machines share one job table.

Claims use ``SELECT ... FOR UPDATE SKIP LOCKED`` inside a CTE feeding an
``UPDATE ... RETURNING``, so concurrent workers never take the same row and never
wait on each other. Time is the database's clock (``now()``), so leases mean the
same thing to every worker whatever their own clocks say. ``due_at`` holds when a
row can next be claimed (``next_attempt_at`` while pending/retry, ``lease_until``
while running, NULL when done/dead); a partial index on ``(priority, due_at)`` serves
every claim: live jobs first, each class in due order (``media_bridge.priority``).

Durability, as in the SQLite ledger: what lets a source acknowledge events
(``add_jobs``, ``record_rejected``) and the operator's ``retry`` commit with
``synchronous_commit = on`` (the WAL is flushed before the call returns); lease
bookkeeping (claim, extend, complete, fail, release) commits asynchronously - a
server crash can forget the last few, and then a job merely runs again (sinks are
idempotent). That is what makes claims fast: no fsync per completed job.

A lost connection (PostgreSQL restarting, a failover) is retried for
``reconnect_window_s`` before the error reaches the worker.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from media_bridge.errors import ConfigError, LedgerUnreachable
from media_bridge.ledger.base import (
    TOMBSTONE,
    AddedJobs,
    LedgerDataError,
    LedgerGauges,
    SpeechTotals,
)
from media_bridge.ledger.pg_migrate import migrate
from media_bridge.observability import get_logger
from media_bridge.priority import Priority, of
from media_bridge.redact import mask_personal, redact_text, redact_url
from media_bridge.types import Job, JobKind, JobState, NewJob

T = TypeVar("T")
LIVE = int(Priority.LIVE)
_TOP = 32767  # the highest class a smallint holds
log = get_logger(__name__)

_SELECT_JOBS = """SELECT key, kind, payload, state, attempts, next_attempt_at, created_at,
    updated_at, last_error, error_code, result, worker_id, lease_until, priority FROM jobs"""
#: the advisory lock class of "one speaker's speech clips" (the key's hash is the object)
_SPEECH_LOCK_CLASS = 0x6D62  # "mb"
_SPEECH_TOTALS = """SELECT count(*) AS clips, coalesce(sum(net_speech_s), 0) AS total
    FROM speech_clips WHERE speaker_key = $1"""
#: a running job whose lease lapsed on every one of ``max_attempts`` attempts likely
#: crashes its worker: park it for an operator instead of handing it out again
_PARK_CRASHING_JOBS = """
    UPDATE jobs SET state = 'dead', error_code = 'lease_expired',
        last_error = 'the lease lapsed on every attempt: the job may crash its worker',
        worker_id = NULL, lease_until = NULL, due_at = NULL, rerun = false, updated_at = now()
    WHERE due_at IS NOT NULL AND due_at <= now() AND state = 'running' AND attempts >= $1
"""
_RETRYABLE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    # asyncpg can leave a pooled connection mid-operation after the server vanished
    asyncpg.InternalClientError,
)


def _describe(exc: BaseException) -> str:
    text = redact_text(str(exc)).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _aware(moment: datetime | None) -> datetime | None:
    """Naive datetimes are taken as UTC (the bridge works in UTC throughout)."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _dsn(url: str) -> str:
    """Accept ``postgresql://``, ``postgres://`` and SQLAlchemy-style ``postgresql+asyncpg://``."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0] not in {"postgresql", "postgres"}:
        raise ConfigError(f"not a PostgreSQL URL: {redact_url(url)}")
    return f"postgresql://{rest}"


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


def _job(row: asyncpg.Record) -> Job:
    return Job(
        key=row["key"],
        kind=JobKind(row["kind"]),
        payload=row["payload"],
        state=JobState(row["state"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_error=row["last_error"],
        error_code=row["error_code"],
        result=row["result"],
        worker_id=row["worker_id"],
        lease_until=row["lease_until"],
        priority=int(row["priority"]),
    )


#: URL query options read by the bridge (the rest go to asyncpg / the server)
_OWN_OPTIONS = {"max_attempts", "pool_max", "reconnect_s"}


def ledger_from_url(url: str) -> PostgresLedger:
    """``postgresql://user:pass@host:5432/db?max_attempts=8&pool_max=5&reconnect_s=60``."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    own = {k: v for k, v in query if k in _OWN_OPTIONS}
    rest = urlencode([(k, v) for k, v in query if k not in _OWN_OPTIONS])
    return PostgresLedger(
        urlunsplit(parts._replace(query=rest)),
        max_attempts=int(own["max_attempts"]) if own.get("max_attempts") else None,
        max_connections=int(own.get("pool_max") or 5),
        reconnect_window_s=float(own.get("reconnect_s") or 60.0),
    )


class PostgresLedger:
    """The ``Ledger`` protocol on PostgreSQL (asyncpg, a small connection pool)."""

    def __init__(
        self,
        url: str,
        *,
        min_connections: int = 1,
        max_connections: int = 5,
        reconnect_window_s: float = 60.0,
        max_attempts: int | None = None,
    ) -> None:
        """``max_attempts``: a running job whose lease lapsed this many times is made dead
        (``error_code='lease_expired'``) instead of claimed again."""
        self._dsn = _dsn(url)
        self._max_attempts = max_attempts
        self._min = min_connections
        self._max = max_connections
        self._reconnect_window_s = reconnect_window_s
        self._pool: asyncpg.Pool | None = None

    # -- lifecycle -------------------------------------------------------------

    async def open(self) -> None:
        """Connect (retrying for ``reconnect_window_s``, each attempt logged) and migrate.
        A server that never answered, or refused the login, is a ``LedgerUnreachable``."""
        if self._pool is not None:
            return
        where = redact_url(self._dsn)
        try:
            pool = await self._with_reconnect(self._create_pool, what="connect")
        except _RETRYABLE_ERRORS as exc:
            raise LedgerUnreachable(
                f"the PostgreSQL ledger {where} did not answer within "
                f"{self._reconnect_window_s:g} s ({_describe(exc)}); check ledger.url "
                "(MEDIA_BRIDGE_LEDGER__URL) and that the server is up"
            ) from None
        except (
            asyncpg.InvalidAuthorizationSpecificationError,
            asyncpg.InvalidPasswordError,
            asyncpg.InvalidCatalogNameError,
        ) as exc:
            raise LedgerUnreachable(
                f"the PostgreSQL ledger {where} refused the connection ({_describe(exc)}); "
                "check the user, password and database in ledger.url (MEDIA_BRIDGE_LEDGER__URL)"
            ) from None
        try:
            async with pool.acquire() as conn:
                await migrate(conn)  # type: ignore[arg-type]  # pool proxy wraps a Connection
        except BaseException:
            await pool.close()
            raise
        self._pool = pool

    async def _create_pool(self) -> asyncpg.Pool:
        return await asyncpg.create_pool(
            self._dsn,
            min_size=self._min,
            max_size=self._max,
            init=_init_connection,
            command_timeout=60,
            # lease bookkeeping commits without waiting for the WAL flush; see _durable
            server_settings={"synchronous_commit": "off"},
        )

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    def _require_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("PostgresLedger used before open()")
        return self._pool

    async def _with_reconnect(
        self, operation: Callable[[], Awaitable[T]], *, what: str = "query"
    ) -> T:
        """Run ``operation``, retrying connection-level failures with backoff for a while;
        each retry is logged (``ledger.reconnect``) with the attempt and the error."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._reconnect_window_s
        delay = 0.1
        attempt = 0
        while True:
            attempt += 1
            try:
                return await operation()
            except _RETRYABLE_ERRORS as exc:
                remaining = deadline - loop.time()
                if remaining < delay:
                    raise
                log.warning(
                    "ledger.reconnect",
                    operation=what,
                    attempt=attempt,
                    error=_describe(exc),
                    retry_in_s=round(delay, 2),
                    gives_up_in_s=round(remaining, 1),
                )
                if self._pool is not None:
                    # drop every pooled connection: after an outage they are all dead
                    await self._pool.expire_connections()
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 2.0)

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async def run() -> list[asyncpg.Record]:
            async with self._require_pool().acquire() as conn:
                return list(await conn.fetch(sql, *args))

        return await self._with_reconnect(run)

    async def _fetch_durable(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """Like ``_fetch``, but the commit waits for the WAL flush (``synchronous_commit``)."""

        async def run() -> list[asyncpg.Record]:
            async with self._require_pool().acquire() as conn, conn.transaction():
                await conn.execute("SET LOCAL synchronous_commit = on")
                return list(await conn.fetch(sql, *args))

        return await self._with_reconnect(run)

    async def _execute(self, sql: str, *args: Any) -> str:
        async def run() -> str:
            async with self._require_pool().acquire() as conn:
                return str(await conn.execute(sql, *args))

        return await self._with_reconnect(run)

    # -- recording ---------------------------------------------------------------

    async def add_jobs(self, jobs: Sequence[NewJob]) -> AddedJobs:
        if not jobs:
            return AddedJobs()
        keys = [job.key for job in jobs]
        kinds = [str(job.kind) for job in jobs]
        payloads = [json.dumps(job.payload) for job in jobs]
        not_befores = [_aware(job.not_before) for job in jobs]
        reopens = [job.reopen for job in jobs]
        priorities = [of(job) for job in jobs]
        # One statement: insert new keys, reopen done ones that asked for it.
        # Within one call a key given twice counts once (the first wins).
        sql = """
            WITH incoming AS (
                SELECT DISTINCT ON (key) key, kind, payload::jsonb AS payload,
                       coalesce(not_before, now()) AS due, reopen, priority
                FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::bool[],
                            $6::smallint[])
                     WITH ORDINALITY AS t(key, kind, payload, not_before, reopen, priority, ord)
                ORDER BY key, ord
            ), inserted AS (
                INSERT INTO jobs (key, kind, payload, state, attempts, next_attempt_at, due_at,
                                  priority)
                SELECT key, kind, payload, 'pending', 0, due, due, priority FROM incoming
                ON CONFLICT (key) DO NOTHING
                RETURNING key
            ), reopened AS (
                -- done/dead -> pending again with a fresh budget; pending/retry -> new
                -- payload, due no later than asked; running -> run once more after it.
                -- The class: a revived job takes the new one; a live event lifts a
                -- waiting backfill job to live (never the other way)
                UPDATE jobs j
                SET payload = i.payload, updated_at = now(),
                    priority = CASE WHEN j.state IN ('done', 'dead') THEN i.priority
                                    ELSE least(j.priority, i.priority) END,
                    state = CASE WHEN j.state IN ('done', 'dead') THEN 'pending' ELSE j.state END,
                    attempts = CASE WHEN j.state IN ('done', 'dead') THEN 0 ELSE j.attempts END,
                    next_attempt_at = CASE WHEN j.state IN ('done', 'dead') THEN i.due
                                           WHEN j.state IN ('pending', 'retry')
                                           THEN least(j.next_attempt_at, i.due)
                                           ELSE j.next_attempt_at END,
                    due_at = CASE WHEN j.state IN ('done', 'dead') THEN i.due
                                  WHEN j.state IN ('pending', 'retry') THEN least(j.due_at, i.due)
                                  ELSE j.due_at END,
                    rerun = (j.state = 'running') OR j.rerun
                FROM incoming i
                WHERE j.key = i.key AND i.reopen
                  AND i.key NOT IN (SELECT key FROM inserted)
                RETURNING j.key
            ), promoted AS (
                -- a live job named again lifts the waiting job of its key (the rows just
                -- inserted are not in this statement's snapshot)
                UPDATE jobs j SET priority = 0
                FROM incoming i
                WHERE j.key = i.key AND NOT i.reopen AND i.priority = 0 AND j.priority > 0
                  AND j.state IN ('pending', 'retry', 'running')
                RETURNING j.key
            )
            SELECT (SELECT count(*) FROM inserted) AS new,
                   (SELECT count(*) FROM reopened) AS reopened,
                   (SELECT count(*) FROM promoted) AS promoted
        """
        try:
            rows = await self._fetch_durable(
                sql, keys, kinds, payloads, not_befores, reopens, priorities
            )
        except asyncpg.DataError as exc:
            raise LedgerDataError(
                f"PostgreSQL refused a value: {redact_text(str(exc))[:300]}"
            ) from exc
        return AddedJobs(
            new=int(rows[0]["new"]),
            reopened=int(rows[0]["reopened"]),
            promoted=int(rows[0]["promoted"]),
        )

    async def existing_keys(self, keys: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return set()
        rows = await self._fetch("SELECT key FROM jobs WHERE key = ANY($1::text[])", wanted)
        return {row["key"] for row in rows}

    # -- claiming and leases ---------------------------------------------------------

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
        kind_filter = None if kinds is None else [str(kind) for kind in kinds]
        # $5, $6: the classes taken (live is 0: [0, 0] live only, [1, max] the others)
        sql = """
            WITH due AS (
                SELECT key FROM jobs
                WHERE due_at IS NOT NULL AND due_at <= now()
                  AND ($4::text[] IS NULL OR kind = ANY($4::text[]))
                  AND priority BETWEEN $5 AND $6
                ORDER BY priority, due_at
                LIMIT $2
                FOR UPDATE SKIP LOCKED
            )
            UPDATE jobs j
            SET state = 'running', worker_id = $1, attempts = j.attempts + 1,
                lease_until = now() + make_interval(secs => $3),
                due_at = now() + make_interval(secs => $3), updated_at = now()
            FROM due WHERE j.key = due.key
            RETURNING j.key, j.kind, j.payload, j.state, j.attempts, j.next_attempt_at,
                      j.created_at, j.updated_at, j.last_error, j.error_code, j.result,
                      j.worker_id, j.lease_until, j.priority
        """
        max_attempts = self._max_attempts
        lease = float(lease_seconds)

        async def run() -> list[asyncpg.Record]:
            async with self._require_pool().acquire() as conn, conn.transaction():
                if max_attempts is not None:
                    await conn.execute(_PARK_CRASHING_JOBS, max_attempts)
                if non_live_limit is None:
                    return list(
                        await conn.fetch(sql, worker_id, limit, lease, kind_filter, LIVE, _TOP)
                    )
                live = list(await conn.fetch(sql, worker_id, limit, lease, kind_filter, LIVE, LIVE))
                others = min(limit - len(live), non_live_limit)
                if others <= 0:
                    return live
                return live + list(
                    await conn.fetch(sql, worker_id, others, lease, kind_filter, LIVE + 1, _TOP)
                )

        rows = await self._with_reconnect(run)
        jobs = [_job(row) for row in rows]
        jobs.sort(key=lambda job: (job.priority, job.created_at, job.key))
        return jobs

    async def extend_lease(self, keys: Sequence[str], worker_id: str, lease_seconds: float) -> None:
        if not keys:
            return
        await self._execute(
            """UPDATE jobs
               SET lease_until = now() + make_interval(secs => $3),
                   due_at = now() + make_interval(secs => $3), updated_at = now()
               WHERE key = ANY($1::text[]) AND worker_id = $2 AND state = 'running'""",
            list(keys),
            worker_id,
            float(lease_seconds),
        )

    async def complete(
        self, key: str, worker_id: str, result: dict[str, Any], scrub: bool = False
    ) -> bool:
        status = await self._execute(
            """UPDATE jobs
               SET state = CASE WHEN rerun THEN 'pending' ELSE 'done' END,
                   payload = CASE WHEN NOT rerun AND $4 THEN $5::jsonb ELSE payload END,
                   attempts = CASE WHEN rerun THEN 0 ELSE attempts END,
                   next_attempt_at = CASE WHEN rerun THEN now() ELSE next_attempt_at END,
                   due_at = CASE WHEN rerun THEN now() END, rerun = false,
                   result = $3::jsonb, worker_id = NULL, lease_until = NULL,
                   last_error = NULL, error_code = NULL, updated_at = now()
               WHERE key = $1 AND worker_id = $2 AND state = 'running'""",
            key,
            worker_id,
            result,
            scrub,
            TOMBSTONE,
        )
        return status.endswith(" 1")

    async def fail(
        self,
        key: str,
        worker_id: str,
        error: str,
        code: str,
        retry_at: datetime | None,
    ) -> bool:
        retry_at = _aware(retry_at)
        status = await self._execute(
            """UPDATE jobs
               SET state = CASE WHEN $5::timestamptz IS NULL THEN 'dead' ELSE 'retry' END,
                   next_attempt_at = coalesce($5::timestamptz, next_attempt_at),
                   due_at = $5::timestamptz, last_error = $3, error_code = $4,
                   worker_id = NULL, lease_until = NULL, rerun = false, updated_at = now()
               WHERE key = $1 AND worker_id = $2 AND state = 'running'""",
            key,
            worker_id,
            error,
            code,
            retry_at,
        )
        return status.endswith(" 1")

    async def release(self, key: str, worker_id: str, not_before: datetime) -> bool:
        status = await self._execute(
            """UPDATE jobs
               SET state = 'pending',
                   next_attempt_at = CASE WHEN rerun THEN least($3, now()) ELSE $3 END,
                   due_at = CASE WHEN rerun THEN least($3, now()) ELSE $3 END,
                   attempts = greatest(attempts - 1, 0), rerun = false,
                   worker_id = NULL, lease_until = NULL, updated_at = now()
               WHERE key = $1 AND worker_id = $2 AND state = 'running'""",
            key,
            worker_id,
            _aware(not_before),
        )
        return status.endswith(" 1")

    # -- reading and operator actions ---------------------------------------------------

    async def get(self, key: str) -> Job | None:
        rows = await self._fetch(_SELECT_JOBS + " WHERE key = $1", key)
        return _job(rows[0]) if rows else None

    async def list_jobs(
        self, state: JobState | None = None, limit: int = 100, offset: int = 0
    ) -> list[Job]:
        rows = await self._fetch(
            _SELECT_JOBS
            + """ WHERE ($1::text IS NULL OR state = $1)
                ORDER BY next_attempt_at, key LIMIT $2 OFFSET $3""",
            None if state is None else str(state),
            limit,
            offset,
        )
        return [_job(row) for row in rows]

    async def retry(self, key: str) -> bool:
        rows = await self._fetch_durable(
            """UPDATE jobs
               SET state = 'pending', next_attempt_at = now(), due_at = now(), attempts = 0,
                   worker_id = NULL, lease_until = NULL, updated_at = now()
               WHERE key = $1 AND state IN ('dead', 'retry')
               RETURNING key""",
            key,
        )
        return bool(rows)

    async def counts(self) -> dict[JobState, int]:
        rows = await self._fetch("SELECT state, count(*) AS n FROM jobs GROUP BY state")
        found = {JobState(row["state"]): int(row["n"]) for row in rows}
        return {state: found.get(state, 0) for state in JobState}

    async def gauges(self, now: datetime) -> LedgerGauges:
        rows = await self._fetch(
            """SELECT 'state' AS what, state AS name, count(*)::float8 AS n
                   FROM jobs GROUP BY state
               UNION ALL
               SELECT 'dead', coalesce(error_code, 'none'), count(*)::float8
                   FROM jobs WHERE state = 'dead' GROUP BY 2
               UNION ALL
               SELECT 'oldest', '', extract(epoch FROM $1::timestamptz - min(next_attempt_at))
                   FROM jobs WHERE state IN ('pending', 'retry') AND next_attempt_at <= $1""",
            _aware(now),
        )
        by_state = dict.fromkeys(JobState, 0)
        dead: dict[str, int] = {}
        age = 0.0
        for row in rows:
            if row["what"] == "state":
                by_state[JobState(row["name"])] = int(row["n"])
            elif row["what"] == "dead":
                dead[row["name"]] = int(row["n"])
            elif row["n"] is not None:
                age = max(0.0, float(row["n"]))
        return LedgerGauges(by_state, age, dead)

    async def check_writable(self) -> None:
        # refused in a read-only transaction or on a standby even though it matches no row
        await self._execute("UPDATE jobs SET updated_at = updated_at WHERE false")

    async def has_work_due(self, before: datetime, ignore_kinds: Collection[JobKind]) -> bool:
        rows = await self._fetch(
            """SELECT EXISTS (SELECT 1 FROM jobs WHERE state = 'running')
                   OR EXISTS (SELECT 1 FROM jobs WHERE state IN ('pending', 'retry')
                              AND next_attempt_at <= $1 AND kind <> ALL($2::text[])) AS due""",
            before,
            [kind.value for kind in ignore_kinds],
        )
        return bool(rows[0]["due"])

    async def record_rejected(self, source: str, reason: str, raw: bytes) -> None:
        await self.record_rejected_many([(source, reason, raw)])

    async def record_rejected_many(self, rows: Sequence[tuple[str, str, bytes]]) -> None:
        if not rows:
            return
        await self._fetch_durable(
            "INSERT INTO rejected_events (source, reason, raw)"
            " SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[])",
            [source for source, _, _ in rows],
            [reason for _, reason, _ in rows],
            [mask_personal(bytes(raw)) for _, _, raw in rows],
        )

    async def list_rejected(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = await self._fetch(
            """SELECT id, source, reason, raw, received_at FROM rejected_events
               ORDER BY id DESC LIMIT $1""",
            limit,
        )
        return [
            {
                "id": row["id"],
                "source": row["source"],
                "reason": row["reason"],
                "raw": bytes(row["raw"]).decode("utf-8", errors="replace"),
                "raw_size": len(row["raw"]),
                "received_at": row["received_at"],
            }
            for row in rows
        ]

    # -- enrolment progress --------------------------------------------------------------

    async def record_speech(
        self, speaker_key: str, job_key: str, net_speech_s: float
    ) -> SpeechTotals:
        async def run() -> asyncpg.Record:
            async with self._require_pool().acquire() as conn, conn.transaction():
                # one speaker's clips are counted one at a time: of two deliveries recorded
                # together, the later one's totals include the earlier clip
                await conn.execute(
                    "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                    _SPEECH_LOCK_CLASS,
                    speaker_key,
                )
                await conn.execute(
                    """INSERT INTO speech_clips (speaker_key, job_key, net_speech_s)
                       VALUES ($1, $2, $3) ON CONFLICT (speaker_key, job_key) DO NOTHING""",
                    speaker_key,
                    job_key,
                    float(net_speech_s),
                )
                row = await conn.fetchrow(_SPEECH_TOTALS, speaker_key)
                assert row is not None  # an aggregate always has a row
                return row

        row = await self._with_reconnect(run)
        return SpeechTotals(clips=int(row["clips"]), net_speech_s=round(float(row["total"]), 3))

    async def speech_totals(self, speaker_key: str) -> SpeechTotals:
        (row,) = await self._fetch(_SPEECH_TOTALS, speaker_key)
        return SpeechTotals(clips=int(row["clips"]), net_speech_s=round(float(row["total"]), 3))

    # -- retention and erasure -----------------------------------------------------

    async def _count_or_run(
        self, where: str, args: tuple[Any, ...], action: str, dry_run: bool
    ) -> int:
        if dry_run:
            rows = await self._fetch(f"SELECT COUNT(*) AS n FROM {where}", *args)  # noqa: S608
            return int(rows[0]["n"])
        rows = await self._fetch_durable(
            f"WITH gone AS ({action} {where} RETURNING 1) SELECT COUNT(*) AS n FROM gone",  # noqa: S608
            *args,
        )
        return int(rows[0]["n"])

    async def tombstone_done(self, before: datetime, dry_run: bool = False) -> int:
        where = "jobs WHERE state = 'done' AND updated_at < $1 AND payload <> $2::jsonb"
        if dry_run:
            return await self._count_or_run(where, (before, TOMBSTONE), "", True)
        rows = await self._fetch_durable(
            """WITH gone AS (
                 UPDATE jobs SET payload = $2::jsonb, last_error = NULL,
                   result = jsonb_build_object('tombstone', true, 'sha256', result -> 'sha256')
                 WHERE state = 'done' AND updated_at < $1 AND payload <> $2::jsonb
                 RETURNING 1)
               SELECT COUNT(*) AS n FROM gone""",
            before,
            TOMBSTONE,
        )
        return int(rows[0]["n"])

    async def purge_done(self, before: datetime, dry_run: bool = False) -> int:
        where = "jobs WHERE state = 'done' AND updated_at < $1"
        return await self._count_or_run(where, (before,), "DELETE FROM", dry_run)

    async def purge_rejected(self, before: datetime, dry_run: bool = False) -> int:
        where = "rejected_events WHERE received_at < $1"
        return await self._count_or_run(where, (before,), "DELETE FROM", dry_run)

    async def scan_payloads(
        self, after_key: str | None, limit: int
    ) -> list[tuple[str, JobState, dict[str, Any]]]:
        rows = await self._fetch(
            """SELECT key, state, payload FROM jobs WHERE key > $1 AND payload <> $2::jsonb
               ORDER BY key LIMIT $3""",
            after_key or "",
            TOMBSTONE,
            limit,
        )
        return [(row["key"], JobState(row["state"]), row["payload"]) for row in rows]

    async def forget_jobs(self, keys: Sequence[str], dry_run: bool = False) -> int:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return 0
        where = "jobs WHERE key = ANY($1::text[]) AND payload <> $2::jsonb"
        if dry_run:
            return await self._count_or_run(where, (wanted, TOMBSTONE), "", True)
        rows = await self._fetch_durable(
            """WITH gone AS (
                 UPDATE jobs SET state = 'done', payload = $2::jsonb,
                   result = '{"tombstone": true, "forgotten": true}'::jsonb,
                   worker_id = NULL, lease_until = NULL, due_at = NULL, last_error = NULL,
                   error_code = NULL, rerun = false, next_attempt_at = now(), updated_at = now()
                 WHERE key = ANY($1::text[]) AND payload <> $2::jsonb
                 RETURNING 1)
               SELECT COUNT(*) AS n FROM gone""",
            wanted,
            TOMBSTONE,
        )
        return int(rows[0]["n"])

    async def forget_speech(self, speaker_keys: Sequence[str], dry_run: bool = False) -> int:
        wanted = list(dict.fromkeys(speaker_keys))
        if not wanted:
            return 0
        where = "speech_clips WHERE speaker_key = ANY($1::text[])"
        return await self._count_or_run(where, (wanted,), "DELETE FROM", dry_run)
