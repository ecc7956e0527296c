"""audio.max_segment_s end to end over real sockets: a 60 s voice note (and a long call)
reach an HTTP engine as one delivery holding the normalised pieces and their offsets."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import running_emulator
from media_bridge.types import JobState
from tests.integration.bridge.harness import bridge_settings, run_bridge, write_events
from tests.integration.bridge.receiver import Receiver

pytestmark = pytest.mark.integration

FAST_VOICE = {"recording_delay_s": 0.0, "poll_initial_s": 0.1, "poll_max_s": 0.3}


@pytest.fixture
async def engine() -> AsyncIterator[Receiver]:
    receiver = await Receiver().start()
    yield receiver
    await receiver.stop()


def check_segments(segments: list[dict[str, Any]], duration_s: float, limit_s: float) -> None:
    assert segments[0]["start_s"] == 0.0
    assert segments[-1]["end_s"] == pytest.approx(duration_s, abs=0.001)
    for before, after in itertools.pairwise(segments):
        assert before["end_s"] == after["start_s"]
    for segment in segments:
        assert 0.0 < segment["end_s"] - segment["start_s"] <= limit_s
        assert segment["net_speech_s"] >= 0.0
        assert "path" not in segment  # no worker paths leave the bridge


async def test_a_long_voice_note_arrives_as_one_delivery_of_segments(
    engine: Receiver, tmp_path: Path
) -> None:
    config = EmulatorConfig(
        scenario=ScenarioConfig(
            seed=3,
            messaging_conversations=1,
            channels=("whatsapp",),
            attachments_per_conversation=1,
            text_messages_per_conversation=0,
            voice_note_seconds=60.0,
            voice_conversations=1,
            call_seconds=45.0,
        )
    )
    with running_emulator(config) as emu:
        events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state))
        settings = bridge_settings(
            emu,
            tmp_path,
            sinks={"media": "http", "http_url": f"{engine.url}/deliveries", "http_secret": "s"},
            audio={"max_segment_s": 20.0},
            voice=FAST_VOICE,
        )
        counts, _ = await run_bridge(settings, events, timeout_s=120)
    assert counts[JobState.DEAD] == 0, counts

    documents = engine.received.metadata
    (note_key,) = [k for k, d in documents.items() if d["kind"] == "attachment"]
    (call_key,) = [k for k, d in documents.items() if d["kind"] == "recording"]
    assert engine.received.deliveries[note_key] == 1  # one delivery

    note = documents[note_key]
    audio = note["metadata"]["audio"]
    assert audio["source"]["duration_s"] == pytest.approx(60.0, abs=0.5)
    segments = audio["segments"]
    assert len(segments) >= 3
    assert [s["role"] for s in segments] == [f"segment-{i}" for i in range(1, len(segments) + 1)]
    check_segments(segments, audio["output"]["duration_s"], 20.0)
    assert sum(s["net_speech_s"] for s in segments) == pytest.approx(
        audio["speech"]["net_speech_s"], abs=0.1
    )
    roles = [f["role"] for f in note["files"]]
    assert roles == ["original", "normalized", *(s["role"] for s in segments)]
    by_role = {f["role"]: f for f in note["files"]}
    for segment in segments:
        assert by_role[segment["role"]]["sha256"] == segment["sha256"]
        assert by_role[segment["role"]]["mime"] == "audio/wav"
    # the engine got every file's bytes, the pieces included
    assert sorted(engine.received.file_hashes[note_key]) == sorted(
        f["sha256"] for f in note["files"]
    )

    call = documents[call_key]
    customer = call["metadata"]["audio"]["customer"]
    call_segments = customer["segments"]
    assert len(call_segments) >= 3
    check_segments(call_segments, customer["output"]["duration_s"], 20.0)
    call_roles = [f["role"] for f in call["files"]]
    assert [f"customer-{s['role']}" for s in call_segments] == [
        r for r in call_roles if r.startswith("customer-segment-")
    ]
