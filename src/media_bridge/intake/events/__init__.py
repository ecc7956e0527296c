"""Parsing of Genesys Cloud EventBridge events into the domain events of ``types.py``."""

from media_bridge.intake.events.parse import (
    ParseResult,
    ParseStatus,
    Rejection,
    TopicFamily,
    parse_event,
    parse_event_result,
    parse_payload,
    parse_payload_results,
    topic_family,
)

__all__ = [
    "ParseResult",
    "ParseStatus",
    "Rejection",
    "TopicFamily",
    "parse_event",
    "parse_event_result",
    "parse_payload",
    "parse_payload_results",
    "topic_family",
]
