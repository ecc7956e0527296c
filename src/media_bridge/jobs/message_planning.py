"""Messages read from the API (MessageData) -> the jobs a message topic would have given.

Shared by the conversation job (bulk reads) and the text job (one message read), so a
message is planned the same way whichever path found it; the ledger dedupes by key.
"""

from __future__ import annotations

from typing import Any

from media_bridge.genesys.attachments import attachments_in_message
from media_bridge.genesys.messaging import message_channel, message_text
from media_bridge.identity.facts import from_conversation_participant, from_message, merge
from media_bridge.jobs.keys import conversation_key
from media_bridge.jobs.payloads import EventMeta
from media_bridge.jobs.planning import plan_message_jobs
from media_bridge.types import AttachmentRef, NewJob, ParsedEvent, TextMessage
from media_bridge.values import parse_time


def event_for_messages(
    conversation_id: str,
    messages: list[dict[str, Any]],
    participants: dict[str, dict[str, Any]],
    fallback_channel: str | None,
    source_event: EventMeta,
) -> ParsedEvent:
    """Turn MessageData entities into the same domain event a message topic gives;
    ``source_event`` is the planning job's ``event``."""
    event = ParsedEvent(
        event_id=source_event.event_id or conversation_key(conversation_id),
        topic=source_event.topic or "api.conversations.messages",
        org_id=source_event.org_id,
        correlation_id=source_event.correlation_id,
    )
    for message in messages:
        message_id = str(message.get("id") or "")
        if not message_id:
            continue
        participant = participants.get(message_id, {})
        channel = message_channel(message) or fallback_channel
        when = parse_time(message.get("timestamp"))
        # the message names its sender; the conversation's participant adds the
        # external contact and organisation (both reads were made anyway)
        speaker = merge(from_message(message), from_conversation_participant(participant))
        common: dict[str, Any] = {
            "participant_id": participant.get("id"),
            "participant_purpose": participant.get("purpose"),
            "channel": channel,
            "message_time": when,
            "speaker": speaker,
        }
        event.texts.append(
            TextMessage(
                conversation_id,
                message_id,
                message_text(message),
                direction=message.get("direction"),
                **common,
            )
        )
        attributes = participant.get("attributes")
        event.attachments += _attachments(
            conversation_id,
            message_id,
            message,
            attributes if isinstance(attributes, dict) else None,
            common,
        )
    return event


def jobs_for_messages(
    conversation_id: str,
    messages: list[dict[str, Any]],
    participants: dict[str, dict[str, Any]],
    fallback_channel: str | None,
    source_event: EventMeta,
    media_types: frozenset[str] | None,
    consent_attribute: str | None = None,
) -> list[NewJob]:
    """The attachment and text jobs of messages read from the API."""
    event = event_for_messages(
        conversation_id, messages, participants, fallback_channel, source_event
    )
    return plan_message_jobs(event, media_types, consent_attribute)


def _attachments(
    conversation_id: str,
    message_id: str,
    message: dict[str, Any],
    attributes: dict[str, Any] | None,
    common: dict[str, Any],
) -> list[AttachmentRef]:
    """The message's attachments that have an id (one without cannot be fetched)."""
    return [
        AttachmentRef(
            conversation_id=conversation_id,
            message_id=message_id,
            media_id=str(attachment["id"]),
            media_type=str(attachment.get("mediaType") or "File"),
            mime=attachment.get("mime"),
            name=attachment.get("filename"),
            url=attachment.get("url"),
            size=attachment.get("contentSizeBytes"),
            sha256=attachment.get("sha256"),
            attributes=attributes,
            **common,
        )
        for attachment in attachments_in_message(message)
        if attachment.get("id")
    ]
