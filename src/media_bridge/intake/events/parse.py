"""Raw event bytes -> ParsedEvent: the one entry point sources and the intake call.

``parse_event`` handles one EventBridge event and raises ``BadInput`` with a reason;
``parse_payload`` handles an intake body (one event, a JSON array of events, or JSON
lines) and never raises: each bad event becomes a ``Rejection`` carrying its bytes,
for the ledger's rejected-events table. Unknown topics are not errors: they parse to
a ParsedEvent with nothing to do, and ``ParseResult.status`` says so for counting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from media_bridge.errors import BadInput
from media_bridge.intake.events.detail_topic import (
    detail_id_unused,
    detail_topic_parts,
    parse_detail_body,
)
from media_bridge.intake.events.envelope import decode_json, read_envelope
from media_bridge.intake.events.message_topic import is_message_topic, parse_message_body
from media_bridge.intake.events.transcription_topic import (
    parse_transcription_body,
    transcription_topic_conversation,
)
from media_bridge.types import ParsedEvent


class TopicFamily(StrEnum):
    MESSAGE = "message"
    DETAIL = "detail"
    TRANSCRIPTION = "transcription"
    UNKNOWN = "unknown"


class ParseStatus(StrEnum):
    OK = "ok"
    UNKNOWN_TOPIC = "unknown_topic"


@dataclass(frozen=True, slots=True)
class ParseResult:
    status: ParseStatus
    event: ParsedEvent
    #: the event's bytes, for the rejected table should the ledger refuse its jobs
    raw: bytes = b""

    @property
    def family(self) -> TopicFamily:
        return topic_family(self.event.topic)


@dataclass(frozen=True, slots=True)
class Rejection:
    """An event that could not be parsed: why, and its bytes (kept for an operator)."""

    reason: str
    raw: bytes


def topic_family(topic: str) -> TopicFamily:
    if topic.startswith("v2.detail.events.conversation."):
        return TopicFamily.DETAIL if detail_topic_parts(topic) else TopicFamily.UNKNOWN
    if transcription_topic_conversation(topic) is not None:
        return TopicFamily.TRANSCRIPTION
    if is_message_topic(topic):
        return TopicFamily.MESSAGE
    return TopicFamily.UNKNOWN


def parse_event_result(raw: bytes | str | dict[str, Any]) -> ParseResult:
    """One event -> ParseResult; raises BadInput (reason in the message) when malformed."""
    envelope = read_envelope(decode_json(raw))
    event = ParsedEvent(
        event_id=envelope.event_id,
        topic=envelope.topic,
        org_id=envelope.org_id,
        event_time=envelope.event_time,
        correlation_id=envelope.correlation_id,
        detail_type_mismatch=envelope.detail_type_mismatch,
    )
    family = topic_family(envelope.topic)
    if family is TopicFamily.MESSAGE:
        contents = parse_message_body(envelope.body)
        event.attachments = list(contents.attachments)
        event.texts = list(contents.texts)
        event.message_ids = contents.message_ids_by_conversation()
        event.message_speakers = dict(contents.speakers)
        event.textless_messages = set(contents.textless)
    elif family is TopicFamily.DETAIL:
        if detail_id_unused(envelope.topic, envelope.body):
            return ParseResult(ParseStatus.UNKNOWN_TOPIC, event)
        event.activities = [parse_detail_body(envelope.topic, envelope.body)]
    elif family is TopicFamily.TRANSCRIPTION:
        event.transcriptions = [parse_transcription_body(envelope.topic, envelope.body)]
    else:
        return ParseResult(ParseStatus.UNKNOWN_TOPIC, event)
    return ParseResult(ParseStatus.OK, event)


def parse_event(raw: bytes | str | dict[str, Any]) -> ParsedEvent:
    """One event -> ParsedEvent (unknown topic: nothing to do); raises BadInput."""
    return parse_event_result(raw).event


def _one(raw_item: bytes | str | dict[str, Any], raw_bytes: bytes) -> ParseResult | Rejection:
    try:
        result = parse_event_result(raw_item)
    except BadInput as exc:
        return Rejection(str(exc), raw_bytes)
    except (RecursionError, TypeError, ValueError) as exc:  # defensive: never crash intake
        return Rejection(f"unparseable event: {type(exc).__name__}", raw_bytes)
    return ParseResult(result.status, result.event, raw_bytes)


def _reencode(item: Any) -> bytes:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()


def _safe_reencode(item: Any, whole: bytes) -> bytes:
    try:
        return _reencode(item)
    except (RecursionError, ValueError):
        return whole


def _is_json_object(line: bytes) -> bool:
    if not (line.startswith(b"{") and line.endswith(b"}")):
        return False
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False


#: the reason a body with more events than allowed is refused with, whole
TOO_MANY_EVENTS = "too many events in one body"


def too_many(count: int, limit: int, raw: bytes) -> Rejection:
    return Rejection(f"{TOO_MANY_EVENTS}: {count}, the limit is {limit}", raw)


def parse_payload_results(
    raw: bytes, max_items: int | None = None
) -> list[ParseResult | Rejection]:
    """An intake body: one event, a JSON array of events, or JSON lines. With
    ``max_items``, a body of more events is refused whole, before any is parsed."""
    text = raw.strip()
    if not text:
        return [Rejection("empty body", raw)]
    try:
        doc = json.loads(text)
    except RecursionError:
        return [Rejection("malformed JSON: nested too deeply", raw)]
    except (ValueError, UnicodeDecodeError) as exc:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if len(lines) < 2 or not any(_is_json_object(line) for line in lines):
            return [Rejection(f"malformed JSON: {exc}", raw)]
        if max_items is not None and len(lines) > max_items:
            return [too_many(len(lines), max_items, raw)]
        return [_one(line, line) for line in lines]
    if isinstance(doc, list):
        if not doc:
            return [Rejection("empty JSON array", raw)]
        if max_items is not None and len(doc) > max_items:
            return [too_many(len(doc), max_items, raw)]
        return [_one(item, _safe_reencode(item, raw)) for item in doc]
    return [_one(doc, raw)]


def parse_payload(raw: bytes) -> list[ParsedEvent | Rejection]:
    """As ``parse_payload_results``, unwrapped: unknown topics come back as empty events."""
    return [r.event if isinstance(r, ParseResult) else r for r in parse_payload_results(raw)]
