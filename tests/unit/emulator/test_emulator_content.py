"""Media generation, scenario determinism, events envelope and sinks, without servers."""

from __future__ import annotations

import hashlib
import io
import json
import time
from pathlib import Path
from typing import cast

import av
import pytest
from av.container import InputContainer

from genesys_emulator import media
from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.emulator import Emulator
from genesys_emulator.event_sinks import open_sink, register_sink
from genesys_emulator.events import build_scenario_events
from genesys_emulator.signing import sign_path, verify


@pytest.mark.parametrize("kind", sorted(media.AUDIO_KINDS))
def test_each_audio_kind_decodes_and_copies_differ(kind: str) -> None:
    factory = media.AudioFactory(variants=2, seconds=2.0)
    audio_kind = media.AUDIO_KINDS[kind]
    first, second = factory.unique(audio_kind, 0, "a"), factory.unique(audio_kind, 0, "b")
    assert hashlib.sha256(first).digest() != hashlib.sha256(second).digest()
    for data in (first, second):
        with cast(InputContainer, av.open(io.BytesIO(data))) as container:
            samples = sum(f.samples for f in container.decode(audio=0))
        assert samples >= 1.9 * audio_kind.sample_rate


def test_speech_signal_has_pauses_and_voice() -> None:
    signal = media.speech_signal(5, 4.0, 16000)
    frames = signal[: len(signal) // 320 * 320].reshape(-1, 320)
    rms = (frames**2).mean(axis=1) ** 0.5
    assert (rms > 0.05).mean() > 0.3  # speech
    assert (rms < 0.01).mean() > 0.1  # pauses


def test_images_and_pdf_are_real_files() -> None:
    assert media.image_bytes(1, "png").startswith(b"\x89PNG\r\n\x1a\n")
    assert media.image_bytes(1, "jpeg").startswith(b"\xff\xd8")
    pdf = media.pdf_bytes("hello")
    assert pdf.startswith(b"%PDF-1.4")
    assert pdf.rstrip().endswith(b"%%EOF")


def test_scenario_is_deterministic_by_seed() -> None:
    def ids(seed: int) -> list[str]:
        emulator = Emulator(EmulatorConfig(scenario=ScenarioConfig(seed=seed)))
        try:
            return [m.id for c in emulator.state.conversations.values() for m in c.messages]
        finally:
            emulator.state.close()

    assert ids(3) == ids(3)
    assert ids(3) != ids(4)
    assert all(len(i) == 32 for i in ids(3))


def test_thousand_voice_notes_generate_in_seconds() -> None:
    emulator = Emulator(
        EmulatorConfig(scenario=ScenarioConfig(messaging_conversations=0, voice_conversations=0))
    )
    try:
        started = time.monotonic()
        emulator.builder.voice_note_load(1000)
        hashes = {
            emulator.state.attachment_object(a).sha256 for _, _, a in emulator.state.attachments()
        }
        elapsed = time.monotonic() - started
    finally:
        emulator.state.close()
    assert len(hashes) == 1000
    assert elapsed < 20  # typically 2-4 s on one core


def test_events_envelope_and_paths() -> None:
    config = EmulatorConfig(
        scenario=ScenarioConfig(messaging_conversations=2, voice_conversations=1)
    )
    events = build_scenario_events(config, path="both")
    for event in events:
        assert set(event) == {
            "version",
            "id",
            "detail-type",
            "source",
            "account",
            "time",
            "region",
            "resources",
            "detail",
        }
        assert (
            event["source"]
            == f"aws.partner/genesys.com/cloud/{config.org_id}/{config.event_bus_name}"
        )
        detail = event["detail"]
        assert set(detail) == {"topicName", "version", "eventBody", "metadata", "timestamp"}
        assert "{id}" in event["detail-type"]
        entity = (
            detail["topicName"].split(".")[4]
            if detail["topicName"].startswith("v2.detail")
            else None
        )
        if entity:
            assert detail["eventBody"]["conversationId"] == entity
            assert isinstance(detail["eventBody"]["eventTime"], int)
    topics = {e["detail-type"] for e in events}
    assert "v2.routing.queues.{id}.conversations.messages" in topics
    assert "v2.detail.events.conversation.{id}.customer.end" in topics
    detail_only = build_scenario_events(config, path="detail")
    # the detail path: analytics detail topics, and the calls' real-time transcription
    assert {
        e["detail-type"] for e in detail_only if not e["detail-type"].startswith("v2.detail.")
    } == {"v2.conversations.{id}.transcription"}
    media_items = [
        m
        for e in events
        if "conversations.messages" in e["detail-type"]
        for p in e["detail"]["eventBody"]["participants"]
        for msg in p["messages"]
        for m in msg.get("media", [])
    ]
    assert media_items
    assert all("/" in m["mediaType"] for m in media_items)  # a mime type in this topic


async def test_file_sink_writes_json_lines(tmp_path: Path) -> None:
    target = tmp_path / "events.jsonl"
    sink = open_sink(f"file://{target}")
    await sink.send([{"a": 1}, {"b": 2}])
    await sink.close()
    assert [json.loads(line) for line in target.read_text().splitlines()] == [{"a": 1}, {"b": 2}]


def test_sink_registry_rejects_unknown_scheme_and_accepts_new_ones() -> None:
    with pytest.raises(ValueError, match="carrier-pigeon"):
        open_sink("carrier-pigeon://broker/topic")

    class Dummy:
        def __init__(self, url: str) -> None:
            self.url = url

        async def send(self, events: list[dict[str, object]]) -> None:
            return None

        async def close(self) -> None:
            return None

    register_sink("dummy", Dummy)
    assert isinstance(open_sink("dummy://x"), Dummy)


def test_signed_paths_verify_and_expire() -> None:
    signed = sign_path(b"k", "/media/a/b.ogg", 60)
    path, query = signed.split("?")
    params = dict(pair.split("=", 1) for pair in query.split("&"))
    assert verify(b"k", path, params["Expires"], params["Signature"]) == "ok"
    assert verify(b"other", path, params["Expires"], params["Signature"]) == "bad"
    old = sign_path(b"k", "/media/a/b.ogg", -1)
    p2, q2 = old.split("?")
    params2 = dict(pair.split("=", 1) for pair in q2.split("&"))
    assert verify(b"k", p2, params2["Expires"], params2["Signature"]) == "expired"


def test_long_calls_generate_whole_signals() -> None:
    from genesys_emulator.media import dialogue_signals

    # seed 1 over 30 s has a turn whose float length rounds one sample short of its slot
    for seed, seconds in ((1, 30.0), (3, 61.37)):
        customer, agent = dialogue_signals(seed, seconds, 8000)
        assert len(customer) == len(agent) == int(seconds * 8000)
        assert float(abs(customer).max()) > 0.1
