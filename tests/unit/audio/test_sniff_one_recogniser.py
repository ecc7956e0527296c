"""One recogniser (``audio/sniff.py``) read two ways: the audio path's ``(kind, other)``
and the fetch path's ``Sniffed``. Expected values are what the two former copies
answered for the same bytes (recorded before they were merged)."""

from __future__ import annotations

import pytest

from media_bridge.audio.sniff import sniff as audio_view
from media_bridge.fetch.sniff import sniff as fetch_view

Audio = tuple[str | None, str | None]
Fetch = tuple[str, str, str | None] | None

CASES: list[tuple[bytes, Audio, Fetch]] = [
    (
        b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x13OpusHead",
        ("ogg", None),
        ("audio/ogg", "media", "opus"),
    ),
    (
        b"\x1aE\xdf\xa3\x9fB\x86\x81\x01B\x82\x84webm",
        ("matroska/webm", None),
        ("audio/webm", "media", None),
    ),
    (b"\x00\x00\x00 ftypM4A \x00\x00\x00\x00", ("mp4", None), ("audio/mp4", "media", "m4a")),
    (
        b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x07\x00",
        ("wav", None),
        ("audio/wav", "media", "mulaw"),
    ),
    (b"RIFF$\x00\x00\x00WEBPVP8 ", (None, "WebP image"), ("image/webp", "image", None)),
    (b"RIFF$\x00\x00\x00AVI LIST", ("avi", None), None),
    (b"RIFF$\x00\x00\x00CDXAfmt ", (None, "RIFF b'CDXA' file"), None),
    (b"#!AMR\n<", ("amr", None), ("audio/amr", "media", "amr-nb")),
    (b"#!AMR-WB\n\x04", ("amr-wb", None), ("audio/amr-wb", "media", "amr-wb")),
    (b"ID3\x04\x00\x00\x00\x00\x00\x00", ("mp3", None), ("audio/mpeg", "media", "id3")),
    (b'fLaC\x00\x00\x00"', ("flac", None), ("audio/flac", "media", "flac")),
    (b".snd\x00\x00\x00\x18", ("au", None), None),
    (b"FORM\x00\x00\x00 AIFFCOMM", ("aiff", None), ("audio/aiff", "media", None)),
    (b"caff\x00\x01", ("caf", None), ("audio/x-caf", "media", None)),
    (
        b"0&\xb2u\x8ef\xcf\x11\xa6\xd9\x00\xaa\x00b\xcel",
        (None, None),
        ("audio/x-ms-wma", "media", None),
    ),
    (b"\xff\xfb\x90d\x00", ("mp3", None), ("audio/mpeg", "media", "mp3")),
    (b"\xff\xf1P\x80\x02", ("aac", None), ("audio/aac", "media", "adts")),
    (b"\xff\xff\xff\xff", ("mp3", None), None),
    (b"\xff\xfb", ("mp3", None), None),
    (b"\x89PNG\r\n\x1a\n\x00\x00", (None, "PNG image"), ("image/png", "image", None)),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", (None, "JPEG image"), ("image/jpeg", "image", None)),
    (b"GIF89a\x01\x00", (None, "GIF image"), ("image/gif", "image", None)),
    (b"%PDF-1.7\n", (None, "PDF document"), ("application/pdf", "document", None)),
    (b"PK\x03\x04\x14\x00", (None, "ZIP archive (or Office document)"), None),
    (b"BM6\x00\x00\x00\x00\x00", (None, "BMP image"), None),
    (b"II*\x00\x08\x00", (None, "TIFF image"), None),
    (b"\x1f\x8b\x08\x00", (None, "gzip archive"), None),
    (b"Rar!\x1a\x07", (None, "RAR archive"), None),
    (b"\x7fELF\x02\x01", (None, "ELF executable"), None),
    (b"MZ\x90\x00", (None, "Windows executable"), None),
    (
        b"<html><body>AccessDenied</body></html>",
        (None, "HTML document"),
        ("text/html", "text", None),
    ),
    (b'<?xml version="1.0"?><Error/>', (None, "XML document"), ("application/xml", "text", None)),
    (b'{"message": "expired"}', (None, "JSON document"), ("application/json", "text", None)),
    (b"", (None, None), None),
    (b"hello", (None, None), None),
    (b"\x00\x01\x02\x03", (None, None), None),
]


@pytest.mark.parametrize(("head", "audio", "fetch"), CASES)
def test_both_paths_answer_as_before(head: bytes, audio: Audio, fetch: Fetch) -> None:
    assert audio_view(head) == audio
    found = fetch_view(head)
    assert (None if found is None else (found.mime, found.family, found.codec)) == fetch


@pytest.mark.parametrize(
    ("head", "audio"),
    [
        # the corners where the two copies disagreed: the audio path now reads them as the
        # fetch path did; each was and stays not_audio, only the message names more or less
        (b"FORM\x00\x00\x00\x20ILBMBMHD", (None, "IFF b'ILBM' file")),
        (b"%PDF1.4", (None, None)),
        (b"<!DOCTYPE svg>", (None, None)),
        (b"[1, 2]", (None, "JSON document")),
        (b"\xef\xbb\xbf  <!doctype html><html>", (None, "HTML document")),
    ],
)
def test_former_disagreements_follow_one_rule(head: bytes, audio: Audio) -> None:
    assert audio_view(head) == audio
