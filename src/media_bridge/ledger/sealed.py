"""Payload fields holding personal data, encrypted at rest (``ledger.payload_key``).

A pending job's payload keeps what its delivery will need and no read it makes returns: the
sender's speaker facts (an address, a name), a live transcript's text, a call's ANI. With a
key, those fields are sealed with AES-256-GCM (the field name as associated data, so a value
cannot be moved to another field) before they reach the database, and opened when a job is
read back; done jobs lose them anyway (tombstones). Everything else (ids, keys, states) stays
readable for the operator and for the queries the ledger runs.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from media_bridge.ledger.base import AddedJobs, Ledger, LedgerGauges, SpeechTotals
from media_bridge.types import Job, JobKind, JobState, NewJob

#: payload fields that may hold personal data
SEALED_FIELDS = ("speaker_facts", "speakers", "call", "text", "decorated_text", "consent_hint")
_MARK = "sealed:v1"


class PayloadSeal:
    def __init__(self, secret: str) -> None:
        # a 256-bit key from the configured secret (which must itself be random and long)
        self._aead = AESGCM(hashlib.sha256(secret.encode()).digest())

    def seal(self, payload: dict[str, Any]) -> dict[str, Any]:
        out = dict(payload)
        for name in SEALED_FIELDS:
            value = out.get(name)
            if value is None or _is_sealed(value):
                continue
            nonce = os.urandom(12)
            data = self._aead.encrypt(nonce, json.dumps(value).encode(), name.encode())
            out[name] = {_MARK: base64.b64encode(nonce + data).decode()}
        return out

    def open(self, payload: dict[str, Any]) -> dict[str, Any]:
        out = dict(payload)
        for name in SEALED_FIELDS:
            value = out.get(name)
            if isinstance(value, dict) and _is_sealed(value):
                blob = base64.b64decode(value[_MARK])
                out[name] = json.loads(self._aead.decrypt(blob[:12], blob[12:], name.encode()))
        return out


def _is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {_MARK}


class SealedLedger:
    """A ``Ledger`` whose payloads' personal fields are sealed at rest (see module doc)."""

    def __init__(self, inner: Ledger, seal: PayloadSeal) -> None:
        self.inner = inner
        self._seal = seal

    def _opened(self, job: Job) -> Job:
        return dataclasses.replace(job, payload=self._seal.open(job.payload))

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def add_jobs(self, jobs: Sequence[NewJob]) -> AddedJobs:
        sealed = [dataclasses.replace(j, payload=self._seal.seal(j.payload)) for j in jobs]
        return await self.inner.add_jobs(sealed)

    async def existing_keys(self, keys: Iterable[str]) -> set[str]:
        return await self.inner.existing_keys(keys)

    async def claim(
        self,
        worker_id: str,
        limit: int,
        lease_seconds: float,
        kinds: Sequence[JobKind] | None = None,
        non_live_limit: int | None = None,
    ) -> list[Job]:
        jobs = await self.inner.claim(worker_id, limit, lease_seconds, kinds, non_live_limit)
        return [self._opened(j) for j in jobs]

    async def extend_lease(self, keys: Sequence[str], worker_id: str, lease_seconds: float) -> None:
        await self.inner.extend_lease(keys, worker_id, lease_seconds)

    async def complete(
        self, key: str, worker_id: str, result: dict[str, Any], scrub: bool = False
    ) -> bool:
        return await self.inner.complete(key, worker_id, result, scrub)

    async def fail(
        self, key: str, worker_id: str, error: str, code: str, retry_at: datetime | None
    ) -> bool:
        return await self.inner.fail(key, worker_id, error, code, retry_at)

    async def release(self, key: str, worker_id: str, not_before: datetime) -> bool:
        return await self.inner.release(key, worker_id, not_before)

    async def get(self, key: str) -> Job | None:
        job = await self.inner.get(key)
        return self._opened(job) if job is not None else None

    async def list_jobs(
        self, state: JobState | None = None, limit: int = 100, offset: int = 0
    ) -> list[Job]:
        return [self._opened(j) for j in await self.inner.list_jobs(state, limit, offset)]

    async def retry(self, key: str) -> bool:
        return await self.inner.retry(key)

    async def counts(self) -> dict[JobState, int]:
        return await self.inner.counts()

    async def gauges(self, now: datetime) -> LedgerGauges:
        return await self.inner.gauges(now)

    async def check_writable(self) -> None:
        await self.inner.check_writable()

    async def has_work_due(self, before: datetime, ignore_kinds: Collection[JobKind]) -> bool:
        return await self.inner.has_work_due(before, ignore_kinds)

    async def record_rejected(self, source: str, reason: str, raw: bytes) -> None:
        await self.inner.record_rejected(source, reason, raw)

    async def record_rejected_many(self, rows: Sequence[tuple[str, str, bytes]]) -> None:
        await self.inner.record_rejected_many(rows)

    async def list_rejected(self, limit: int = 100) -> list[dict[str, Any]]:
        return await self.inner.list_rejected(limit)

    async def record_speech(
        self, speaker_key: str, job_key: str, net_speech_s: float
    ) -> SpeechTotals:
        return await self.inner.record_speech(speaker_key, job_key, net_speech_s)

    async def speech_totals(self, speaker_key: str) -> SpeechTotals:
        return await self.inner.speech_totals(speaker_key)

    async def tombstone_done(self, before: datetime, dry_run: bool = False) -> int:
        return await self.inner.tombstone_done(before, dry_run)

    async def purge_done(self, before: datetime, dry_run: bool = False) -> int:
        return await self.inner.purge_done(before, dry_run)

    async def purge_rejected(self, before: datetime, dry_run: bool = False) -> int:
        return await self.inner.purge_rejected(before, dry_run)

    async def scan_payloads(
        self, after_key: str | None, limit: int
    ) -> list[tuple[str, JobState, dict[str, Any]]]:
        found = await self.inner.scan_payloads(after_key, limit)
        return [(key, state, self._seal.open(payload)) for key, state, payload in found]

    async def forget_jobs(self, keys: Sequence[str], dry_run: bool = False) -> int:
        return await self.inner.forget_jobs(keys, dry_run)

    async def forget_speech(self, speaker_keys: Sequence[str], dry_run: bool = False) -> int:
        return await self.inner.forget_speech(speaker_keys, dry_run)


def ledger_for(url: str, payload_key: str | None) -> Ledger:
    """The ledger for ``url``, sealing personal payload fields when a key is configured."""
    from media_bridge.ledger import ledger_from_url

    ledger = ledger_from_url(url)
    return SealedLedger(ledger, PayloadSeal(payload_key)) if payload_key else ledger
