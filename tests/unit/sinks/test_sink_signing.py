"""The HTTP sinks' signature scheme and the sink factory."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from media_bridge.config import SinkSettings
from media_bridge.sinks import (
    DirSink,
    HttpMediaSink,
    HttpTextSink,
    JsonlTextSink,
    sinks_from_settings,
)
from media_bridge.sinks.http import retry_after_seconds
from media_bridge.sinks.signing import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    signed_headers,
    verify,
)


def test_signature_verifies_and_detects_tampering() -> None:
    parts = ["a" * 64, "b" * 64]
    headers = signed_headers("s3cret", "attachment:c:m:x", parts, now=1_800_000_000)
    assert verify("s3cret", headers, parts, now=1_800_000_010)
    assert not verify("wrong", headers, parts, now=1_800_000_010)
    assert not verify("s3cret", headers, ["a" * 64, "c" * 64], now=1_800_000_010)
    assert not verify("s3cret", headers, parts[:1], now=1_800_000_010)
    assert not verify("s3cret", {**headers, IDEMPOTENCY_HEADER: "other"}, parts, now=1_800_000_010)
    assert not verify("s3cret", headers, parts, now=1_800_001_000)  # too old
    assert headers[SIGNATURE_HEADER].startswith("v1=")


@pytest.mark.parametrize(
    ("value", "expected"), [(None, 5.0), ("7", 7.0), ("1.5", 1.5), ("soon", 5.0), ("-3", 0.0)]
)
def test_retry_after(value: str | None, expected: float) -> None:
    assert retry_after_seconds(value) == expected


async def test_factory_builds_the_configured_sinks(tmp_path: Path) -> None:
    async with aiohttp.ClientSession() as session:
        default = sinks_from_settings(
            SinkSettings(dir_path=tmp_path / "out", text_path=tmp_path / "t.jsonl"), session
        )
        assert isinstance(default.media, DirSink)
        assert isinstance(default.text, JsonlTextSink)
        await default.close()
        http = sinks_from_settings(
            SinkSettings(
                media="http",
                http_url="https://engine.example/deliveries",
                http_secret="x",
                text="http",
                text_http_url="https://nlp.example/texts",
            ),
            session,
        )
        assert isinstance(http.media, HttpMediaSink)
        assert isinstance(http.text, HttpTextSink)
        # refused with the settings, before any sink is built
        with pytest.raises(ValueError, match=r"sinks\.http_secret"):
            SinkSettings(media="http", http_url="https://e.example")
        with pytest.raises(ValueError, match="must be 'dir', 'http'"):
            SinkSettings(media="ftp")
