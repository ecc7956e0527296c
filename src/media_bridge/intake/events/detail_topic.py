"""Analytics detail topics -> ConversationActivity (ids only).

``v2.detail.events.conversation.{conversationId}.{activity}`` where activity is
``customer.start``, ``customer.end``, ``acd.start``, ``acd.end``, ``acw``,
``user.start``, ``user.end``, ... Body: flat detail events such as
``CustomerEndDetailEventTopicCustomerEndEvent`` (``eventTime`` in epoch ms,
``mediaType`` MESSAGE/VOICE/..., ``messageType`` WHATSAPP/WEBMESSAGING/...).
"""

from __future__ import annotations

import re
from typing import Any

from media_bridge.errors import BadInput
from media_bridge.identity.facts import from_detail_event
from media_bridge.types import ConversationActivity
from media_bridge.values import parse_time, text_or_none

_DETAIL_TOPIC = re.compile(r"^v2\.detail\.events\.conversation\.([^.]+)\.(.+)$")
#: conversation ids are UUIDs; a topic whose id segment is not one lacks the id
#: (``v2.detail.events.conversation.customer.end`` must not read as id "customer")
_ID_LIKE = re.compile(r"^[0-9A-Fa-f]{8}(-?[0-9A-Fa-f]{4}){3}-?[0-9A-Fa-f]{12}$")


def detail_topic_parts(topic: str) -> tuple[str, str] | None:
    """``(conversationId, activity)`` of a detail topic, or None for any other topic."""
    match = _DETAIL_TOPIC.match(topic)
    if match is None:
        return None
    return match.group(1), match.group(2)


#: activities of a voice call the planner acts on (its RECORDING_ACTIVITIES)
_VOICE_ACTED = frozenset({"customer.end", "acw"})


def detail_id_unused(topic: str, body: dict[str, Any]) -> bool:
    """A detail topic whose id is not UUID-shaped, for an activity nothing uses the id
    of (neither a messaging conversation nor a call's recording): ignored, not rejected."""
    parts = detail_topic_parts(topic)
    if parts is None or _ID_LIKE.match(parts[0]):
        return False
    media = (text_or_none(body.get("mediaType")) or "").upper()
    if media == "MESSAGE":
        return False
    return not (media == "VOICE" and parts[1].lower() in _VOICE_ACTED)


def parse_detail_body(topic: str, body: dict[str, Any]) -> ConversationActivity:
    parts = detail_topic_parts(topic)
    if parts is None:
        raise BadInput(f"detail topic: unexpected topic {topic[:160]!r}")
    topic_conversation, activity = parts
    if not _ID_LIKE.match(topic_conversation):
        raise BadInput(
            f"detail topic: no conversation id in topic {topic[:160]!r} (expected "
            "v2.detail.events.conversation.{conversationId}.{activity})"
        )
    conversation_id = text_or_none(body.get("conversationId")) or topic_conversation
    if conversation_id != topic_conversation:
        raise BadInput("detail topic: eventBody.conversationId differs from the topic's id")
    media_type = text_or_none(body.get("mediaType"))
    message_type = text_or_none(body.get("messageType"))
    return ConversationActivity(
        conversation_id=conversation_id,
        activity=activity.lower(),
        media_type=media_type.upper() if media_type else None,
        message_type=message_type.upper() if message_type else None,
        participant_id=text_or_none(body.get("participantId")),
        session_id=text_or_none(body.get("sessionId")),
        event_time=parse_time(body.get("eventTime")),
        speaker=from_detail_event(body) if activity.lower().startswith("customer") else None,
    )
