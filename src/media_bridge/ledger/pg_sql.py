"""The PostgreSQL ledger's longer statements and its row-to-``Job`` mapping."""

from __future__ import annotations

import asyncpg

from media_bridge.jobs.priority import Priority
from media_bridge.types import Job, JobKind, JobState

LIVE = int(Priority.LIVE)
TOP = 32767  # the highest class a smallint holds

SELECT_JOBS = """SELECT key, kind, payload, state, attempts, next_attempt_at, created_at,
    updated_at, last_error, error_code, result, worker_id, lease_until, priority FROM jobs"""
#: the advisory lock class of "one speaker's speech clips" (the key's hash is the object)
SPEECH_LOCK_CLASS = 0x6D62  # "mb"
SPEECH_TOTALS = """SELECT count(*) AS clips, coalesce(sum(net_speech_s), 0) AS total
    FROM speech_clips WHERE speaker_key = $1"""
#: a running job whose lease lapsed on every one of ``max_attempts`` attempts likely
#: crashes its worker: park it for an operator instead of handing it out again
PARK_CRASHING_JOBS = """
    UPDATE jobs SET state = 'dead', error_code = 'lease_expired',
        last_error = 'the lease lapsed on every attempt: the job may crash its worker',
        worker_id = NULL, lease_until = NULL, due_at = NULL, rerun = false, updated_at = now()
    WHERE due_at IS NOT NULL AND due_at <= now() AND state = 'running' AND attempts >= $1
"""
#: one statement: insert new keys, reopen done ones that asked for it. Within one call
#: a key given twice counts once (the first wins)
ADD_JOBS = """
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
#: $5, $6: the classes taken (live is 0: [0, 0] live only, [1, max] the others)
CLAIM = """
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


def job_from_row(row: asyncpg.Record) -> Job:
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
