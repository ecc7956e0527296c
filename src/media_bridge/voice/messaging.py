"""A messaging conversation's recording as a second source of attachments (pure).

``messagingTranscript[].messageMediaAttachments[]`` = ``{url, mediaType, contentLength,
name, id}``; the entry's ``id`` is the message id (the emulator's, and the keys match
the event path's ``attachment:{conv}:{messageId}:{mediaId}``, so the ledger dedupes).
``mediaType`` is a MIME type here, mapped to the message API's vocabulary. Only the
customer's entries count (``purposes.is_customer_purpose``), as on the event path; an
entry without a ``purpose`` is kept (the field is optional in ``RecordingMessagingMessage``).
"""

from __future__ import annotations

from typing import Any

from media_bridge.purposes import is_customer_purpose
from media_bridge.types import AttachmentRef
from media_bridge.values import parse_time

_KINDS = {"audio": "Audio", "image": "Image", "video": "Video"}


def attachment_kind(mime: str | None) -> str:
    """``audio/ogg`` -> ``Audio``; unknown -> ``File`` (the SDK enum is not trusted)."""
    if not mime:
        return "File"
    lowered = mime.lower()
    if lowered in {"audio", "image", "video", "file"}:
        return lowered.capitalize()
    return _KINDS.get(lowered.split("/", 1)[0], "File")


def attachments_from_recording(
    conversation_id: str, recording: dict[str, Any]
) -> list[AttachmentRef]:
    refs: list[AttachmentRef] = []
    entries = recording.get("messagingTranscript")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        if entry.get("purpose") is not None and not is_customer_purpose(entry.get("purpose")):
            continue  # the agent's (or another party's) message
        message_id = entry.get("id") or entry.get("messageId")
        attachments = entry.get("messageMediaAttachments")
        if not isinstance(message_id, str) or not isinstance(attachments, list):
            continue
        for attachment in attachments:
            if not isinstance(attachment, dict) or not attachment.get("id"):
                continue
            mime = attachment.get("mediaType")
            size = attachment.get("contentLength")
            refs.append(
                AttachmentRef(
                    conversation_id=conversation_id,
                    message_id=message_id,
                    media_id=str(attachment["id"]),
                    media_type=attachment_kind(mime if isinstance(mime, str) else None),
                    mime=mime if isinstance(mime, str) and "/" in mime else None,
                    name=attachment.get("name"),
                    url=attachment.get("url"),
                    size=size if isinstance(size, int) else None,
                    participant_id=entry.get("participantId"),
                    participant_purpose=entry.get("purpose"),
                    message_time=parse_time(entry.get("timestamp")),
                )
            )
    return refs
