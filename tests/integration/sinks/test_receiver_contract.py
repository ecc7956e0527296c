"""docs/receivers.md's example receiver (``examples/receiver.py``, the stock
``standardwebhooks`` package) against the real sinks, on real sockets: every kind of HTTP
delivery verifies, a tampered body and an old timestamp are refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
from aiohttp import web
from examples.receiver import Receiver
from structlog.testing import capture_logs

from media_bridge import signing
from media_bridge.audiohook.delivery import write_wav
from media_bridge.audiohook.settings import ChunkSinkSettings
from media_bridge.audiohook.sinks import HttpChunkSink, build_sink
from media_bridge.config import Settings, SinkSettings
from media_bridge.erasure import Subject, forget
from media_bridge.erasure.http_part import post_erasure
from media_bridge.errors import DeliveryRejected, ErasureRecordNotSent, StartupError
from media_bridge.identity import SpeakerDescriber
from media_bridge.sinks import sinks_from_settings
from media_bridge.sinks.http import HttpMediaSink
from media_bridge.sinks.text import HttpTextSink
from media_bridge.types import DeliveredFile, Delivery, JobKind

pytestmark = pytest.mark.integration

WHSEC = "whsec_" + base64.b64encode(b"a 32 byte key for the test suite").decode()
RAW = "engine-shared-secret"  # an earlier release's secret: its UTF-8 bytes are the key
CONV = "2f7bf00a-0fc2-4d6a-9b56-92238191433e"
KINDS = ["media", "text", "audiohook", "erasure"]
LEGACY = ("X-Bridge-Signature", "X-Bridge-Timestamp", "X-Bridge-Metadata-Signature")


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@dataclass
class Relay:
    """Between a sink and the receiver: keeps each request's exact bytes and headers, and
    flips one body byte when told to (a tampering proxy)."""

    target: str = ""
    tamper: bool = False
    seen: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = dict(request.headers)
        self.seen.append((headers, body))
        if self.tamper:
            at = len(body) - 50 if request.content_type.startswith("multipart/") else len(body) // 2
            body = body[:at] + bytes([body[at] ^ 1]) + body[at + 1 :]
        skip = {"host", "content-length", "transfer-encoding"}
        forward = {k: v for k, v in headers.items() if k.lower() not in skip}
        async with (
            aiohttp.ClientSession() as client,
            client.post(
                self.target + request.path, data=io.BytesIO(body), headers=forward
            ) as answer,
        ):
            return web.Response(
                status=answer.status, body=await answer.read(), content_type=answer.content_type
            )


@dataclass
class World:
    receiver: Receiver
    relay: Relay
    receiver_url: str
    relay_url: str
    session: aiohttp.ClientSession
    tmp_path: Path


@pytest.fixture(params=[WHSEC, RAW], ids=["whsec", "raw-secret"])
def secret(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def world(tmp_path: Path, secret: str) -> AsyncIterator[World]:
    receiver = Receiver(secret, tmp_path / "received")
    relay = Relay()
    receiver_runner, receiver_url = await serve(receiver.app())
    relay.target = receiver_url
    relay_app = web.Application(client_max_size=1024**3)
    relay_app.router.add_post("/{kind:.*}", relay.handle)
    relay_runner, relay_url = await serve(relay_app)
    async with aiohttp.ClientSession() as session:
        yield World(receiver, relay, receiver_url, relay_url, session, tmp_path)
    await relay_runner.cleanup()
    await receiver_runner.cleanup()


def media_delivery(tmp_path: Path) -> Delivery:
    files = []
    for role, mime, seed in (("original", "audio/ogg", b"O"), ("normalized", "audio/wav", b"W")):
        data = (seed * 997 + bytes(range(256))) * 1500  # not UTF-8, ~1.9 MB
        path = tmp_path / f"{role}.tmp"
        path.write_bytes(data)
        files.append(DeliveredFile(role, path, mime, hashlib.sha256(data).hexdigest(), len(data)))
    return Delivery(
        key=f"attachment:{CONV}:msg1:media1",
        kind=JobKind.ATTACHMENT,
        conversation_id=CONV,
        metadata={"channel": "WhatsApp", "name": "voice note.ogg"},
        files=files,
    )


AUDIOHOOK_META = {
    "key": "audiohook:sess-1:external:3",
    "kind": "chunk",
    "sessionId": "sess-1",
    "channel": "external",
    "index": 3,
}

Deliver = Callable[[World, str, str], Awaitable[str]]


async def deliver_media(world: World, url: str, secret: str) -> str:
    sent = media_delivery(world.tmp_path)
    await HttpMediaSink(f"{url}/media", secret, world.session).deliver(sent)
    return sent.key


async def deliver_text(world: World, url: str, secret: str) -> str:
    sink = HttpTextSink(f"{url}/text", secret, world.session)
    await sink.deliver_text("text:c:m1", {"text": "olá", "conversation_id": "c"})
    return "text:c:m1"


async def deliver_audiohook(world: World, url: str, secret: str) -> str:
    wav = world.tmp_path / "chunk.wav"
    write_wav(wav, (np.arange(16000, dtype=np.int16) * 7), 16000)
    sink = HttpChunkSink(f"{url}/audiohook", secret, retries=0)
    try:
        await sink.deliver_chunk(dict(AUDIOHOOK_META), wav)
    finally:
        await sink.close()
    return str(AUDIOHOOK_META["key"])


async def deliver_erasure(world: World, url: str, secret: str) -> str:
    settings = SinkSettings(media="http", http_url=f"{url}/erasure", http_secret=secret)
    record = {"kind": "erasure", "key": "erasure:r1", "conversations": [CONV]}
    await post_erasure(world.session, settings, "erasure:r1", record)
    return "erasure:r1"


DELIVER: dict[str, Deliver] = {
    "media": deliver_media,
    "text": deliver_text,
    "audiohook": deliver_audiohook,
    "erasure": deliver_erasure,
}


def spec_signature(secret: str, headers: dict[str, str], body: bytes) -> str:
    """The Standard Webhooks signature of the exact body, computed here from the spec."""
    key = signing.secret_key(secret)
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


@pytest.mark.parametrize("kind", KINDS)
async def test_every_delivery_verifies_with_the_example_receiver(
    world: World, secret: str, kind: str
) -> None:
    key = await DELIVER[kind](world, world.relay_url, secret)
    ((headers, body),) = world.relay.seen
    assert headers["webhook-id"] == headers["Idempotency-Key"] == key
    assert spec_signature(secret, headers, body) in headers["webhook-signature"].split()
    assert not any(h in headers for h in LEGACY)
    assert headers["Content-Length"] == str(len(body))
    assert "Transfer-Encoding" not in headers
    got = world.receiver.received[key]
    if kind in ("media", "audiohook"):
        assert headers["Content-Type"].startswith("multipart/form-data; boundary=")
        assert len(got.files) == len(got.document["files"]) == (2 if kind == "media" else 1)
        if kind == "media":
            originals = [f.path.read_bytes() for f in media_delivery(world.tmp_path).files]
            assert [p.read_bytes() for p in got.files] == originals
        else:
            assert got.files[0].read_bytes() == (world.tmp_path / "chunk.wav").read_bytes()
            assert got.document["sessionId"] == "sess-1"
    else:
        assert headers["Content-Type"] == "application/json"
        assert got.document["key"] == key
    # a retry (same webhook-id, a new timestamp) is taken once: answered, not processed
    await DELIVER[kind](world, world.receiver_url, secret)
    assert list(world.receiver.received) == [key]
    assert world.receiver.refused == 0


async def _refused(world: World, kind: str, url: str, secret: str) -> None:
    with pytest.raises((DeliveryRejected, RuntimeError), match="401"):
        await DELIVER[kind](world, url, secret)
    assert world.receiver.received == {}
    assert world.receiver.refused == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_a_tampered_body_is_refused(world: World, secret: str, kind: str) -> None:
    world.relay.tamper = True
    await _refused(world, kind, world.relay_url, secret)


@pytest.mark.parametrize("kind", KINDS)
async def test_an_old_timestamp_is_refused(
    world: World, secret: str, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(signing, "now", lambda: time.time() - signing.TOLERANCE_S - 60)
    await _refused(world, kind, world.receiver_url, secret)


def legacy_v1(secret: str, headers: dict[str, str], part_hashes: list[str]) -> str:
    signed = ".".join([headers["X-Bridge-Timestamp"], headers["Idempotency-Key"], *part_hashes])
    key = secret.encode()
    return "v1=" + hmac.new(key, signed.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("secret", [RAW], ids=["raw-secret"])
async def test_legacy_headers_only_with_the_setting_and_a_warning(
    world: World, secret: str
) -> None:
    url = world.relay_url
    settings: dict[str, Any] = {
        "media": "http",
        "http_url": f"{url}/media",
        "http_secret": secret,
        "text": "http",
        "text_http_url": f"{url}/text",
    }
    with capture_logs() as logs:
        sinks_from_settings(SinkSettings(**settings), world.session)
    assert not [e for e in logs if e["event"] == "signing.legacy_headers"]
    with capture_logs() as logs:
        legacy = sinks_from_settings(
            SinkSettings(**settings, legacy_signature_headers=True), world.session
        )
        build_sink(
            ChunkSinkSettings(
                kind="http", http_url=url, http_secret=secret, legacy_signature_headers=True
            )
        )
    warned = [e for e in logs if e["event"] == "signing.legacy_headers"]
    assert [(e["log_level"], e["setting"]) for e in warned] == [
        ("warning", "sinks.legacy_signature_headers"),
        ("warning", "audiohook.sink.legacy_signature_headers"),
    ]
    sent = media_delivery(world.tmp_path)
    await legacy.media.deliver(sent)
    await legacy.text.deliver_text("text:c:m1", {"text": "olá"})
    await post_erasure(
        world.session,
        SinkSettings(**settings, legacy_signature_headers=True),
        "erasure:r1",
        {"kind": "erasure"},
    )
    # the receiver of this release still verifies them; the old headers verify the old way
    assert set(world.receiver.received) == {sent.key, "text:c:m1", "erasure:r1"}
    (media_h, media_b), (text_h, text_b), (erasure_h, erasure_b) = world.relay.seen
    metadata = media_b.split(b"\r\n\r\n", 1)[1].split(b"\r\n--", 1)[0]
    hashes = [hashlib.sha256(metadata).hexdigest()] + [f.sha256 for f in sent.files]
    assert media_h["X-Bridge-Signature"] == legacy_v1(secret, media_h, hashes)
    for headers, body in ((text_h, text_b), (erasure_h, erasure_b)):
        expected = legacy_v1(secret, headers, [hashlib.sha256(body).hexdigest()])
        assert headers["X-Bridge-Signature"] == expected


def test_the_docs_point_at_the_receiver_this_test_runs() -> None:
    import examples.receiver

    root = Path(__file__).resolve().parents[3]
    docs = (root / "docs" / "receivers.md").read_text(encoding="utf-8")
    assert Path(examples.receiver.__file__).resolve() == root / "examples" / "receiver.py"
    assert "(../examples/receiver.py)" in docs
    assert "(docs/receivers.md)" in (root / "README.md").read_text(encoding="utf-8")


def erasure_settings(tmp_path: Path, media_url: str, nlp_url: str) -> Settings:
    """``forget`` with the HTTP media sink and the HTTP text sink at these receivers."""
    return Settings(
        ledger={"url": f"sqlite:///{tmp_path}/ledger.db"},
        sinks={
            "media": "http",
            "http_url": f"{media_url}/erasures",
            "http_secret": WHSEC,
            "text": "http",
            "text_http_url": f"{nlp_url}/texts",
        },
    )


async def test_forget_sends_both_erasure_records_the_example_receiver_verifies(
    tmp_path: Path,
) -> None:
    """``media-bridge forget`` itself: the media sink's erasure POST and the text record."""
    engines = [Receiver(WHSEC, tmp_path / name) for name in ("media", "nlp")]
    served = [await serve(engine.app()) for engine in engines]
    (_, media_url), (_, nlp_url) = served
    settings = erasure_settings(tmp_path, media_url, nlp_url)
    subject = Subject.of(SpeakerDescriber(settings.identity), conversation=CONV)
    try:
        report = await forget(settings, subject)
    finally:
        for runner, _ in served:
            await runner.cleanup()
    assert sorted(report.records_sent) == ["media:http", "nlp:http-text"]
    for engine in engines:
        (got,) = engine.received.values()
        assert got.id == subject.record_key
        assert got.document["kind"] == "erasure"
        assert got.document["conversations"] == [CONV]


async def test_forget_says_in_one_line_which_erasure_record_was_not_sent(
    tmp_path: Path,
) -> None:
    """A receiver that refuses the erasure record (500 here) used to end ``forget`` with a
    traceback; now the operator learns what was removed, what was sent, and to run it again."""

    async def refuse(_: web.Request) -> web.Response:
        return web.Response(status=500, text="down for maintenance")

    app = web.Application()
    app.router.add_post("/erasures", refuse)
    nlp = Receiver(WHSEC, tmp_path / "nlp")
    (media_runner, media_url), (nlp_runner, nlp_url) = [
        await serve(app),
        await serve(nlp.app()),
    ]
    settings = erasure_settings(tmp_path, media_url, nlp_url)
    subject = Subject.of(SpeakerDescriber(settings.identity), conversation=CONV)
    try:
        with pytest.raises(ErasureRecordNotSent) as refused:
            await forget(settings, subject)
    finally:
        await media_runner.cleanup()
        await nlp_runner.cleanup()
    message = str(refused.value)
    assert f"conversation={CONV}" in message
    assert "reached nlp:http-text" in message
    assert "500" in message
    assert "run the same forget again" in message
    assert isinstance(refused.value, StartupError)  # the CLI prints it as one line
