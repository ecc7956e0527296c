"""The SQLite ledger's ``add_jobs`` statements, one function per case: new keys,
reopened keys, and live keys that lift a waiting backfill job."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from media_bridge.ledger.base import AddedJobs
from media_bridge.ledger.sqlite_rows import CHUNK, LIVE

_INSERT = (
    "INSERT INTO jobs (key, kind, payload, state, attempts, next_attempt_at,"
    " created_at, updated_at, priority)"
    " VALUES (?, ?, ?, 'pending', 0, ?, ?, ?, ?)"
)
# done/dead -> pending again with a fresh budget (a new event must revive a watch that
# died during an outage); pending/retry -> new payload, due no later than asked;
# running -> flagged to run once more after it completes. The class: a revived job
# takes the new one; a live event lifts a waiting backfill job to live (never the
# other way)
_REOPEN = (
    _INSERT + " ON CONFLICT (key) DO UPDATE SET"
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
    "  rerun = CASE WHEN jobs.state = 'running' THEN 1 ELSE jobs.rerun END"
)

Row = tuple[Any, ...]


def _chunks(keys: Sequence[str]) -> list[tuple[list[str], str]]:
    """Key lists under SQLite's variable limit, each with its ``?,?,...`` marks."""
    chunks = [list(keys[i : i + CHUNK]) for i in range(0, len(keys), CHUNK)]
    return [(chunk, ",".join("?" * len(chunk))) for chunk in chunks]


def _count_held(db: sqlite3.Connection, keys: Sequence[str]) -> int:
    held = 0
    for chunk, marks in _chunks(keys):
        sql = f"SELECT count(*) FROM jobs WHERE key IN ({marks})"  # noqa: S608 (marks)
        held += int(db.execute(sql, chunk).fetchone()[0])
    return held


def _promote_live(db: sqlite3.Connection, keys: Sequence[str]) -> int:
    """A live job named again lifts the waiting job of its key (backfill found it first)."""
    promoted = 0
    for chunk, marks in _chunks(keys):
        lifted = db.execute(
            f"UPDATE jobs SET priority = {LIVE} WHERE key IN ({marks})"  # noqa: S608
            f" AND priority > {LIVE} AND state IN ('pending', 'retry', 'running')",
            chunk,
        )
        promoted += int(lifted.rowcount)
    return promoted


def add_rows(db: sqlite3.Connection, plain: Sequence[Row], reopen: Sequence[Row]) -> AddedJobs:
    """Insert ``plain`` rows (kept as they are when the key is held) and upsert ``reopen``
    rows, in the caller's transaction; rows are (key, kind, payload, due, now, now, class)."""
    before = db.total_changes
    # the reopen rows' keys already held: each such upsert is an update, not a new job
    existing = _count_held(db, list(dict.fromkeys(row[0] for row in reopen)))
    if plain:
        db.executemany(_INSERT + " ON CONFLICT (key) DO NOTHING", plain)
    if reopen:
        db.executemany(_REOPEN, reopen)
    changed = int(db.total_changes - before)
    live_keys = list(dict.fromkeys(row[0] for row in plain if row[-1] == LIVE))
    promoted = _promote_live(db, live_keys)
    return AddedJobs(new=max(changed - existing, 0), reopened=existing, promoted=promoted)
