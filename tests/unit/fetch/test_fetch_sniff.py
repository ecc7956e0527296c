import struct

import pytest

from media_bridge.fetch.sniff import mismatch_reason, sniff


def _wav(tag: int) -> bytes:
    fmt = struct.pack("<HHIIHH", tag, 1, 8000, 8000, 1, 8)
    return b"RIFF" + struct.pack("<I", 36) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt


OGG_OPUS = b"OggS\x00\x02" + b"\x00" * 22 + b"\x01\x13OpusHead\x01\x01"
OGG_VORBIS = b"OggS\x00\x02" + b"\x00" * 22 + b"\x01\x1e\x01vorbis"
CASES = [
    (OGG_OPUS, "audio/ogg", "opus"),
    (OGG_VORBIS, "audio/ogg", "vorbis"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "audio/webm", None),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x82\x88matroska", "video/x-matroska", None),
    (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "audio/mp4", "m4a"),
    (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00", "video/mp4", "isom"),
    (b"\x00\x00\x00\x18ftyp3gp4\x00\x00\x02\x00", "audio/3gpp", "3gp4"),
    (b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mpeg", "id3"),
    (b"\xff\xfb\x90\x64\x00", "audio/mpeg", "mp3"),
    (b"\xff\xf1\x50\x80\x02\x1f\xfc", "audio/aac", "adts"),
    (b"#!AMR\n\x3c", "audio/amr", "amr-nb"),
    (b"#!AMR-WB\n\x04", "audio/amr-wb", "amr-wb"),
    (_wav(1), "audio/wav", "pcm"),
    (_wav(7), "audio/wav", "mulaw"),
    (_wav(6), "audio/wav", "alaw"),
    (b"fLaC\x00\x00\x00\x22", "audio/flac", "flac"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png", None),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg", None),
    (b"GIF89a\x01\x00", "image/gif", None),
    (b"%PDF-1.7\n", "application/pdf", None),
    (b"\xef\xbb\xbf  <!DOCTYPE html><html>", "text/html", None),
    (b"<html><body>AccessDenied</body></html>", "text/html", None),
    (b'<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>', "application/xml", None),
    (b'{"message": "expired", "code": "not.found"}', "application/json", None),
]


@pytest.mark.parametrize(("head", "mime", "codec"), CASES)
def test_magic_bytes(head: bytes, mime: str, codec: str | None) -> None:
    found = sniff(head)
    assert found is not None
    assert found.mime == mime
    assert found.codec == codec


@pytest.mark.parametrize("head", [b"", b"\x00\x01\x02\x03", b"\xff\xff\xff\xff", b"hello"])
def test_unknown_bytes(head: bytes) -> None:
    assert sniff(head) is None


def test_html_delivered_as_audio_is_an_error_page() -> None:
    reason = mismatch_reason("audio/ogg; codecs=opus", sniff(b"<!doctype html><title>403"))
    assert reason is not None
    assert reason[0] == "error_page"
    assert "audio/ogg" in reason[1]
    assert "HTML" in reason[1]


def test_pdf_or_image_delivered_as_audio_is_a_mismatch() -> None:
    assert mismatch_reason("audio/mpeg", sniff(b"%PDF-1.4")) == (
        "type_mismatch",
        "declared audio/mpeg but the bytes are application/pdf",
    )
    reason = mismatch_reason("image/jpeg", sniff(OGG_OPUS))
    assert reason is not None
    assert reason[0] == "type_mismatch"


def test_json_delivered_as_audio_is_not_media() -> None:
    reason = mismatch_reason("audio/ogg", sniff(b'{"error": 1}'))
    assert reason is not None
    assert reason[0] == "not_media"


@pytest.mark.parametrize(
    ("declared", "head"),
    [
        ("audio/ogg", OGG_OPUS),
        ("video/mp4", b"\x00\x00\x00\x20ftypM4A \x00"),  # containers carry either
        ("audio/mp4", b"\x00\x00\x00\x18ftypisom\x00"),
        ("AUDIO/AMR", b"#!AMR\n"),
        ("application/octet-stream", b"<html>"),  # nothing declared to compare
        (None, b"<html>"),
        ("audio/ogg", b"\x00\x01\x02"),  # unknown bytes: the decoder decides
    ],
)
def test_compatible_types_pass(declared: str | None, head: bytes) -> None:
    assert mismatch_reason(declared, sniff(head)) is None
