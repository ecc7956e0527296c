"""The PostgreSQL ledger's side tables and upkeep: rejected events, enrolment speech
totals, retention (tombstones, purges) and erasure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from media_bridge.ledger.base import TOMBSTONE, SpeechTotals
from media_bridge.ledger.pg_pool import PgConnection
from media_bridge.ledger.pg_sql import SPEECH_LOCK_CLASS, SPEECH_TOTALS
from media_bridge.redact import mask_personal
from media_bridge.types import JobState


class PgUpkeep(PgConnection):
    """Everything but the job queue itself (``PostgresLedger`` adds that)."""

    # -- rejected events -------------------------------------------------------------

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
                    SPEECH_LOCK_CLASS,
                    speaker_key,
                )
                await conn.execute(
                    """INSERT INTO speech_clips (speaker_key, job_key, net_speech_s)
                       VALUES ($1, $2, $3) ON CONFLICT (speaker_key, job_key) DO NOTHING""",
                    speaker_key,
                    job_key,
                    float(net_speech_s),
                )
                row = await conn.fetchrow(SPEECH_TOTALS, speaker_key)
                assert row is not None  # an aggregate always has a row
                return row

        row = await self._with_reconnect(run)
        return SpeechTotals(clips=int(row["clips"]), net_speech_s=round(float(row["total"]), 3))

    async def speech_totals(self, speaker_key: str) -> SpeechTotals:
        (row,) = await self._fetch(SPEECH_TOTALS, speaker_key)
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
