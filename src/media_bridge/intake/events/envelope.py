"""The EventBridge envelope: decode, validate, and lift the fields every topic shares.

Accepted shapes for one event: the envelope as a dict, its JSON text/bytes, a JSON
string holding that JSON (an SQS body that was encoded twice), or an SQS message
dict whose ``Body``/``body`` is the envelope JSON.

Whatever a ledger cannot store is refused here, as a rejection with a reason: NaN
and Infinity (``json.loads`` accepts them, PostgreSQL's ``jsonb`` does not), NUL in
a string (PostgreSQL text refuses it) and lone surrogates (not encodable as UTF-8).
One such event must not take the good events of its batch down with it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from media_bridge.errors import BadInput
from media_bridge.values import parse_time, text_or_none

GENESYS_SOURCE_PREFIX = "aws.partner/genesys.com"
#: at most this many JSON-in-JSON unwrappings (SQS body -> envelope)
_MAX_UNWRAP = 2
#: NUL (no PostgreSQL text holds it) and UTF-16 surrogates (json.loads joins valid pairs,
#: so any left are lone: UTF-8 cannot encode them)
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Envelope:
    """The parts of an EventBridge event the topic parsers need."""

    event_id: str
    topic: str
    source: str
    body: dict[str, Any]
    org_id: str | None
    event_time: datetime | None
    correlation_id: str | None
    #: the envelope's ``detail-type`` when it does not match ``detail.topicName`` (None:
    #: it matches, or there is none, as in a bare frame)
    detail_type_mismatch: str | None = None


def _refuse_constant(name: str) -> Any:
    raise BadInput(f"malformed JSON: {name} is not a finite number (no ledger stores it)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadInput(f"malformed JSON: {text[:40]} is out of range (not a finite number)")
    return value


def _loads(text: bytes | str) -> Any:
    """``json.loads`` refusing NaN, Infinity and numbers that overflow to infinity."""
    return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)


def _check_text(text: str, what: str) -> None:
    found = _UNSTORABLE.search(text)
    if found is None:
        return
    problem = "NUL (\\u0000)" if found.group() == "\x00" else "a lone surrogate"
    raise BadInput(f"event: {what} contains {problem}, which no ledger can store")


def check_storable(doc: Any) -> None:
    """Refuse a decoded value holding what a ledger cannot store; the reason names where.

    Iterative, so a deeply nested value cannot exhaust the stack.
    """
    stack: list[tuple[Any, str]] = [(doc, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            _check_text(value, f"the string at {path or 'the top level'}")
        elif isinstance(value, float) and not math.isfinite(value):
            raise BadInput(f"event: the number at {path or 'the top level'} is {value}, not finite")
        elif isinstance(value, dict):
            for key, item in value.items():
                name = str(key)
                _check_text(name, f"a key under {path or 'the top level'}")
                stack.append((item, f"{path}.{name[:40]}" if path else name[:40]))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{index}]") for index, item in enumerate(value))


def decode_json(raw: bytes | str | dict[str, Any]) -> dict[str, Any]:
    """Raw input -> the envelope dict, unwrapping JSON-in-JSON and SQS message bodies.

    Raises BadInput for anything a ledger could not store (see ``check_storable``).
    """
    value: Any = raw
    for _ in range(_MAX_UNWRAP + 1):
        if isinstance(value, bytes | bytearray | memoryview):
            try:
                value = _loads(bytes(value))
            except (ValueError, UnicodeDecodeError) as exc:
                raise BadInput(f"malformed JSON: {exc}") from None
            continue
        if isinstance(value, str):
            try:
                value = _loads(value)
            except ValueError as exc:
                raise BadInput(f"malformed JSON: {exc}") from None
            continue
        if isinstance(value, dict):
            if "detail" not in value:
                body = value.get("Body", value.get("body"))
                if isinstance(body, str):
                    value = body
                    continue
            check_storable(value)
            return value
        raise BadInput(f"envelope: expected a JSON object, got {type(value).__name__}")
    raise BadInput("envelope: JSON nested in JSON too deeply")


def org_id_from_source(source: str) -> str | None:
    """``aws.partner/genesys.com/cloud/{orgId}/{bus}`` -> orgId (None if the shape differs)."""
    parts = source.split("/")
    if len(parts) >= 4 and parts[2] == "cloud" and parts[3]:
        return parts[3]
    return None


#: the ``source`` given to a bare notification frame (no EventBridge envelope)
NOTIFICATION_SOURCE = "notifications"


def is_bare_frame(doc: dict[str, Any]) -> bool:
    """A Notifications API frame: ``topicName`` and ``eventBody`` at the top, no ``source``."""
    return "source" not in doc and isinstance(doc.get("topicName"), str) and "eventBody" in doc


def _frame_parts(frame: dict[str, Any], where: str) -> tuple[str, dict[str, Any], str | None]:
    """The topic, body and correlation id of a notification frame (bare, or an
    EventBridge event's ``detail``); ``where`` names it in errors."""
    topic = frame.get("topicName")
    if not isinstance(topic, str) or not topic:
        raise BadInput(f"{where}topicName")
    body = frame.get("eventBody")
    if not isinstance(body, dict):
        raise BadInput(f"{where}eventBody")
    metadata = frame.get("metadata")
    correlation_id = (
        text_or_none(metadata.get("CorrelationId") or metadata.get("correlationId"))
        if isinstance(metadata, dict)
        else None
    )
    return topic, body, correlation_id


def _read_bare_frame(doc: dict[str, Any]) -> Envelope:
    topic, body, correlation_id = _frame_parts(doc, "notification frame: missing ")
    # frames carry no event id: the frame's own canonical bytes name it, so a frame
    # seen twice has one id
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    event_id = "notif-" + hashlib.sha256(canonical.encode()).hexdigest()[:32]
    return Envelope(
        event_id=event_id,
        topic=topic,
        source=NOTIFICATION_SOURCE,
        body=body,
        org_id=text_or_none(body.get("organizationId")),
        event_time=parse_time(body.get("eventTime")) or parse_time(doc.get("timestamp")),
        correlation_id=correlation_id,
    )


def detail_type_agrees(detail_type: str, topic: str) -> bool:
    """``detail-type`` is the topic pattern (``v2.detail.events.conversation.{id}.acw``):
    it agrees with ``topicName`` when each ``{id}`` stands for one dotted segment (or when
    it is the concrete topic itself)."""
    if detail_type == topic:
        return True
    pattern = r"[^.]+".join(re.escape(part) for part in detail_type.split("{id}"))
    return re.fullmatch(pattern, topic) is not None


def read_envelope(doc: dict[str, Any]) -> Envelope:
    """Validate the envelope (or a bare notification frame); every missing piece is a
    BadInput naming it."""
    if is_bare_frame(doc):
        return _read_bare_frame(doc)
    source = doc.get("source")
    if not isinstance(source, str) or not source:
        raise BadInput("envelope: missing source")
    if not source.startswith(GENESYS_SOURCE_PREFIX):
        raise BadInput(f"envelope: source {source[:120]!r} is not aws.partner/genesys.com")
    event_id = doc.get("id")
    if not isinstance(event_id, str) or not event_id:
        raise BadInput("envelope: missing id")
    detail = doc.get("detail")
    if not isinstance(detail, dict):
        raise BadInput("envelope: missing detail")
    topic, body, correlation_id = _frame_parts(detail, "envelope: missing detail.")
    event_time = (
        parse_time(body.get("eventTime"))
        or parse_time(detail.get("timestamp"))
        or parse_time(doc.get("time"))
    )
    org_id = org_id_from_source(source) or text_or_none(body.get("organizationId"))
    detail_type = doc.get("detail-type")
    mismatch = (
        detail_type[:200]
        if isinstance(detail_type, str) and not detail_type_agrees(detail_type, topic)
        else None
    )
    return Envelope(
        event_id=event_id,
        topic=topic,
        source=source,
        body=body,
        org_id=org_id,
        event_time=event_time,
        correlation_id=correlation_id,
        detail_type_mismatch=mismatch,
    )
