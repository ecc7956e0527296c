"""The HTTP chunk sink: signed POSTs a biometrics engine can verify."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from media_bridge.audiohook.delivery import write_wav
from media_bridge.audiohook.sinks import HttpChunkSink

pytestmark = pytest.mark.integration


async def test_http_sink_posts_signed_wav_and_retries_5xx(tmp_path: Path) -> None:
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
    sink = HttpChunkSink(f"http://127.0.0.1:{port}/voice", "s3cret", retries=2)
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
