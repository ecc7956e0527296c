"""The HTTP deliveries' signature scheme (Standard Webhooks), its secrets, and the sink factory."""

from __future__ import annotations

import base64
from pathlib import Path

import aiohttp
import pytest
from standardwebhooks import Webhook

from media_bridge.audiohook.settings import ChunkSinkSettings
from media_bridge.config import SinkSettings
from media_bridge.retry import retry_after_seconds
from media_bridge.signing import (
    IDEMPOTENCY_HEADER,
    WEBHOOK_SIGNATURE,
    WEBHOOK_TIMESTAMP,
    secret_key,
    verify,
)
from media_bridge.sinks import (
    DirSink,
    HttpMediaSink,
    HttpTextSink,
    JsonlTextSink,
    sinks_from_settings,
)
from media_bridge.sinks.http import DEFAULT_RETRY_AFTER_S
from media_bridge.sinks.http_body import json_body, multipart_body, signed_headers

KEY = b"0123456789abcdef0123456789abcdef"
WHSEC = "whsec_" + base64.b64encode(KEY).decode()


def test_secrets_whsec_is_decoded_and_a_raw_secret_is_its_bytes() -> None:
    assert secret_key(WHSEC) == KEY
    assert secret_key(WHSEC.rstrip("=")) == KEY  # unpadded base64, as the libraries accept
    assert secret_key("engine-shared-secret") == b"engine-shared-secret"
    for bad in ("whsec_", "whsec_not base64!"):
        with pytest.raises(ValueError, match="whsec_"):
            secret_key(bad)


@pytest.mark.parametrize("bad", ["whsec_", "whsec_%%%"])
def test_a_malformed_whsec_secret_fails_naming_the_setting(bad: str) -> None:
    with pytest.raises(ValueError, match=r"http_secret[\s\S]*whsec_"):
        SinkSettings(media="http", http_url="https://e.example", http_secret=bad)
    with pytest.raises(ValueError, match=r"http_secret[\s\S]*whsec_"):
        ChunkSinkSettings(kind="http", http_url="https://e.example", http_secret=bad)


async def test_json_signature_verifies_with_the_stock_library_and_detects_tampering() -> None:
    body = b'{"key": "text:c:m1", "text": "ol\\u00e1"}'
    headers = await signed_headers(json_body(body), KEY, "text:c:m1")
    assert headers[IDEMPOTENCY_HEADER] == headers["webhook-id"] == "text:c:m1"
    assert headers["Content-Length"] == str(len(body))
    assert Webhook(WHSEC).verify(body, headers)["key"] == "text:c:m1"
    assert verify(KEY, headers, body)
    assert not verify(b"wrong", headers, body)
    assert not verify(KEY, headers, body + b" ")
    assert not verify(KEY, {**headers, "webhook-id": "other"}, body)
    too_old = int(headers[WEBHOOK_TIMESTAMP]) + 301
    assert not verify(KEY, headers, body, at=too_old)


async def test_multipart_signs_the_exact_body_and_the_metadata_part(tmp_path: Path) -> None:
    from media_bridge.sinks.http_body import FilePart

    audio = tmp_path / "a.wav"
    audio.write_bytes(bytes(range(256)) * 5000)
    metadata = b'{"files": []}'
    body = multipart_body(metadata, [FilePart(audio, "audio/wav", "a.wav")])
    headers = await signed_headers(body, KEY, "k1")
    whole = b"".join(body.blocks())
    assert headers["Content-Length"] == str(len(whole)) == str(body.size())
    assert len(headers[WEBHOOK_SIGNATURE].split()) == 2
    assert verify(KEY, headers, whole)
    assert verify(KEY, headers, metadata)
    assert not verify(KEY, headers, whole[:-1] + b"x")
    with pytest.raises(ValueError, match="unsafe"):
        multipart_body(metadata, [FilePart(audio, "audio/wav", 'a".wav')])


@pytest.mark.parametrize(
    ("value", "expected"), [(None, 5.0), ("7", 7.0), ("1.5", 1.5), ("soon", 5.0), ("-3", 0.0)]
)
def test_retry_after(value: str | None, expected: float) -> None:
    assert retry_after_seconds(value, DEFAULT_RETRY_AFTER_S) == expected


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
