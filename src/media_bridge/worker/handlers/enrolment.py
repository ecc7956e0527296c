"""Enrolment progress on ``metadata.speaker``: how much speech of this speaker was delivered.

The ledger keeps, per speaker key (only the key, already a pseudonym when configured;
never the audio), each delivered clip's net speech once per job key
(``Ledger.record_speech``): a job run again after a crash, or for a duplicate event, adds
nothing. Each delivery then states ``net_speech_total_s``, ``clips`` and
``enrolment_ready`` (the total reached ``audio.enrolment_min_speech_s`` and the key is
person-scope), so an engine knows when a voiceprint can be created.

Only clips the configured sink receives (``below_gate`` action ``delivered``) count; a
clip held locally states the totals so far without adding to them. Conversation-scope
keys (``participant:`` / ``conversation:``) are counted too, but only within their
conversation, and are never ``enrolment_ready``.
"""

from __future__ import annotations

from typing import Any

from media_bridge.audio.report import AudioReport
from media_bridge.worker.context import HandlerContext
from media_bridge.worker.handlers.speech_gate import GateDecision


async def annotate(
    ctx: HandlerContext,
    speaker: dict[str, Any],
    job_key: str,
    report: AudioReport | None,
    gate: GateDecision,
) -> None:
    """Add the speaker's totals to ``speaker`` (``metadata.speaker``), counting this clip
    when it goes to the configured sink. Without a report the fields stay null."""
    key = speaker.get("key")
    if report is None or not key:
        return
    if gate.action == "delivered":
        totals = await ctx.ledger.record_speech(key, job_key, report.speech.net_speech_s)
    else:
        totals = await ctx.ledger.speech_totals(key)
    speaker["net_speech_total_s"] = totals.net_speech_s
    speaker["clips"] = totals.clips
    speaker["enrolment_ready"] = (
        speaker.get("key_scope") == "person"
        and totals.net_speech_s >= ctx.settings.enrolment_min_speech_s
    )
