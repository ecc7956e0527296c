"""Finding one attachment in a ``MessageData`` answer (the fresh-URL path).

``GET .../messages/{messageId}`` returns the message with ``normalizedMessage.content[]``;
an entry with ``contentType == "Attachment"`` carries ``attachment`` =
``{id, mediaType, url, mime, sha256, filename, contentSizeBytes}`` (all optional).
"""

from __future__ import annotations

from typing import Any


def attachments_in_message(message_data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every ``ConversationContentAttachment`` of a MessageData's normalized message."""
    normalized = message_data.get("normalizedMessage")
    if not isinstance(normalized, dict):
        return []
    content = normalized.get("content")
    if not isinstance(content, list):
        return []
    found = []
    for item in content:
        if not isinstance(item, dict):
            continue
        if str(item.get("contentType", "")).lower() != "attachment":
            continue
        attachment = item.get("attachment")
        if isinstance(attachment, dict):
            found.append(attachment)
    return found


def attachment_from_message(message_data: dict[str, Any], media_id: str) -> dict[str, Any] | None:
    """The attachment ``media_id`` of a message, reduced to what a download needs:
    ``{id, url, mime, sha256, contentSizeBytes, filename, mediaType}`` (None values for
    fields Genesys left out). None when the message has no such attachment."""
    for attachment in attachments_in_message(message_data):
        if str(attachment.get("id", "")) != media_id:
            continue
        size = attachment.get("contentSizeBytes")
        return {
            "id": media_id,
            "url": _str(attachment.get("url")),
            "mime": _str(attachment.get("mime")),
            "sha256": _str(attachment.get("sha256")),
            "contentSizeBytes": size if isinstance(size, int) and size >= 0 else None,
            "filename": _str(attachment.get("filename")),
            "mediaType": _str(attachment.get("mediaType")),
        }
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
