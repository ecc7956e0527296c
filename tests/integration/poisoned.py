"""Events no ledger can store (NUL, lone surrogates, NaN/Infinity), beside good ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from media_bridge.intake.events import parse_event
from media_bridge.jobs.planning import plan_jobs
from media_bridge.ledger import Ledger

FIXTURE = Path(__file__).parents[1] / "fixtures" / "events" / "message_queue_voice_note.json"
#: poison -> a fragment of its rejection reason
POISONS: dict[str, str] = {
    "nul": "NUL",
    "surrogate": "surrogate",
    "nan": "not finite",
    "infinity": "not finite",
    "overflow": "not finite",
}


def voice_note_event(conversation_id: str) -> dict[str, Any]:
    """The voice-note fixture for its own conversation (so its job keys are its own)."""
    doc: dict[str, Any] = json.loads(FIXTURE.read_bytes())
    doc["id"] = f"event-{conversation_id}"
    doc["detail"]["eventBody"]["id"] = conversation_id
    return doc


def poisoned_line(poison: str) -> str:
    """One JSON line carrying ``poison`` where the planner would copy it into jobs."""
    doc = voice_note_event(f"bad-{poison}")
    media = doc["detail"]["eventBody"]["participants"][0]["messages"][0]["media"][0]
    if poison == "nul":
        media["name"] = "voice\x00note.ogg"
        return json.dumps(doc)
    if poison == "surrogate":
        media["name"] = "voice\ud800note.ogg"
        return json.dumps(doc)
    marker = 918273645
    media["contentLengthBytes"] = marker
    literal = {"nan": "NaN", "infinity": "-Infinity", "overflow": "1e999"}[poison]
    return json.dumps(doc).replace(str(marker), literal)


def good_keys(ids: list[str]) -> set[str]:
    return {job.key for c in ids for job in plan_jobs(parse_event(voice_note_event(c)), None)}


async def job_keys(ledger: Ledger) -> set[str]:
    return {job.key for job in await ledger.list_jobs(limit=1000)}
