"""The HTTP sinks against a real aiohttp receiver on a free port that verifies signatures
(with the stock ``standardwebhooks`` package, as docs/receivers.md says)."""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from media_bridge.errors import DeliveryRejected, RateLimited, Transient
from media_bridge.signing import IDEMPOTENCY_HEADER
from media_bridge.sinks.http import HttpMediaSink
from media_bridge.sinks.text import HttpTextSink
from media_bridge.types import DeliveredFile, Delivery, JobKind

pytestmark = pytest.mark.integration

SECRET = "engine-shared-secret"
Part = tuple[str | None, str | None, bytes]  # name, filename, bytes
CONV = "2f7bf00a-0fc2-4d6a-9b56-92238191433e"


@dataclass
class Receiver:
    """A biometrics/NLP engine stand-in: verifies like a real receiver would."""

    url: str = ""
    #: statuses to answer next (then 200)
    script: list[tuple[int, dict[str, str], str]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)

    async def media(self, request: web.Request) -> web.Response:
        reader = await request.multipart()
        hashes: list[str] = []
        parts: list[Part] = []
        while (part := await reader.next()) is not None:
            assert isinstance(part, aiohttp.BodyPartReader)
            digest = hashlib.sha256()
            data = b""
            while chunk := await part.read_chunk(64 * 1024):
                digest.update(chunk)
                data += chunk
            hashes.append(digest.hexdigest())
            parts.append((part.name, part.filename, data))
        return self._answer(request, hashes, parts)

    async def text(self, request: web.Request) -> web.Response:
        body = await request.read()
        return self._answer(request, [hashlib.sha256(body).hexdigest()], [("json", None, body)])

    def _answer(self, request: web.Request, hashes: list[str], parts: list[Part]) -> web.Response:
        try:  # a multipart delivery by its signed metadata part, a JSON one by its body
            Webhook(SECRET.encode()).verify(parts[0][2], dict(request.headers), json_parse=False)
        except WebhookVerificationError:
            return web.json_response({"error": "bad signature"}, status=401)
        if parts[0][0] == "metadata":
            metadata = json.loads(parts[0][2])
            declared = [f["sha256"] for f in metadata["files"]]
            assert declared == hashes[1:], "metadata lists the files' hashes in order"
        self.received.append({"headers": dict(request.headers), "parts": parts})
        if self.script:
            status, headers, text = self.script.pop(0)
            return web.Response(status=status, headers=headers, text=text)
        return web.json_response({"accepted": request.headers[IDEMPOTENCY_HEADER]})


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver()
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/media", state.media)
    app.router.add_post("/text", state.text)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    state.url = f"http://127.0.0.1:{port}"
    yield state
    await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def delivery(tmp_path: Path, size: int = 200_000) -> Delivery:
    files = []
    for role, mime, seed in (("original", "audio/ogg", b"O"), ("normalized", "audio/wav", b"W")):
        data = (seed * 997 + bytes(range(256))) * (size // 1253 + 1)
        path = tmp_path / f"{role}.tmp"
        path.write_bytes(data)
        files.append(DeliveredFile(role, path, mime, hashlib.sha256(data).hexdigest(), len(data)))
    return Delivery(
        key=f"attachment:{CONV}:msg1:media1",
        kind=JobKind.ATTACHMENT,
        conversation_id=CONV,
        metadata={"channel": "WhatsApp", "name": "../../etc/passwd.ogg"},
        files=files,
    )


async def test_media_delivery_is_signed_streamed_and_accepted(
    receiver: Receiver, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    sink = HttpMediaSink(f"{receiver.url}/media", SECRET, session)
    sent = delivery(tmp_path, size=3_000_000)
    result = await sink.deliver(sent)
    assert result["status"] == 200
    assert result["answer"] == {"accepted": sent.key}
    (got,) = receiver.received
    assert got["headers"][IDEMPOTENCY_HEADER] == sent.key
    names = [p[0] for p in got["parts"]]
    assert names == ["metadata", "file", "file"]
    metadata = json.loads(got["parts"][0][2])
    assert metadata["metadata"]["name"] == "../../etc/passwd.ogg"
    assert [p[1] for p in got["parts"][1:]] == [
        "msg1_media1.original.ogg",
        "msg1_media1.normalized.wav",
    ]
    assert got["parts"][1][2] == sent.files[0].path.read_bytes()


async def test_wrong_secret_is_a_rejection_with_the_engines_answer(
    receiver: Receiver, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    sink = HttpMediaSink(f"{receiver.url}/media", "not-the-secret", session)
    with pytest.raises(DeliveryRejected, match=r"401.*bad signature"):
        await sink.deliver(delivery(tmp_path))
    assert receiver.received == []


@pytest.mark.parametrize(
    ("status", "headers", "error"),
    [
        (503, {}, Transient),
        (500, {}, Transient),
        (408, {}, Transient),
        (429, {"Retry-After": "3"}, RateLimited),
        (400, {}, DeliveryRejected),
        (413, {}, DeliveryRejected),
        (302, {"Location": "http://elsewhere.invalid/"}, DeliveryRejected),
    ],
)
async def test_engine_answers_map_to_error_types(
    receiver: Receiver,
    session: aiohttp.ClientSession,
    tmp_path: Path,
    status: int,
    headers: dict[str, str],
    error: type[Exception],
) -> None:
    receiver.script.append((status, headers, "x" * 5000))
    sink = HttpMediaSink(f"{receiver.url}/media", SECRET, session)
    with pytest.raises(error) as caught:
        await sink.deliver(delivery(tmp_path))
    assert len(str(caught.value)) < 700  # the engine's answer is truncated
    if isinstance(caught.value, RateLimited):
        assert caught.value.retry_after == 3.0
    # the next attempt (what the ledger's retry does) succeeds
    assert (await sink.deliver(delivery(tmp_path)))["status"] == 200


async def test_connection_refused_is_transient(
    session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = HttpMediaSink(f"http://127.0.0.1:{port}/media?token=abc", SECRET, session)
    with pytest.raises(Transient) as caught:
        await sink.deliver(delivery(tmp_path))
    assert "abc" not in str(caught.value)


async def test_text_records_are_signed_json(
    receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    sink = HttpTextSink(f"{receiver.url}/text", SECRET, session)
    result = await sink.deliver_text("text:c:m1", {"text": "olá", "conversation_id": "c"})
    assert result["status"] == 200
    (got,) = receiver.received
    assert json.loads(got["parts"][0][2]) == {
        "text": "olá",
        "conversation_id": "c",
        "key": "text:c:m1",
    }
    receiver.script.append((422, {}, '{"error": "no language"}'))
    with pytest.raises(DeliveryRejected, match="422"):
        await sink.deliver_text("text:c:m2", {"text": "?"})
