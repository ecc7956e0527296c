"""The EventBridge envelope: decode, validate, and lift the fields every topic shares.

Accepted shapes for one event: the envelope as a dict, its JSON text/bytes, a JSON
string holding that JSON (an SQS body that was encoded twice), or an SQS message
dict whose ``Body``/``body`` is the envelope JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from media_bridge.errors import BadInput
from media_bridge.events.values import parse_time, text_or_none

GENESYS_SOURCE_PREFIX = "aws.partner/genesys.com"
#: at most this many JSON-in-JSON unwrappings (SQS body -> envelope)
_MAX_UNWRAP = 2


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


def decode_json(raw: bytes | str | dict[str, Any]) -> dict[str, Any]:
    """Raw input -> the envelope dict, unwrapping JSON-in-JSON and SQS message bodies."""
    value: Any = raw
    for _ in range(_MAX_UNWRAP + 1):
        if isinstance(value, bytes | bytearray | memoryview):
            try:
                value = json.loads(bytes(value))
            except (ValueError, UnicodeDecodeError) as exc:
                raise BadInput(f"malformed JSON: {exc}") from None
            continue
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise BadInput(f"malformed JSON: {exc}") from None
            continue
        if isinstance(value, dict):
            if "detail" not in value:
                body = value.get("Body", value.get("body"))
                if isinstance(body, str):
                    value = body
                    continue
            return value
        raise BadInput(f"envelope: expected a JSON object, got {type(value).__name__}")
    raise BadInput("envelope: JSON nested in JSON too deeply")


def org_id_from_source(source: str) -> str | None:
    """``aws.partner/genesys.com/cloud/{orgId}/{bus}`` -> orgId (None if the shape differs)."""
    parts = source.split("/")
    if len(parts) >= 4 and parts[2] == "cloud" and parts[3]:
        return parts[3]
    return None


def read_envelope(doc: dict[str, Any]) -> Envelope:
    """Validate the envelope; every missing piece is a BadInput naming it."""
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
    topic = detail.get("topicName")
    if not isinstance(topic, str) or not topic:
        raise BadInput("envelope: missing detail.topicName")
    body = detail.get("eventBody")
    if not isinstance(body, dict):
        raise BadInput("envelope: missing detail.eventBody")
    metadata = detail.get("metadata")
    correlation_id = (
        text_or_none(metadata.get("CorrelationId") or metadata.get("correlationId"))
        if isinstance(metadata, dict)
        else None
    )
    event_time = (
        parse_time(body.get("eventTime"))
        or parse_time(detail.get("timestamp"))
        or parse_time(doc.get("time"))
    )
    org_id = org_id_from_source(source) or text_or_none(body.get("organizationId"))
    return Envelope(
        event_id=event_id,
        topic=topic,
        source=source,
        body=body,
        org_id=org_id,
        event_time=event_time,
        correlation_id=correlation_id,
    )
