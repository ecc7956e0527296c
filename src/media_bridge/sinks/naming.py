"""Safe, deterministic output names derived from a delivery's idempotency key.

Outputs are never named after the customer's filename (it may be ``../../etc/passwd``)
nor after arrival time: the same key always gives the same names, so re-delivery
overwrites instead of duplicating. Names use only ``[A-Za-z0-9_-]`` and dots between
their parts.

Two keys never share a name (within a conversation's folder). A key whose ids are all
plain (``[A-Za-z0-9-]``, the shape the planner makes) keeps the readable stem
``{messageId}_{mediaId}``: split at ``_`` it gives its ids back. Any other key (an id
holding ``_`` or anything else, an odd shape, a very long id) gets its cleaned ids plus
``__`` and 12 hex characters of the key's sha256; a plain stem never holds ``__``.
Earlier releases named ``m_a:b`` and ``m:a_b`` both ``m_a_b`` (one overwrote the other);
``legacy_delivery_stem`` still gives those old names, to find files written under them.
"""

from __future__ import annotations

import hashlib
import re

from media_bridge.errors import UnusableConversationId
from media_bridge.jobs.keys import split_key
from media_bridge.types import DeliveredFile, Delivery, JobKind

_CONVERSATION_ID = re.compile(r"[A-Za-z0-9-]{1,128}")
_UNSAFE = re.compile(r"[^A-Za-z0-9-]+")
_PLAIN_ID = re.compile(r"[A-Za-z0-9-]+")
_KIND_NAMES = frozenset(kind.value for kind in JobKind)
_MAX_STEM = 160

EXTENSIONS: dict[str, str] = {
    "audio/ogg": "ogg",
    "audio/opus": "opus",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/vnd.wave": "wav",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/mp4": "m4a",
    "audio/x-m4a": "m4a",
    "audio/aac": "aac",
    "audio/amr": "amr",
    "audio/webm": "webm",
    "audio/basic": "ulaw",
    "audio/flac": "flac",
    "video/mp4": "mp4",
    "video/webm": "webm",
    "video/quicktime": "mov",
    "video/3gpp": "3gp",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/pdf": "pdf",
    "application/json": "json",
    "text/plain": "txt",
}


def safe_conversation_id(conversation_id: str) -> str:
    """The conversation id as a folder name, or BadInput: only ``[A-Za-z0-9-]`` is accepted."""
    if not _CONVERSATION_ID.fullmatch(conversation_id):  # "$" would let "id\n" through
        raise UnusableConversationId(
            f"conversation id {conversation_id[:80]!r} is not usable as a folder name"
        )
    return conversation_id


def _clean(part: str) -> str:
    return _UNSAFE.sub("_", part).strip("_")


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _name_parts(delivery: Delivery) -> tuple[list[str], bool]:
    """The key's ids below the conversation, prefixed with the kind except for
    attachments; and whether the key has its kind's plain shape."""
    parts = split_key(delivery.key)
    rest = list(parts.ids)
    has_conversation = bool(rest) and rest[0] == delivery.conversation_id
    if has_conversation:
        rest = rest[1:]
    if delivery.kind is JobKind.ATTACHMENT and rest:
        # attachment:{conv}:{msg}:{media}; a message id named like a kind could meet
        # that kind's stem ("recording_R")
        shaped = has_conversation and len(rest) == 2 and rest[0] not in _KIND_NAMES
        return rest, shaped
    return [parts.prefix, *rest], True


def delivery_stem(delivery: Delivery) -> str:
    """``attachment:{conv}:{msg}:{media}`` -> ``{msg}_{media}``; other kinds are prefixed with
    the kind (``recording_{recordingId}``). Any id that is not plain, or a key of an odd
    shape, gives ``{cleaned ids}__{12 hex of sha256(key)}`` instead: injective (module doc)."""
    parts, shaped = _name_parts(delivery)
    plain = "_".join(parts)
    if shaped and len(plain) <= _MAX_STEM and all(_PLAIN_ID.fullmatch(p) for p in parts):
        return plain
    cleaned = "_".join(c for c in map(_clean, parts) if c) or "delivery"
    return f"{cleaned[:_MAX_STEM]}__{_digest(delivery.key)}"


def legacy_delivery_stem(delivery: Delivery) -> str:
    """The stem earlier releases gave (not injective: ``m_a:b`` and ``m:a_b`` met), to
    find files written under it. Equal to ``delivery_stem`` for plain ids."""
    parts = split_key(delivery.key)
    rest = list(parts.ids)
    if rest and rest[0] == delivery.conversation_id:
        rest = rest[1:]
    if delivery.kind is not JobKind.ATTACHMENT or not rest:
        rest = [parts.prefix, *rest]
    cleaned = [_clean(p) for p in rest]
    stem = "_".join(p for p in cleaned if p) or "delivery"
    if cleaned != rest or len(stem) > _MAX_STEM:
        stem = f"{stem[:_MAX_STEM]}-{_digest(delivery.key)}"
    return stem


def extension_for(mime: str) -> str:
    return EXTENSIONS.get(mime.split(";", 1)[0].strip().lower(), "bin")


def file_name(stem: str, file: DeliveredFile) -> str:
    role = _clean(file.role.lower()) or "file"
    return f"{stem}.{role}.{extension_for(file.mime)}"
