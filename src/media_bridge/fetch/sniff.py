"""What a file really is, from its first bytes, and whether that fits the declared mime.

Storage and proxies answer errors with HTML or JSON and a 200 status more often than
one would hope; a voice note that is really an error page must be rejected with a
reason, not handed to a decoder. ``sniff(head)`` needs the first few KiB; the
recognition itself is ``audio/sniff.py``'s, shared with the audio path.
"""

from __future__ import annotations

from media_bridge.audio.sniff import DOCUMENT, IMAGE, MEDIA, OTHER, TEXT, Sniffed, identify
from media_bridge.errors import MediaRefusal

__all__ = [
    "DOCUMENT",
    "IMAGE",
    "MEDIA",
    "SNIFF_BYTES",
    "TEXT",
    "Sniffed",
    "base_mime",
    "mismatch_reason",
    "sniff",
]

#: how many leading bytes ``sniff`` looks at
SNIFF_BYTES = 4096


def sniff(head: bytes) -> Sniffed | None:
    """The real type of a file from its leading bytes (``audio.sniff.identify``); None when
    not recognised or only named for the audio path (family ``OTHER``)."""
    found = identify(head)
    return None if found is None or found.family == OTHER else found


def base_mime(mime: str | None) -> str:
    """``Audio/OGG; codecs=opus`` -> ``audio/ogg``; None -> ``""``."""
    return (mime or "").split(";", 1)[0].strip().lower()


def _declared_family(mime: str) -> str | None:
    major = mime.split("/", 1)[0]
    if major in {"audio", "video"} or mime in {"application/ogg", "application/mp4"}:
        return MEDIA
    if major == "image":
        return IMAGE
    if mime == "application/pdf":
        return DOCUMENT
    return None  # octet-stream, unknown: nothing to compare against


def mismatch_reason(
    declared_mime: str | None, sniffed: Sniffed | None
) -> tuple[MediaRefusal, str] | None:
    """``(reason_code, explanation)`` when the bytes contradict the declared type."""
    declared = base_mime(declared_mime)
    family = _declared_family(declared) if declared else None
    if family is None or sniffed is None or sniffed.family == family:
        return None
    if sniffed.family == TEXT:
        kind = "an HTML page" if sniffed.mime == "text/html" else f"{sniffed.mime} text"
        return (
            "error_page" if sniffed.mime == "text/html" else "not_media",
            f"declared {declared} but the body is {kind} (an error page from storage or a proxy?)",
        )
    return ("type_mismatch", f"declared {declared} but the bytes are {sniffed.mime}")
