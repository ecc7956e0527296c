"""Small value normalisers of Genesys JSON: times, channels, media types.

Shared by the topic parsers (``intake.events``), planning (``jobs``) and the API helpers
(``genesys.messaging``), so it sits at the top: none of them imports another for it.

Genesys is inconsistent across topics (epoch milliseconds in detail events, ISO
strings elsewhere; MIME strings in message topics, a capitalised vocabulary in
the REST API), so every parser goes through these few functions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

#: participant ``type`` / detail ``messageType`` (lower-cased) -> channel name
#: (``ConversationNormalizedMessage.channel.platform`` spelling, WhatsApp as Genesys' UI writes it)
CHANNELS: dict[str, str] = {
    "whatsapp": "WhatsApp",
    "webmessaging": "WebMessaging",
    "open": "Open",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "line": "Line",
    "apple": "Apple",
    "sms": "Sms",
    "twitter": "Twitter",
    "linkedin": "LinkedIn",
    "viber": "Viber",
    "wechat": "WeChat",
    "telegram": "Telegram",
    "kakao": "Kakao",
}

#: the ``ConversationContentAttachment.mediaType`` vocabulary
MEDIA_TYPES: dict[str, str] = {
    "audio": "Audio",
    "image": "Image",
    "video": "Video",
    "file": "File",
    "link": "Link",
}

_MIME_FAMILIES = {"audio": "Audio", "image": "Image", "video": "Video"}


def parse_time(value: Any) -> datetime | None:
    """Epoch milliseconds (number or digit string) or an ISO 8601 string -> aware UTC datetime.

    Anything else (absent, malformed, out of range) is None: a time is never worth
    rejecting an event for.
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value / 1000.0, tz=UTC)
        if isinstance(value, str) and value:
            if value.isdigit():
                return datetime.fromtimestamp(int(value) / 1000.0, tz=UTC)
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                return parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def channel_name(value: Any) -> str | None:
    """``whatsapp`` / ``WHATSAPP`` -> ``WhatsApp``; unknown non-empty values kept as given."""
    if not isinstance(value, str) or not value:
        return None
    lowered = value.lower()
    if lowered == "unknown":
        return None
    return CHANNELS.get(lowered, value)


def mime_only(value: Any) -> str | None:
    """``audio/ogg; codecs=opus`` -> ``audio/ogg``; non-MIME values -> None."""
    if not isinstance(value, str) or "/" not in value:
        return None
    return value.split(";", 1)[0].strip().lower() or None


def media_type_of(media_type: Any, sub_type: Any = None) -> str:
    """Map a message topic's ``mediaType`` (a MIME string, or already the vocabulary) and the
    matching ``messageMetadata.content[].subType`` to Audio | Image | Video | File | Link.

    A concrete MIME family wins; a generic MIME (``application/octet-stream``) defers to the
    metadata's subType (``Audio`` marks a voice note); nothing usable -> File.
    """
    if isinstance(media_type, str) and media_type:
        mime = mime_only(media_type)
        if mime is not None:
            family = _MIME_FAMILIES.get(mime.split("/", 1)[0])
            if family is not None:
                return family
        else:
            known = MEDIA_TYPES.get(media_type.lower())
            if known is not None:
                return known
    if isinstance(sub_type, str):
        known = MEDIA_TYPES.get(sub_type.lower())
        if known is not None:
            return known
    return "File"


def text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def bcp47_case(value: Any) -> str | None:
    """``es-us`` / ``ES-us`` -> ``es-US``; ``zh-hant-tw`` -> ``zh-Hant-TW`` (BCP 47 case)."""
    if not isinstance(value, str) or not value.strip():
        return None
    parts = value.strip().replace("_", "-").split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)
