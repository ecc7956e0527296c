"""The PostgreSQL ledger: several workers on several machines share one job table.

Claims use ``SELECT ... FOR UPDATE SKIP LOCKED`` inside a CTE feeding an
``UPDATE ... RETURNING``, so concurrent workers never take the same row and never
wait on each other. Time is the database's clock (``now()``), so leases mean the
same thing to every worker whatever their own clocks say. ``due_at`` holds when a
row can next be claimed (``next_attempt_at`` while pending/retry, ``lease_until``
while running, NULL when done/dead); a partial index on ``(priority, due_at)`` serves
every claim: live jobs first, each class in due order (``media_bridge.jobs.priority``).

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

import json
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from media_bridge.jobs.priority import of
from media_bridge.ledger.base import TOMBSTONE, AddedJobs, LedgerDataError, LedgerGauges
from media_bridge.ledger.pg_pool import aware
from media_bridge.ledger.pg_sql import (
    ADD_JOBS,
    CLAIM,
    LIVE,
    PARK_CRASHING_JOBS,
    SELECT_JOBS,
    TOP,
    job_from_row,
)
from media_bridge.ledger.pg_upkeep import PgUpkeep
from media_bridge.redact import redact_text
from media_bridge.types import Job, JobKind, JobState, NewJob

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


class PostgresLedger(PgUpkeep):
    """The ``Ledger`` protocol on PostgreSQL (asyncpg, a small connection pool)."""

    # -- recording ---------------------------------------------------------------

    async def add_jobs(self, jobs: Sequence[NewJob]) -> AddedJobs:
        if not jobs:
            return AddedJobs()
        keys = [job.key for job in jobs]
        kinds = [str(job.kind) for job in jobs]
        payloads = [json.dumps(job.payload) for job in jobs]
        not_befores = [aware(job.not_before) for job in jobs]
        reopens = [job.reopen for job in jobs]
        priorities = [of(job) for job in jobs]
        try:
            rows = await self._fetch_durable(
                ADD_JOBS, keys, kinds, payloads, not_befores, reopens, priorities
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
        max_attempts = self._max_attempts
        lease = float(lease_seconds)

        async def run() -> list[asyncpg.Record]:
            async with self._require_pool().acquire() as conn, conn.transaction():
                if max_attempts is not None:
                    await conn.execute(PARK_CRASHING_JOBS, max_attempts)
                if non_live_limit is None:
                    return list(
                        await conn.fetch(CLAIM, worker_id, limit, lease, kind_filter, LIVE, TOP)
                    )
                live = list(
                    await conn.fetch(CLAIM, worker_id, limit, lease, kind_filter, LIVE, LIVE)
                )
                others = min(limit - len(live), non_live_limit)
                if others <= 0:
                    return live
                return live + list(
                    await conn.fetch(CLAIM, worker_id, others, lease, kind_filter, LIVE + 1, TOP)
                )

        rows = await self._with_reconnect(run)
        jobs = [job_from_row(row) for row in rows]
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
        retry_at = aware(retry_at)
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
            aware(not_before),
        )
        return status.endswith(" 1")

    # -- reading and operator actions ---------------------------------------------------

    async def get(self, key: str) -> Job | None:
        rows = await self._fetch(SELECT_JOBS + " WHERE key = $1", key)
        return job_from_row(rows[0]) if rows else None

    async def list_jobs(
        self, state: JobState | None = None, limit: int = 100, offset: int = 0
    ) -> list[Job]:
        rows = await self._fetch(
            SELECT_JOBS
            + """ WHERE ($1::text IS NULL OR state = $1)
                ORDER BY next_attempt_at, key LIMIT $2 OFFSET $3""",
            None if state is None else str(state),
            limit,
            offset,
        )
        return [job_from_row(row) for row in rows]

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
            aware(now),
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
