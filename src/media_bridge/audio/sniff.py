"""Recognise a file by its first bytes, before any decoder sees it.

A name or a declared MIME type says nothing: an image named ``voice.ogg`` must fail
as ``not_audio``, and garbage after an ``OggS`` magic must fail as ``corrupt_audio``.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

#: (offset, magic, kind): known containers that can carry audio
_AUDIO_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"OggS", "ogg"),
    (0, b"#!AMR-WB\n", "amr-wb"),
    (0, b"#!AMR\n", "amr"),
    (0, b"ID3", "mp3"),
    (0, b"fLaC", "flac"),
    (0, b"\x1a\x45\xdf\xa3", "matroska/webm"),
    (0, b".snd", "au"),
    (0, b"FORM", "aiff"),
    (0, b"caff", "caf"),
    (4, b"ftyp", "mp4"),
)

#: (offset, magic, kind): well-known formats that are never audio
_OTHER_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "PNG image"),
    (0, b"\xff\xd8\xff", "JPEG image"),
    (0, b"GIF87a", "GIF image"),
    (0, b"GIF89a", "GIF image"),
    (0, b"%PDF", "PDF document"),
    (0, b"PK\x03\x04", "ZIP archive (or Office document)"),
    (0, b"BM", "BMP image"),
    (0, b"II*\x00", "TIFF image"),
    (0, b"MM\x00*", "TIFF image"),
    (0, b"\x1f\x8b", "gzip archive"),
    (0, b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (0, b"Rar!", "RAR archive"),
    (0, b"\x7fELF", "ELF executable"),
    (0, b"MZ", "Windows executable"),
    (0, b"<?xml", "XML document"),
    (0, b"<!DOCTYPE", "HTML document"),
    (0, b"<html", "HTML document"),
    (0, b"{", "JSON document"),
)


def sniff(head: bytes) -> tuple[str | None, str | None]:
    """Return ``(audio_kind, other_kind)``: at most one is set; both None = unknown."""
    if head[:4] == b"RIFF" and len(head) >= 12:
        form = head[8:12]
        if form == b"WAVE":
            return "wav", None
        if form == b"WEBP":
            return None, "WebP image"
        if form == b"AVI ":
            return "avi", None
        return None, f"RIFF {form!r} file"
    for offset, magic, kind in _AUDIO_MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return kind, None
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        # MPEG audio frame sync (mp3 without ID3) or ADTS (raw AAC)
        return ("aac" if (head[1] & 0xF6) == 0xF0 else "mp3"), None
    for offset, magic, kind in _OTHER_MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return None, kind
    return None, None


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
