"""Pure helpers over the messaging API's raw JSON (MessageConversation, MessageData).

The bridge reads raw JSON rather than SDK models: the SDK maps enum values it does
not know to ``outdated_sdk_version`` and would lose audio media types.
"""

from __future__ import annotations

from typing import Any

from media_bridge.purposes import is_customer
from media_bridge.values import channel_name


def message_text(message: dict[str, Any]) -> str:
    normalized = message.get("normalizedMessage") or {}
    text = normalized.get("text")
    return text if isinstance(text, str) else ""


def message_channel(message: dict[str, Any]) -> str | None:
    normalized = message.get("normalizedMessage") or {}
    platform = (normalized.get("channel") or {}).get("platform")
    return channel_name(platform or message.get("messengerType"))


def customer_message_ids(conversation: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """(participant, messageId) for every message of a customer participant, in order."""
    found: list[tuple[dict[str, Any], str]] = []
    for participant in conversation.get("participants") or []:
        if not is_customer(participant):
            continue
        for details in participant.get("messages") or []:
            message_id = details.get("messageId")
            if isinstance(message_id, str) and message_id:
                found.append((participant, message_id))
    return found


def conversation_ended(conversation: dict[str, Any]) -> bool:
    """True once every customer participant is disconnected/terminated or has an endTime."""
    customers = [p for p in conversation.get("participants") or [] if is_customer(p)]
    if not customers:
        return False
    return all(
        p.get("endTime") or p.get("state") in {"disconnected", "terminated"} for p in customers
    )
