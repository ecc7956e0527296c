"""Recognise a file by its first bytes: the one recogniser of the bridge.

A name or a declared MIME type says nothing: an image named ``voice.ogg`` must fail
as ``not_audio``, and garbage after an ``OggS`` magic must fail as ``corrupt_audio``.
``identify`` names what a file is; the audio path reads it through ``sniff`` (which
container, else what else), the fetch path through ``fetch/sniff.py`` (does it fit the
declared mime). Family ``OTHER`` holds what only the audio path names (archives,
executables, a bare MPEG frame sync): the fetch path neither reports nor judges it.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

MEDIA = "media"  # audio or video container (OGG, WebM and MP4 carry either)
IMAGE = "image"
DOCUMENT = "document"
TEXT = "text"  # HTML, XML, JSON, plain text: error pages live here
OTHER = "other"  # named for the audio path's message only (see the module docstring)

_OCTETS = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Sniffed:
    mime: str
    family: str
    #: codec or variant when the header names it: opus, vorbis, pcm, mulaw, alaw, ...
    codec: str | None = None
    #: the audio path's container name (``audio/decode.py``'s demuxer table key)
    kind: str | None = None
    #: what a file that is not audio is, for the audio path's ``not_audio`` message
    label: str | None = None


_WAV_FORMATS = {1: "pcm", 3: "float", 6: "alaw", 7: "mulaw", 0x11: "ima-adpcm", 0x55: "mp3"}
_ASF = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")

#: magic -> what it is, checked in order after the containers
_PREFIXES: tuple[tuple[bytes, Sniffed], ...] = (
    (b"#!AMR-WB\n", Sniffed("audio/amr-wb", MEDIA, "amr-wb", kind="amr-wb")),
    (b"#!AMR\n", Sniffed("audio/amr", MEDIA, "amr-nb", kind="amr")),
    (b"fLaC", Sniffed("audio/flac", MEDIA, "flac", kind="flac")),
    (b"ID3", Sniffed("audio/mpeg", MEDIA, "id3", kind="mp3")),
    (b"caff", Sniffed("audio/x-caf", MEDIA, kind="caf")),
    (_ASF, Sniffed("audio/x-ms-wma", MEDIA)),
    (b"\x89PNG\r\n\x1a\n", Sniffed("image/png", IMAGE, label="PNG image")),
    (b"\xff\xd8\xff", Sniffed("image/jpeg", IMAGE, label="JPEG image")),
    (b"GIF87a", Sniffed("image/gif", IMAGE, label="GIF image")),
    (b"GIF89a", Sniffed("image/gif", IMAGE, label="GIF image")),
    (b"%PDF-", Sniffed("application/pdf", DOCUMENT, label="PDF document")),
    (b".snd", Sniffed("audio/basic", OTHER, kind="au")),
    (b"PK\x03\x04", Sniffed(_OCTETS, OTHER, label="ZIP archive (or Office document)")),
    (b"BM", Sniffed(_OCTETS, OTHER, label="BMP image")),
    (b"II*\x00", Sniffed(_OCTETS, OTHER, label="TIFF image")),
    (b"MM\x00*", Sniffed(_OCTETS, OTHER, label="TIFF image")),
    (b"\x1f\x8b", Sniffed(_OCTETS, OTHER, label="gzip archive")),
    (b"7z\xbc\xaf\x27\x1c", Sniffed(_OCTETS, OTHER, label="7z archive")),
    (b"Rar!", Sniffed(_OCTETS, OTHER, label="RAR archive")),
    (b"\x7fELF", Sniffed(_OCTETS, OTHER, label="ELF executable")),
    (b"MZ", Sniffed(_OCTETS, OTHER, label="Windows executable")),
)


def _ogg(head: bytes) -> Sniffed:
    for marker, mime, codec in (
        (b"OpusHead", "audio/ogg", "opus"),
        (b"\x01vorbis", "audio/ogg", "vorbis"),
        (b"Speex   ", "audio/ogg", "speex"),
        (b"\x7fFLAC", "audio/ogg", "flac"),
        (b"\x80theora", "video/ogg", "theora"),
    ):
        if marker in head[:512]:
            return Sniffed(mime, MEDIA, codec, kind="ogg")
    return Sniffed("audio/ogg", MEDIA, kind="ogg")


def _riff(head: bytes) -> Sniffed:
    form = head[8:12]
    if form == b"WAVE":
        at = 12
        while at + 8 <= len(head):
            chunk_id, size = head[at : at + 4], struct.unpack_from("<I", head, at + 4)[0]
            if chunk_id == b"fmt " and at + 10 <= len(head):
                tag = struct.unpack_from("<H", head, at + 8)[0]
                if tag == 0xFFFE and at + 8 + 26 <= len(head):  # WAVE_FORMAT_EXTENSIBLE
                    tag = struct.unpack_from("<H", head, at + 8 + 24)[0]
                codec = _WAV_FORMATS.get(tag, f"format-{tag}")
                return Sniffed("audio/wav", MEDIA, codec, kind="wav")
            at += 8 + size + (size & 1)
        return Sniffed("audio/wav", MEDIA, kind="wav")
    if form == b"WEBP":
        return Sniffed("image/webp", IMAGE, label="WebP image")
    if form == b"AVI ":
        return Sniffed("video/x-msvideo", OTHER, kind="avi")
    return Sniffed(_OCTETS, OTHER, label=f"RIFF {form!r} file")


def _mp4(head: bytes) -> Sniffed:
    brand = head[8:12]
    if brand in {b"M4A ", b"M4B ", b"M4P ", b"F4A "}:
        return Sniffed("audio/mp4", MEDIA, brand.decode("latin-1").strip().lower(), kind="mp4")
    if brand.startswith(b"3g"):
        return Sniffed("audio/3gpp", MEDIA, brand.decode("latin-1").strip(), kind="mp4")
    if brand == b"qt  ":
        return Sniffed("video/quicktime", MEDIA, kind="mp4")
    codec = brand.decode("latin-1", "replace").strip() or None
    return Sniffed("video/mp4", MEDIA, codec, kind="mp4")


def _form(head: bytes) -> Sniffed:
    if head[8:12] in {b"AIFF", b"AIFC"}:
        return Sniffed("audio/aiff", MEDIA, kind="aiff")
    return Sniffed(_OCTETS, OTHER, label=f"IFF {head[8:12]!r} file")


def _mpeg_frame(head: bytes) -> Sniffed | None:
    """An MPEG audio or ADTS frame header. A frame sync whose header uses reserved values
    is ``OTHER``: the audio path still hands it to the demuxer (``corrupt_audio``)."""
    if len(head) < 2 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    b1 = head[1]
    adts = b1 & 0xF6 == 0xF0  # 12-bit sync, layer 00: AAC ADTS
    if len(head) >= 3:
        if adts:
            return Sniffed("audio/aac", MEDIA, "adts", kind="aac")
        b2 = head[2]
        version, layer = (b1 >> 3) & 3, (b1 >> 1) & 3
        if not (version == 1 or layer == 0 or (b2 >> 4) == 0xF or (b2 >> 2) & 3 == 3):
            return Sniffed("audio/mpeg", MEDIA, {1: "mp3", 2: "mp2", 3: "mp1"}[layer], kind="mp3")
    return Sniffed(_OCTETS, OTHER, kind="aac" if adts else "mp3")


def _text(head: bytes) -> Sniffed | None:
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()[:256]
    lower = text.lower()
    html = Sniffed("text/html", TEXT, label="HTML document")
    if lower.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<title")):
        return html
    if lower.startswith(b"<?xml") or lower.startswith(b"<error"):
        return html if b"<html" in lower else Sniffed("application/xml", TEXT, label="XML document")
    if lower.startswith(b"<!--") and b"<html" in head.lower():
        return html
    if text[:1] in {b"{", b"["}:
        try:
            text.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return Sniffed("application/json", TEXT, label="JSON document")
    return None


def identify(head: bytes) -> Sniffed | None:
    """What a file is from its leading bytes; None when not recognised."""
    if head.startswith(b"OggS"):
        return _ogg(head)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        is_webm = b"webm" in head[:64]
        return Sniffed("audio/webm" if is_webm else "video/x-matroska", MEDIA, kind="matroska/webm")
    if head[4:8] == b"ftyp":
        return _mp4(head)
    if head.startswith(b"RIFF") and len(head) >= 12:
        return _riff(head)
    if head.startswith(b"FORM"):
        return _form(head)
    for magic, found in _PREFIXES:
        if head.startswith(magic):
            return found
    frame = _mpeg_frame(head)
    if frame is not None:
        return frame
    return _text(head)


def sniff(head: bytes) -> tuple[str | None, str | None]:
    """Return ``(audio_kind, other_kind)``: at most one is set; both None = unknown."""
    found = identify(head)
    if found is None:
        return None, None
    if found.kind is not None:
        return found.kind, None
    return None, found.label


def ogg_ends_mid_page(path: Path, tail_bytes: int = 128 * 1024) -> bool:
    """True when an Ogg file's last page is cut short: the file was truncated.

    A complete Ogg stream always ends on a page boundary; FFmpeg silently drops a
    partial last page, so the decoder alone cannot tell.
    """
    size = path.stat().st_size
    start = max(0, size - tail_bytes)
    with path.open("rb") as handle:
        handle.seek(start)
        tail = handle.read()
    pos = tail.rfind(b"OggS")
    while pos >= 0:
        if pos + 27 <= len(tail) and tail[pos + 4] == 0:  # stream structure version 0
            segments = tail[pos + 26]
            table_end = pos + 27 + segments
            if table_end > len(tail):
                return True
            body = sum(tail[pos + 27 : table_end])
            return table_end + body > len(tail)
        pos = tail.rfind(b"OggS", 0, pos)
    return False


def wav_data_shortfall(path: Path) -> int:
    """How many bytes a WAV ``data`` chunk announces beyond the end of the file."""
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    pos = 12
    while pos + 8 <= len(head):
        chunk_id = head[pos : pos + 4]
        (size,) = struct.unpack("<I", head[pos + 4 : pos + 8])
        if chunk_id == b"data":
            # streaming writers leave 0 or 0xFFFFFFFF when the length was unknown
            if size in (0, 0xFFFFFFFF):
                return 0
            present = os.path.getsize(path) - (pos + 8)
            return max(0, int(size) - present)
        pos += 8 + size + (size & 1)
    return 0


def mp4_box_overruns(path: Path, max_boxes: int = 4096) -> bool:
    """True when an MP4/M4A top-level box claims more bytes than the file holds (cut short)."""
    size = path.stat().st_size
    offset = 0
    with path.open("rb") as handle:
        for _ in range(max_boxes):
            if offset + 8 > size:
                return offset != size
            handle.seek(offset)
            header = handle.read(16)
            (box_size,) = struct.unpack(">I", header[:4])
            if box_size == 1 and len(header) == 16:
                (box_size,) = struct.unpack(">Q", header[8:16])
            elif box_size == 0:  # extends to the end of the file
                return False
            if box_size < 8:
                return False  # not a box structure we understand: let the decoder judge
            offset += box_size
            if offset > size:
                return True
    return False
