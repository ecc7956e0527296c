"""The SQLite ledger's side tables and upkeep: rejected events, enrolment speech totals,
retention (tombstones, purges) and erasure."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from media_bridge.ledger.base import TOMBSTONE, SpeechTotals
from media_bridge.ledger.sqlite_connection import SqliteConnection
from media_bridge.ledger.sqlite_rows import dt, dumps, ts
from media_bridge.redact import mask_personal
from media_bridge.types import JobState


class SqliteUpkeep(SqliteConnection):
    """Everything but the job queue itself (``SqliteLedger`` adds that)."""

    # -- rejected events -------------------------------------------------------------

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
                    "received_at": dt(received),
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
        tomb = dumps(TOMBSTONE)
        where = "jobs WHERE state = 'done' AND updated_at < ? AND payload != ?"
        if dry_run:
            return await self._count_or_run(where, (ts(before), tomb), "", True)

        def op(db: sqlite3.Connection) -> int:
            return int(
                db.execute(
                    "UPDATE jobs SET payload = ?, last_error = NULL,"
                    " result = json_object('tombstone', json('true'),"
                    "   'sha256', json_extract(result, '$.sha256'))"
                    " WHERE state = 'done' AND updated_at < ? AND payload != ?",
                    (tomb, ts(before), tomb),
                ).rowcount
            )

        changed: int = await self._write(op, durable=True)
        return changed

    async def purge_done(self, before: datetime, dry_run: bool = False) -> int:
        where = "jobs WHERE state = 'done' AND updated_at < ?"
        return await self._count_or_run(where, (ts(before),), "DELETE FROM", dry_run)

    async def purge_rejected(self, before: datetime, dry_run: bool = False) -> int:
        where = "rejected_events WHERE received_at < ?"
        return await self._count_or_run(where, (ts(before),), "DELETE FROM", dry_run)

    async def scan_payloads(
        self, after_key: str | None, limit: int
    ) -> list[tuple[str, JobState, dict[str, Any]]]:
        tomb = dumps(TOMBSTONE)

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
        tomb = dumps(TOMBSTONE)
        marks = ",".join("?" * len(wanted))
        where = f"jobs WHERE key IN ({marks}) AND payload != ?"
        if dry_run:
            return await self._count_or_run(where, (*wanted, tomb), "", True)
        now = self._clock()
        forgotten = dumps({"tombstone": True, "forgotten": True})

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
