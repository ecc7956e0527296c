"""Erasure in the ledger: the subject's jobs become tombstones, their progress rows go."""

from __future__ import annotations

from media_bridge.erasure.subject import Subject
from media_bridge.identity import SpeakerDescriber
from media_bridge.ledger.base import Ledger

PAGE = 500


async def _matching(
    ledger: Ledger, subject: Subject, describer: SpeakerDescriber
) -> list[tuple[str, str]]:
    """(key, conversation id) of every job with a payload that is the subject's."""
    found: list[tuple[str, str]] = []
    after: str | None = None
    while True:
        page = await ledger.scan_payloads(after, PAGE)
        if not page:
            return found
        found.extend(
            (key, str(payload.get("conversation_id") or ""))
            for key, _, payload in page
            if subject.payload_matches(payload, describer)
        )
        after = page[-1][0]


async def conversations_in_ledger(
    ledger: Ledger, subject: Subject, describer: SpeakerDescriber
) -> set[str]:
    return {
        conversation
        for _, conversation in await _matching(ledger, subject, describer)
        if conversation
    }


async def forget_in_ledger(
    ledger: Ledger, subject: Subject, describer: SpeakerDescriber, dry_run: bool
) -> dict[str, int]:
    """Scans every job that still has a payload (by key, a page at a time)."""
    keys = [key for key, _ in await _matching(ledger, subject, describer)]
    return {
        "jobs": await ledger.forget_jobs(keys, dry_run),
        "speech_rows": await ledger.forget_speech(sorted(subject.keys), dry_run),
    }
