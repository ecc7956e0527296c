"""The HTTP chunk sink: signed POSTs a biometrics engine can verify (Standard Webhooks;
the request of earlier releases only with ``legacy_headers``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from standardwebhooks import Webhook

from media_bridge.audiohook.delivery import write_wav
from media_bridge.audiohook.sinks import HttpChunkSink

pytestmark = pytest.mark.integration


async def receive(
    tmp_path: Path, answers: list[tuple[int, dict[str, str]]], **sink_options: Any
) -> tuple[dict[str, Any], list[dict[str, Any]], Path, int]:
    """One chunk through a real receiver answering ``answers`` first (then 201)."""
    import numpy as np

    received: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.Response:
        body = await request.read()
        received.append({"headers": dict(request.headers), "body": body, "at": time.monotonic()})
        if len(received) <= len(answers):
            status, headers = answers[len(received) - 1]
            return web.Response(status=status, headers=headers)
        return web.Response(status=201)

    app = web.Application()
    app.router.add_post("/voice", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    wav = tmp_path / "c.wav"
    write_wav(wav, np.arange(1600, dtype=np.int16), 16000)
    sink = HttpChunkSink(f"http://127.0.0.1:{port}/voice", "s3cret", retries=2, **sink_options)
    meta = {"kind": "chunk", "sessionId": "abc", "channel": "external", "index": 3}
    try:
        result = await sink.deliver_chunk(meta, wav)
    finally:
        await sink.close()
        await runner.cleanup()
    return result, received, wav, port


async def test_http_sink_posts_a_standard_webhooks_multipart_and_honours_retry_after(
    tmp_path: Path,
) -> None:
    result, received, wav, _ = await receive(tmp_path, [(429, {"Retry-After": "1"})])
    assert result == {"status": 201}
    assert len(received) == 2
    assert received[1]["at"] - received[0]["at"] >= 0.9  # Retry-After, not the 0.5 s backoff
    headers, body = received[1]["headers"], received[1]["body"]
    assert not any(h.startswith("X-Bridge") for h in headers)
    assert headers["webhook-id"] == headers["Idempotency-Key"] == "abc-external-chunk-00003"
    assert int(headers["webhook-timestamp"]) >= int(received[0]["headers"]["webhook-timestamp"])
    metadata = body.split(b"\r\n\r\n", 1)[1].split(b"\r\n--", 1)[0]
    document = Webhook(b"s3cret").verify(metadata, headers)
    assert document["sessionId"] == "abc"
    (listed,) = document["files"]
    assert listed == {
        "role": "external",
        "filename": "abc-external-chunk-00003.wav",
        "mime": "audio/wav",
        "sha256": hashlib.sha256(wav.read_bytes()).hexdigest(),
        "size": wav.stat().st_size,
    }
    assert wav.read_bytes() in body


async def test_http_sink_refuses_a_redirect_without_following_it(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="HTTP 307"):
        await receive(tmp_path, [(307, {"Location": "http://127.0.0.1:9/elsewhere"})])


async def test_legacy_http_sink_posts_signed_wav_and_retries_5xx(tmp_path: Path) -> None:
    import numpy as np

    received: list[dict[str, Any]] = []
    calls = {"n": 0}

    async def handler(request: web.Request) -> web.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return web.Response(status=503)
        body = await request.read()
        received.append({"headers": dict(request.headers), "body": body})
        return web.Response(status=201)

    app = web.Application()
    app.router.add_post("/voice", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    wav = tmp_path / "c.wav"
    write_wav(wav, np.arange(1600, dtype=np.int16), 16000)
    sink = HttpChunkSink(f"http://127.0.0.1:{port}/voice", "s3cret", retries=2, legacy_headers=True)
    meta = {"kind": "chunk", "sessionId": "abc", "channel": "external", "index": 3}
    try:
        result = await sink.deliver_chunk(meta, wav)
    finally:
        await sink.close()
        await runner.cleanup()
    assert result == {"status": 201}
    assert calls["n"] == 2
    got = received[0]
    assert got["body"] == wav.read_bytes()
    expected = hmac.new(b"s3cret", got["body"], hashlib.sha256).hexdigest()
    assert got["headers"]["X-Bridge-Signature"] == f"sha256={expected}"
    meta_header = got["headers"]["X-Bridge-Metadata"]
    assert json.loads(base64.urlsafe_b64decode(meta_header)) == meta
    meta_mac = hmac.new(b"s3cret", meta_header.encode(), hashlib.sha256).hexdigest()
    assert got["headers"]["X-Bridge-Metadata-Signature"] == f"sha256={meta_mac}"
    assert got["headers"]["Idempotency-Key"] == "abc-external-chunk-00003"
    # and the Standard Webhooks headers over the same (WAV) body
    h = got["headers"]
    signed = f"{h['webhook-id']}.{h['webhook-timestamp']}.".encode() + got["body"]
    mac = base64.b64encode(hmac.new(b"s3cret", signed, hashlib.sha256).digest()).decode()
    assert h["webhook-signature"] == f"v1,{mac}"
