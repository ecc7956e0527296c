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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from media_bridge.errors import BadInput
from media_bridge.identity.facts import SpeakerFacts, from_topic_participant
from media_bridge.purposes import is_customer_purpose
from media_bridge.types import AttachmentRef, TextMessage
from media_bridge.values import (
    channel_name,
    int_or_none,
    media_type_of,
    mime_only,
    parse_time,
    text_or_none,
)

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


@dataclass(frozen=True, slots=True)
class MessageBodyContents:
    """What one message topic's body holds for the bridge, named rather than positional.

    ``message_ids`` are the conversation's customer message ids in first-seen order
    (messages whose ``media[]`` is empty may still need a read); ``speakers`` maps each
    to its sender (for the text jobs of messages without media); ``textless`` holds the
    ids whose ``messageMetadata`` shows no text (``shows_no_text``).
    """

    conversation_id: str
    attachments: tuple[AttachmentRef, ...] = ()
    texts: tuple[TextMessage, ...] = ()
    message_ids: tuple[str, ...] = ()
    speakers: Mapping[str, SpeakerFacts] = field(default_factory=dict)
    textless: frozenset[str] = frozenset()

    def message_ids_by_conversation(self) -> dict[str, list[str]]:
        """``ParsedEvent.message_ids``' shape: empty when the body named no message."""
        return {self.conversation_id: list(self.message_ids)} if self.message_ids else {}


@dataclass(frozen=True, slots=True)
class _Sender:
    """A customer participant's facts, copied onto each of its messages' jobs."""

    participant_id: str | None
    purpose: str
    channel: str | None
    direction: str | None
    speaker: SpeakerFacts
    attributes: dict[str, Any] | None

    @classmethod
    def of(cls, participant: dict[str, Any]) -> _Sender:
        attributes = participant.get("attributes")
        return cls(
            participant_id=text_or_none(participant.get("id")),
            purpose=str(participant.get("purpose")).lower(),
            channel=channel_name(participant.get("type")),
            direction=text_or_none(participant.get("direction")),
            speaker=from_topic_participant(participant),
            attributes=attributes if isinstance(attributes, dict) else None,
        )


@dataclass(slots=True)
class _Collector:
    """The body's contents as they are read, frozen into MessageBodyContents at the end."""

    conversation_id: str
    attachments: list[AttachmentRef] = field(default_factory=list)
    texts: list[TextMessage] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)
    speakers: dict[str, SpeakerFacts] = field(default_factory=dict)
    textless: set[str] = field(default_factory=set)

    def freeze(self) -> MessageBodyContents:
        return MessageBodyContents(
            conversation_id=self.conversation_id,
            attachments=tuple(self.attachments),
            texts=tuple(self.texts),
            message_ids=tuple(self.message_ids),
            speakers=dict(self.speakers),
            textless=frozenset(self.textless),
        )


def parse_message_body(body: dict[str, Any]) -> MessageBodyContents:
    """Every message of a customer participant (``purposes.is_customer_purpose``).

    Raises BadInput naming the first missing id: an attachment without a conversation,
    message or media id cannot get an idempotency key.
    """
    conversation_id = text_or_none(body.get("id"))
    if conversation_id is None:
        raise BadInput("message topic: missing conversation id (eventBody.id)")
    participants = body.get("participants")
    if participants is None:
        participants = []
    if not isinstance(participants, list):
        raise BadInput("message topic: participants is not a list")
    found = _Collector(conversation_id)
    for p_index, participant in enumerate(participants):
        if not isinstance(participant, dict):
            continue
        if not is_customer_purpose(participant.get("purpose")):
            continue
        sender = _Sender.of(participant)
        messages = participant.get("messages") or []
        if not isinstance(messages, list):
            raise BadInput(f"message topic: participants[{p_index}].messages is not a list")
        for m_index, details in enumerate(messages):
            if isinstance(details, dict):
                _read_message(
                    found, sender, details, f"participants[{p_index}].messages[{m_index}]"
                )
    return found.freeze()


def _read_message(found: _Collector, sender: _Sender, details: dict[str, Any], where: str) -> None:
    """One ``messages[]`` entry: its id, attachments and (bonus) text into ``found``."""
    message = details.get("message")
    message_id = text_or_none(message.get("id")) if isinstance(message, dict) else None
    media = details.get("media") or []
    if message_id is None:
        if media:
            raise BadInput(f"message topic: {where} has media but no message.id")
        return
    if message_id not in found.message_ids:
        found.message_ids.append(message_id)
    found.speakers.setdefault(message_id, sender.speaker)
    message_time = parse_time(details.get("messageTime"))
    sub_types = _attachment_subtypes(details.get("messageMetadata"))
    if not isinstance(media, list):
        raise BadInput(f"message topic: {where}.media is not a list")
    if shows_no_text(details.get("messageMetadata"), len(media)):
        found.textless.add(message_id)
    for i, item in enumerate(media):
        if not isinstance(item, dict):
            raise BadInput(f"message topic: {where}.media[{i}] is not an object")
        media_id = text_or_none(item.get("id"))
        if media_id is None:
            raise BadInput(f"message topic: {where}.media[{i}] has no id")
        raw_type = item.get("mediaType")
        found.attachments.append(
            AttachmentRef(
                conversation_id=found.conversation_id,
                message_id=message_id,
                media_id=media_id,
                media_type=media_type_of(raw_type, sub_types[i] if i < len(sub_types) else None),
                mime=mime_only(raw_type),
                name=text_or_none(item.get("name")),
                url=text_or_none(item.get("url")),
                size=int_or_none(item.get("contentLengthBytes")),
                participant_id=sender.participant_id,
                participant_purpose=sender.purpose,
                channel=sender.channel,
                message_time=message_time,
                speaker=sender.speaker,
                attributes=sender.attributes,
            )
        )
    text = text_or_none(details.get("text"))
    if text is not None:
        found.texts.append(
            TextMessage(
                conversation_id=found.conversation_id,
                message_id=message_id,
                text=text,
                participant_id=sender.participant_id,
                participant_purpose=sender.purpose,
                channel=sender.channel,
                message_time=message_time,
                direction=sender.direction,
                speaker=sender.speaker,
            )
        )
