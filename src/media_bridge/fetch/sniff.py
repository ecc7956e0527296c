"""What a file really is, from its first bytes, and whether that fits the declared mime.

Storage and proxies answer errors with HTML or JSON and a 200 status more often than
one would hope; a voice note that is really an error page must be rejected with a
reason, not handed to a decoder. ``sniff(head)`` needs the first few KiB.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

#: how many leading bytes ``sniff`` looks at
SNIFF_BYTES = 4096

MEDIA = "media"  # audio or video container (OGG, WebM and MP4 carry either)
IMAGE = "image"
DOCUMENT = "document"
TEXT = "text"  # HTML, XML, JSON, plain text: error pages live here


@dataclass(frozen=True, slots=True)
class Sniffed:
    mime: str
    family: str
    #: codec or variant when the header names it: opus, vorbis, pcm, mulaw, alaw, ...
    codec: str | None = None


_WAV_FORMATS = {1: "pcm", 3: "float", 6: "alaw", 7: "mulaw", 0x11: "ima-adpcm", 0x55: "mp3"}
_ASF = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")


def _ogg(head: bytes) -> Sniffed:
    for marker, mime, codec in (
        (b"OpusHead", "audio/ogg", "opus"),
        (b"\x01vorbis", "audio/ogg", "vorbis"),
        (b"Speex   ", "audio/ogg", "speex"),
        (b"\x7fFLAC", "audio/ogg", "flac"),
        (b"\x80theora", "video/ogg", "theora"),
    ):
        if marker in head[:512]:
            return Sniffed(mime, MEDIA, codec)
    return Sniffed("audio/ogg", MEDIA)


def _wav(head: bytes) -> Sniffed:
    at = 12
    while at + 8 <= len(head):
        chunk_id, size = head[at : at + 4], struct.unpack_from("<I", head, at + 4)[0]
        if chunk_id == b"fmt " and at + 10 <= len(head):
            tag = struct.unpack_from("<H", head, at + 8)[0]
            if tag == 0xFFFE and at + 8 + 26 <= len(head):  # WAVE_FORMAT_EXTENSIBLE subformat
                tag = struct.unpack_from("<H", head, at + 8 + 24)[0]
            return Sniffed("audio/wav", MEDIA, _WAV_FORMATS.get(tag, f"format-{tag}"))
        at += 8 + size + (size & 1)
    return Sniffed("audio/wav", MEDIA)


def _mp4(head: bytes) -> Sniffed:
    brand = head[8:12]
    if brand in {b"M4A ", b"M4B ", b"M4P ", b"F4A "}:
        return Sniffed("audio/mp4", MEDIA, brand.decode("latin-1").strip().lower())
    if brand.startswith(b"3g"):
        return Sniffed("audio/3gpp", MEDIA, brand.decode("latin-1").strip())
    if brand == b"qt  ":
        return Sniffed("video/quicktime", MEDIA)
    return Sniffed("video/mp4", MEDIA, brand.decode("latin-1", "replace").strip() or None)


def _mpeg_frame(head: bytes) -> Sniffed | None:
    if len(head) < 3 or head[0] != 0xFF:
        return None
    b1, b2 = head[1], head[2]
    if b1 & 0xF6 == 0xF0:  # 12-bit sync, layer 00: AAC ADTS
        return Sniffed("audio/aac", MEDIA, "adts")
    if b1 & 0xE0 != 0xE0:
        return None
    version, layer = (b1 >> 3) & 3, (b1 >> 1) & 3
    if version == 1 or layer == 0 or (b2 >> 4) == 0xF or (b2 >> 2) & 3 == 3:
        return None
    return Sniffed("audio/mpeg", MEDIA, {1: "mp3", 2: "mp2", 3: "mp1"}[layer])


def _text(head: bytes) -> Sniffed | None:
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()[:256]
    lower = text.lower()
    if lower.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<title")):
        return Sniffed("text/html", TEXT)
    if lower.startswith(b"<?xml") or lower.startswith(b"<error"):
        return Sniffed("text/html" if b"<html" in lower else "application/xml", TEXT)
    if lower.startswith(b"<!--") and b"<html" in head.lower():
        return Sniffed("text/html", TEXT)
    if text[:1] in {b"{", b"["}:
        try:
            text.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return Sniffed("application/json", TEXT)
    return None


def sniff(head: bytes) -> Sniffed | None:
    """The real type of a file from its leading bytes; None when not recognised."""
    if head.startswith(b"OggS"):
        return _ogg(head)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        is_webm = b"webm" in head[:64]
        return Sniffed("audio/webm" if is_webm else "video/x-matroska", MEDIA)
    if head[4:8] == b"ftyp":
        return _mp4(head)
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return _wav(head)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return Sniffed("image/webp", IMAGE)
    if head.startswith(b"#!AMR-WB\n"):
        return Sniffed("audio/amr-wb", MEDIA, "amr-wb")
    if head.startswith(b"#!AMR\n"):
        return Sniffed("audio/amr", MEDIA, "amr-nb")
    if head.startswith(b"fLaC"):
        return Sniffed("audio/flac", MEDIA, "flac")
    if head.startswith(b"ID3"):
        return Sniffed("audio/mpeg", MEDIA, "id3")
    if head.startswith(b"FORM") and head[8:12] in {b"AIFF", b"AIFC"}:
        return Sniffed("audio/aiff", MEDIA)
    if head.startswith(b"caff"):
        return Sniffed("audio/x-caf", MEDIA)
    if head.startswith(_ASF):
        return Sniffed("audio/x-ms-wma", MEDIA)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image/png", IMAGE)
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image/jpeg", IMAGE)
    if head.startswith((b"GIF87a", b"GIF89a")):
        return Sniffed("image/gif", IMAGE)
    if head.startswith(b"%PDF-"):
        return Sniffed("application/pdf", DOCUMENT)
    frame = _mpeg_frame(head)
    if frame is not None:
        return frame
    return _text(head)


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


def mismatch_reason(declared_mime: str | None, sniffed: Sniffed | None) -> tuple[str, str] | None:
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
