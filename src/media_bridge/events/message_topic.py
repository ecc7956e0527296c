"""Conversation message topics -> customer attachments and message ids.

Topics: ``v2.routing.queues.{id}.conversations.messages``,
``v2.users.{id}.conversations.messages`` and ``v2.conversations.messages...``; body
model ``(Queue)ConversationMessageEventTopicMessageConversation``: ``participants[]
.messages[]`` with ``message.id``, ``messageTime``, ``media[] {url, mediaType,
contentLengthBytes, name, id}`` and ``messageMetadata.content[] {contentType, subType}``.

The SDK model carries no message text: texts come from the API (the conversation job).
A ``text`` field, should one ever appear on a message, is taken as a bonus.
"""

from __future__ import annotations

import re
from typing import Any

from media_bridge.errors import BadInput
from media_bridge.events.values import (
    channel_name,
    int_or_none,
    media_type_of,
    mime_only,
    parse_time,
    text_or_none,
)
from media_bridge.identity.facts import SpeakerFacts, from_topic_participant
from media_bridge.purposes import is_customer_purpose
from media_bridge.types import AttachmentRef, TextMessage

_MESSAGE_TOPIC = re.compile(
    r"^v2\.(?:(?:routing\.queues|users)\.[^.]+\.conversations\.messages"
    r"|conversations\.messages)(?:\.[^.]+)*$"
)


def is_message_topic(topic: str) -> bool:
    return _MESSAGE_TOPIC.match(topic) is not None


def _attachment_subtypes(metadata: Any) -> list[str | None]:
    """``messageMetadata.content[]`` Attachment entries' subTypes, in order (aligned to media)."""
    if not isinstance(metadata, dict):
        return []
    content = metadata.get("content")
    if not isinstance(content, list):
        return []
    return [
        text_or_none(item.get("subType"))
        for item in content
        if isinstance(item, dict) and str(item.get("contentType", "")).lower() == "attachment"
    ]


def shows_no_text(metadata: Any, media_count: int) -> bool:
    """True when ``messageMetadata.content[]`` says the message is attachments only.

    The SDK's content types (ConversationMessageMetadataContent) include ``Text`` beside
    ``Attachment``, ``QuickReply``, ``ButtonResponse`` and others. A message whose content
    lists attachments and nothing else is taken to have no text; an empty or missing
    content list, or any other entry (which may carry text), says nothing. The topic's
    ``media[]`` must list every attachment too, or the message read is still needed to
    find them. Whether Genesys lists a ``Text`` entry for a captioned attachment is not
    verified (docs/emulator.md): ``fetch.skip_textless_reads=false`` reads every message.
    """
    if not isinstance(metadata, dict):
        return False
    content = metadata.get("content")
    if not isinstance(content, list) or not content:
        return False
    kinds = [
        str(item.get("contentType", "")).lower() if isinstance(item, dict) else ""
        for item in content
    ]
    return all(kind == "attachment" for kind in kinds) and media_count >= len(kinds)


def parse_message_body(
    body: dict[str, Any],
    *,
    speakers: dict[str, SpeakerFacts] | None = None,
    textless: set[str] | None = None,
) -> tuple[list[AttachmentRef], list[TextMessage], dict[str, list[str]]]:
    """Every message of a customer participant (``purposes.is_customer_purpose``).

    Raises BadInput naming the first missing id: an attachment without a conversation,
    message or media id cannot get an idempotency key. ``speakers``, when given, receives
    the sender of each message id (for the text jobs of messages without media);
    ``textless``, when given, receives the ids of messages whose metadata shows no text.
    """
    conversation_id = text_or_none(body.get("id"))
    if conversation_id is None:
        raise BadInput("message topic: missing conversation id (eventBody.id)")
    participants = body.get("participants")
    if participants is None:
        participants = []
    if not isinstance(participants, list):
        raise BadInput("message topic: participants is not a list")
    attachments: list[AttachmentRef] = []
    texts: list[TextMessage] = []
    message_ids: list[str] = []
    for p_index, participant in enumerate(participants):
        if not isinstance(participant, dict):
            continue
        if not is_customer_purpose(participant.get("purpose")):
            continue
        purpose = str(participant.get("purpose")).lower()
        participant_id = text_or_none(participant.get("id"))
        channel = channel_name(participant.get("type"))
        direction = text_or_none(participant.get("direction"))
        speaker = from_topic_participant(participant)
        attributes = participant.get("attributes")
        attributes = attributes if isinstance(attributes, dict) else None
        messages = participant.get("messages") or []
        if not isinstance(messages, list):
            raise BadInput(f"message topic: participants[{p_index}].messages is not a list")
        for m_index, details in enumerate(messages):
            if not isinstance(details, dict):
                continue
            where = f"participants[{p_index}].messages[{m_index}]"
            message = details.get("message")
            message_id = text_or_none(message.get("id")) if isinstance(message, dict) else None
            media = details.get("media") or []
            if message_id is None:
                if media:
                    raise BadInput(f"message topic: {where} has media but no message.id")
                continue
            if message_id not in message_ids:
                message_ids.append(message_id)
            if speakers is not None:
                speakers.setdefault(message_id, speaker)
            message_time = parse_time(details.get("messageTime"))
            sub_types = _attachment_subtypes(details.get("messageMetadata"))
            if not isinstance(media, list):
                raise BadInput(f"message topic: {where}.media is not a list")
            if textless is not None and shows_no_text(details.get("messageMetadata"), len(media)):
                textless.add(message_id)
            for i, item in enumerate(media):
                if not isinstance(item, dict):
                    raise BadInput(f"message topic: {where}.media[{i}] is not an object")
                media_id = text_or_none(item.get("id"))
                if media_id is None:
                    raise BadInput(f"message topic: {where}.media[{i}] has no id")
                raw_type = item.get("mediaType")
                attachments.append(
                    AttachmentRef(
                        conversation_id=conversation_id,
                        message_id=message_id,
                        media_id=media_id,
                        media_type=media_type_of(
                            raw_type, sub_types[i] if i < len(sub_types) else None
                        ),
                        mime=mime_only(raw_type),
                        name=text_or_none(item.get("name")),
                        url=text_or_none(item.get("url")),
                        size=int_or_none(item.get("contentLengthBytes")),
                        participant_id=participant_id,
                        participant_purpose=purpose,
                        channel=channel,
                        message_time=message_time,
                        speaker=speaker,
                        attributes=attributes,
                    )
                )
            text = text_or_none(details.get("text"))
            if text is not None:
                texts.append(
                    TextMessage(
                        conversation_id=conversation_id,
                        message_id=message_id,
                        text=text,
                        participant_id=participant_id,
                        participant_purpose=purpose,
                        channel=channel,
                        message_time=message_time,
                        direction=direction,
                        speaker=speaker,
                    )
                )
    return attachments, texts, ({conversation_id: message_ids} if message_ids else {})
