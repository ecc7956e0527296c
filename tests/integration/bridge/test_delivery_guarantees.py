"""Exactly-once delivery under faults and duplicates; token safety; hostile filenames."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import EmulatorHandle, running_emulator
from media_bridge.types import JobState
from tests.integration.bridge.harness import (
    bridge_settings,
    delivered_sidecars,
    expected_audio,
    run_bridge,
    write_events,
)
from tests.integration.bridge.receiver import Receiver

pytestmark = pytest.mark.integration

SECRET = "engine-shared-secret"


@pytest.fixture
def emu() -> Iterator[EmulatorHandle]:
    config = EmulatorConfig(
        scenario=ScenarioConfig(seed=11, messaging_conversations=8, voice_conversations=0)
    )
    with running_emulator(config) as handle:
        yield handle


@pytest.fixture
async def engine() -> AsyncIterator[Receiver]:
    receiver = await Receiver().start()
    yield receiver
    await receiver.stop()


def _http_sink(engine: Receiver) -> dict[str, Any]:
    return {"media": "http", "http_url": f"{engine.url}/deliveries", "http_secret": SECRET}


async def test_faults_and_429_storms_still_deliver_every_file_exactly_once(
    emu: EmulatorHandle, engine: Receiver, tmp_path: Path
) -> None:
    events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state))
    emu.set_faults(error_rate=0.15, drop_rate=0.05, truncate_rate=0.05, seed=5)
    emu.set_rate_limit(10, 1.0)
    settings = bridge_settings(
        emu,
        tmp_path,
        genesys={"max_attempts": 10, "download_attempts": 10},
        sinks=_http_sink(engine),
    )
    counts, bridge = await run_bridge(settings, events, timeout_s=90)

    assert bridge.genesys is not None
    assert bridge.genesys.stats.rate_limited > 0  # the 429 storm really happened
    faults = emu.stats()["faults"]
    assert faults["drop"]
    assert faults["truncate"]
    assert faults["error500"] + faults["error503"]
    assert counts[JobState.DEAD] == 0, counts
    expected = expected_audio(emu)
    assert dict(engine.received.deliveries) == dict.fromkeys(expected, 1)
    for key, sha in expected.items():
        assert engine.received.file_hashes[key][0] == sha


async def test_duplicate_events_deliver_once(
    emu: EmulatorHandle, engine: Receiver, tmp_path: Path
) -> None:
    once = scenario_events(emu.state)
    events = write_events(tmp_path / "events.jsonl", once * 3)
    settings = bridge_settings(emu, tmp_path, sinks=_http_sink(engine))
    counts, bridge = await run_bridge(settings, events)

    assert counts[JobState.DEAD] == 0
    assert bridge.intake_result.events == 3 * len(once)
    assert dict(engine.received.deliveries) == dict.fromkeys(expected_audio(emu), 1)
    # and replaying the same file again later delivers nothing new
    counts, _ = await run_bridge(settings, events)
    assert max(engine.received.deliveries.values()) == 1
    # each HTTP delivery says whose voice it is
    for key in expected_audio(emu):
        speaker = engine.received.metadata[key]["metadata"]["speaker"]
        assert speaker["key_scope"] == "person"
        assert speaker["key"].startswith("ext:")


def _message_events(emu: EmulatorHandle) -> list[dict[str, Any]]:
    return [
        e
        for e in scenario_events(emu.state, "message")
        if "conversations.messages" in e["detail-type"]
    ]


async def test_event_url_on_a_foreign_host_never_gets_the_token(
    emu: EmulatorHandle, tmp_path: Path
) -> None:
    foreign = await Receiver().start()
    try:
        events = copy.deepcopy(_message_events(emu))
        rewritten = 0
        for event in events:
            for participant in event["detail"]["eventBody"]["participants"]:
                for message in participant.get("messages") or []:
                    for media in message.get("media") or []:
                        media["url"] = f"{foreign.url}/steal?Signature=abc&Expires=1"
                        rewritten += 1
        assert rewritten
        path = write_events(tmp_path / "events.jsonl", events)
        counts, _ = await run_bridge(bridge_settings(emu, tmp_path), path)
    finally:
        await foreign.stop()

    assert foreign.received.requests == []  # not fetched at all, so never with a token
    assert counts[JobState.DEAD] == 0
    delivered = {s["key"]: s["metadata"]["sha256"] for s in delivered_sidecars(tmp_path)}
    assert delivered == expected_audio(emu)


async def test_hostile_filenames_never_become_paths(emu: EmulatorHandle, tmp_path: Path) -> None:
    hostile = ["../../../../tmp/pwned.ogg", "/etc/passwd", "..\\..\\win.ini", "a/../../b.ogg\x00"]
    names: dict[str, str] = {}
    for index, (conversation, message, attachment) in enumerate(emu.attachments()):
        attachment.filename = hostile[index % len(hostile)]
        names[f"attachment:{conversation.id}:{message.id}:{attachment.id}"] = attachment.filename
    events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state))
    counts, _ = await run_bridge(bridge_settings(emu, tmp_path), events)

    assert counts[JobState.DEAD] == 0
    out = (tmp_path / "out").resolve()
    for path in out.rglob("*"):
        assert path.resolve().is_relative_to(out)
        assert ".." not in path.name
        assert "passwd" not in path.name
    sidecars = delivered_sidecars(tmp_path)
    assert sidecars
    for sidecar in sidecars:
        assert sidecar["metadata"]["original_filename"] == names[sidecar["key"]]
    assert not Path("/tmp/pwned.ogg").exists()


async def test_clips_without_enough_speech_reach_the_engine_with_their_verdict(
    emu: EmulatorHandle, engine: Receiver, tmp_path: Path
) -> None:
    # audio.below_gate defaults to deliver: the engine decides (hold_local and drop are
    # opt-ins, tested in test_below_gate.py)
    events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state))
    settings = bridge_settings(
        emu, tmp_path, sinks=_http_sink(engine), audio={"min_net_speech_s": 600.0}
    )
    counts, _ = await run_bridge(settings, events)

    assert counts[JobState.DEAD] == 0
    expected = expected_audio(emu)
    assert dict(engine.received.deliveries) == dict.fromkeys(expected, 1)
    audio = [engine.received.metadata[key]["metadata"]["audio"] for key in expected]
    assert {a["status"] for a in audio} == {"insufficient_speech"}
    assert {a["quality"] for a in audio} == {"short"}
    assert delivered_sidecars(tmp_path) == []  # nothing kept back locally
