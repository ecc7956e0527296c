"""What a Notifications frame is to the source (pure): control, or an event and the
conversation it concerns, and whether that conversation ended."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from media_bridge.purposes import is_customer

HEARTBEAT_TOPIC = "channel.metadata"
SOCKET_CLOSING_TOPIC = "v2.system.socket_closing"
QUEUE_TOPIC = "v2.routing.queues.{id}.conversations.messages"
TRANSCRIPTION_TOPIC = "v2.conversations.{id}.transcription"
#: per-conversation detail topics subscribed when ``availabletopics`` offers them over the
#: WebSocket (the ones the parser acts on)
DETAIL_TOPICS = (
    "v2.detail.events.conversation.{id}.customer.start",
    "v2.detail.events.conversation.{id}.customer.end",
    "v2.detail.events.conversation.{id}.acw",
)

FrameKind = Literal["heartbeat", "socket_closing", "event", "junk"]


@dataclass(frozen=True, slots=True)
class Frame:
    kind: FrameKind
    topic: str | None = None
    conversation_id: str | None = None
    #: the frame shows the conversation over (its own topics can be dropped)
    ended: bool = False


def _ended(topic: str, body: dict[str, Any]) -> bool:
    if topic.endswith(".transcription"):
        status = body.get("status")
        return isinstance(status, dict) and status.get("status") == "SESSION_ENDED"
    if topic.endswith((".customer.end", ".acw")):
        return True
    participants = body.get("participants")
    listed = participants if isinstance(participants, list) else []
    customers = [p for p in listed if is_customer(p)]
    return bool(customers) and all(
        p.get("state") in {"disconnected", "terminated"} or p.get("endTime") for p in customers
    )


def classify(raw: bytes | str) -> Frame:
    """One WebSocket text frame -> what the source does with it."""
    try:
        value = json.loads(raw)
    except ValueError:
        return Frame("junk")
    if not isinstance(value, dict):
        return Frame("junk")
    topic = value.get("topicName")
    if topic == HEARTBEAT_TOPIC:
        return Frame("heartbeat", topic)
    if topic == SOCKET_CLOSING_TOPIC:
        return Frame("socket_closing", topic)
    if not isinstance(topic, str):
        return Frame("junk")
    body = value.get("eventBody")
    body = body if isinstance(body, dict) else {}
    conversation = body.get("conversationId") or (
        body.get("id") if ".conversations." in topic and topic.startswith("v2.") else None
    )
    return Frame(
        "event",
        topic,
        conversation if isinstance(conversation, str) and conversation else None,
        _ended(topic, body),
    )


def conversation_topics(conversation_id: str, websocket_patterns: set[str]) -> list[str]:
    """The topics of one conversation to subscribe while it lasts."""
    patterns = [TRANSCRIPTION_TOPIC] + [p for p in DETAIL_TOPICS if p in websocket_patterns]
    return [p.replace("{id}", conversation_id) for p in patterns]


def split_topics(
    topics: list[str], per_channel: int, max_channels: int
) -> tuple[list[list[str]], list[str]]:
    """Topics over channels of at most ``per_channel``, at most ``max_channels`` of them;
    returns (the channels' topic lists, the topics that fit nowhere)."""
    groups = [topics[i : i + per_channel] for i in range(0, len(topics), per_channel)]
    kept = groups[:max_channels]
    left = [t for group in groups[max_channels:] for t in group]
    return kept or [[]], left
