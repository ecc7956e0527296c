"""How the SQLite ledger stores values: epoch-second times, compact JSON, job rows."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from media_bridge.jobs.priority import Priority
from media_bridge.types import Job, JobKind, JobState

JOB_COLUMNS = (
    "key, kind, payload, state, attempts, next_attempt_at, created_at, updated_at,"
    " last_error, error_code, result, worker_id, lease_until, priority"
)
CHUNK = 500  # keys per IN (...) list, under SQLite's variable limit
LIVE = int(Priority.LIVE)


def ts(value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def dt(value: float) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC)


def job_from_row(row: sqlite3.Row | tuple[Any, ...]) -> Job:
    (key, kind, payload, state, attempts, next_at, created, updated, error, code, result,
     worker, lease, priority) = row  # fmt: skip
    return Job(
        key=key,
        kind=JobKind(kind),
        payload=json.loads(payload),
        state=JobState(state),
        attempts=attempts,
        next_attempt_at=dt(next_at),
        created_at=dt(created),
        updated_at=dt(updated),
        last_error=error,
        error_code=code,
        result=json.loads(result) if result is not None else None,
        worker_id=worker,
        lease_until=dt(lease) if lease is not None else None,
        priority=int(priority),
    )


def dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
