"""Speech & Text Analytics transcript document -> one record per utterance (pure).

Phrase ``participantPurpose`` is ``external`` (customer) or ``internal`` (agent); times
are absolute epoch milliseconds, offsets are counted from the transcript's
``startTime`` (about the offset into the recording). Every field is optional.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SPEAKERS = {"external": "customer", "internal": "agent", "customer": "customer", "agent": "agent"}
RECORD_VERSION = 1


@dataclass(frozen=True, slots=True)
class Span:
    """One phrase's time in seconds from the transcript start, and its speaker."""

    start_s: float
    end_s: float
    speaker: str


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    return None


def _duration_ms(value: Any) -> int | None:
    if isinstance(value, dict):
        return _int(value.get("milliseconds"))
    return _int(value)


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def _confidence(phrase: dict[str, Any]) -> float | None:
    words = phrase.get("words")
    values = [
        float(word["confidence"])
        for word in (words if isinstance(words, list) else [])
        if isinstance(word, dict) and isinstance(word.get("confidence"), int | float)
    ]
    if values:
        return round(sum(values) / len(values), 4)
    value = phrase.get("confidence")
    return float(value) if isinstance(value, int | float) else None


def _phrases(document: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any], int | None]]:
    """(phrase, its transcript, the transcript's start ms), over every transcript."""
    found = []
    doc_start = _int(document.get("startTime"))
    transcripts = document.get("transcripts")
    for transcript in transcripts if isinstance(transcripts, list) else []:
        if not isinstance(transcript, dict):
            continue
        start = _int(transcript.get("startTime"))
        phrases = transcript.get("phrases")
        for phrase in phrases if isinstance(phrases, list) else []:
            if isinstance(phrase, dict):
                found.append((phrase, transcript, start if start is not None else doc_start))
    return found


def utterances(
    document: dict[str, Any], conversation_id: str, communication_id: str
) -> list[dict[str, Any]]:
    """Records sorted by start time (phrases can overlap), each with its ``index``."""
    rows = []
    for phrase, transcript, base in _phrases(document):
        text = phrase.get("text") or phrase.get("decoratedText")
        if not isinstance(text, str) or not text.strip():
            continue
        start = _int(phrase.get("startTimeMs"))
        duration = _duration_ms(phrase.get("duration"))
        end = start + duration if start is not None and duration is not None else None
        purpose = str(phrase.get("participantPurpose") or "").lower()
        rows.append(
            {
                "v": RECORD_VERSION,
                "source": "speech_text_analytics",
                "conversation_id": conversation_id,
                "communication_id": communication_id,
                "organization_id": document.get("organizationId"),
                "transcript_id": transcript.get("transcriptId"),
                "language": transcript.get("language"),
                "speaker": SPEAKERS.get(purpose, "unknown"),
                "participant_purpose": purpose or None,
                "text": text.strip(),
                "start_offset_ms": start - base if start is not None and base is not None else None,
                "end_offset_ms": end - base if end is not None and base is not None else None,
                "start_time": _iso(start),
                "end_time": _iso(end),
                "confidence": _confidence(phrase),
                "words": len(phrase["words"]) if isinstance(phrase.get("words"), list) else None,
            }
        )
    rows.sort(key=lambda r: (r["start_time"] is None, r["start_time"] or "", r["speaker"]))
    for index, row in enumerate(rows):
        row["index"] = index
    return rows


def speaker_spans(document: dict[str, Any]) -> list[Span]:
    """Customer and agent phrase times, in seconds from the transcript start."""
    spans = []
    for phrase, _, base in _phrases(document):
        start = _int(phrase.get("startTimeMs"))
        duration = _duration_ms(phrase.get("duration"))
        speaker = SPEAKERS.get(str(phrase.get("participantPurpose") or "").lower())
        if start is None or duration is None or base is None or speaker is None:
            continue
        spans.append(Span((start - base) / 1000, (start - base + duration) / 1000, speaker))
    return spans
