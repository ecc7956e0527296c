"""Safe, deterministic output names derived from a delivery's idempotency key.

Outputs are never named after the customer's filename (it may be ``../../etc/passwd``)
nor after arrival time: the same key always gives the same names, so re-delivery
overwrites instead of duplicating. Names use only ``[A-Za-z0-9_-]`` and dots between
their parts; anything else is replaced and a short hash of the key keeps names unique.
"""

from __future__ import annotations

import hashlib
import re

from media_bridge.errors import BadInput
from media_bridge.types import DeliveredFile, Delivery, JobKind

_CONVERSATION_ID = re.compile(r"^[A-Za-z0-9-]{1,128}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9-]+")
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
    if not _CONVERSATION_ID.match(conversation_id):
        raise BadInput(f"conversation id {conversation_id[:80]!r} is not usable as a folder name")
    return conversation_id


def _clean(part: str) -> str:
    return _UNSAFE.sub("_", part).strip("_")


def delivery_stem(delivery: Delivery) -> str:
    """``attachment:{conv}:{msg}:{media}`` -> ``{msg}_{media}``; other kinds are prefixed with
    the kind (``recording_{recordingId}``). A short hash of the key is appended whenever
    cleaning changed or shortened anything, so two keys never share a stem."""
    parts = delivery.key.split(":")
    rest = parts[1:]
    if rest and rest[0] == delivery.conversation_id:
        rest = rest[1:]
    if delivery.kind is not JobKind.ATTACHMENT or not rest:
        rest = [parts[0], *rest]
    cleaned = [_clean(p) for p in rest]
    # "_" never survives cleaning, so it joins parts unambiguously ("a-b"+"c" != "a"+"b-c")
    stem = "_".join(p for p in cleaned if p) or "delivery"
    if cleaned != rest or len(stem) > _MAX_STEM:
        digest = hashlib.sha256(delivery.key.encode()).hexdigest()[:12]
        stem = f"{stem[:_MAX_STEM]}-{digest}"
    return stem


def extension_for(mime: str) -> str:
    return EXTENSIONS.get(mime.split(";", 1)[0].strip().lower(), "bin")


def file_name(stem: str, file: DeliveredFile) -> str:
    role = _clean(file.role.lower()) or "file"
    return f"{stem}.{role}.{extension_for(file.mime)}"
