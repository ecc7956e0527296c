"""Clips under the quality gate: delivered with their verdict by default, diverted only
on request (``audio.below_gate``), and every diversion logged, counted and in the result."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import EmulatorHandle, running_emulator
from media_bridge import metrics
from media_bridge.ledger import ledger_from_url
from media_bridge.types import Job, JobKind, JobState
from tests.integration.bridge.harness import (
    bridge_settings,
    delivered_sidecars,
    expected_audio,
    run_bridge,
    write_events,
)
from tests.integration.bridge.receiver import Receiver

pytestmark = pytest.mark.integration

DIVERTED = "clip diverted by audio.below_gate"
Logs = list[MutableMapping[str, Any]]
FAST_VOICE = {"recording_delay_s": 0.0, "poll_initial_s": 0.1, "poll_max_s": 0.3}


@pytest.fixture
async def engine() -> AsyncIterator[Receiver]:
    receiver = await Receiver().start()
    yield receiver
    await receiver.stop()


def _http_sink(engine: Receiver) -> dict[str, Any]:
    return {"media": "http", "http_url": f"{engine.url}/deliveries", "http_secret": "s"}


def _verdicts(kind: str, action: str) -> float:
    return metrics.counter_value(metrics.CLIP_VERDICTS, kind=kind, action=action)


async def _done_jobs(root: Path, kind: JobKind) -> list[Job]:
    ledger = ledger_from_url(f"sqlite:///{root}/ledger.db")
    await ledger.open()
    try:
        jobs = await ledger.list_jobs(JobState.DONE, limit=1000)
    finally:
        await ledger.close()
    return [job for job in jobs if job.kind is kind]


async def test_default_scenario_over_http_delivers_every_voice_note_as_short(
    engine: Receiver, tmp_path: Path
) -> None:
    # the emulator's default scenario: voice notes of ~4 s holding 2.2-2.7 s of speech,
    # under the default 4 s gate; before audio.below_gate they never reached the engine
    with running_emulator(EmulatorConfig()) as emu:
        events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state))
        settings = bridge_settings(
            emu,
            tmp_path,
            sinks=_http_sink(engine),
            audio={"min_net_speech_s": 4.0},
            voice=FAST_VOICE,
        )
        before = _verdicts("attachment", "delivered")
        counts, _ = await run_bridge(settings, events, timeout_s=120)
        expected = expected_audio(emu)

    assert counts[JobState.DEAD] == 0, counts
    assert expected
    notes = {k: v for k, v in engine.received.metadata.items() if v["kind"] == "attachment"}
    assert set(notes) == set(expected)
    assert all(engine.received.deliveries[key] == 1 for key in expected)
    for document in notes.values():
        audio = document["metadata"]["audio"]
        assert audio["quality"] == "short"
        assert audio["quality_reasons"][0].startswith("short: ")
        figures = audio["quality_figures"]
        assert 2.0 <= figures["net_speech_s"] < figures["min_net_speech_s"] == 4.0
    assert _verdicts("attachment", "delivered") - before == len(expected)
    assert delivered_sidecars(tmp_path) == []  # nothing held back locally
    for job in await _done_jobs(tmp_path, JobKind.ATTACHMENT):
        assert job.result is not None
        if job.key in expected:
            assert job.result["sink"] == "http"
            assert job.result["quality"] == "short"
            assert "diverted" not in job.result


@pytest.fixture
def emu() -> Iterator[EmulatorHandle]:
    config = EmulatorConfig(
        scenario=ScenarioConfig(seed=11, messaging_conversations=3, voice_conversations=1)
    )
    with running_emulator(config) as handle:
        yield handle


def _diversions(logs: Logs) -> dict[str, MutableMapping[str, Any]]:
    return {entry["key"]: entry for entry in logs if entry["event"] == DIVERTED}


async def test_hold_local_keeps_clips_in_the_dir_and_says_so(
    emu: EmulatorHandle, engine: Receiver, tmp_path: Path, info_logs: Logs
) -> None:
    events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state))
    settings = bridge_settings(
        emu,
        tmp_path,
        sinks=_http_sink(engine),
        audio={"min_net_speech_s": 600.0, "below_gate": "hold_local"},
        voice=FAST_VOICE,
    )
    before = (_verdicts("attachment", "hold_local"), _verdicts("recording", "hold_local"))
    counts, _ = await run_bridge(settings, events, timeout_s=90)

    assert counts[JobState.DEAD] == 0, counts
    expected = expected_audio(emu)
    assert engine.received.deliveries == {}
    kept = delivered_sidecars(tmp_path)
    notes = {s["key"] for s in kept if s["kind"] == "attachment"}
    recordings = [s for s in kept if s["kind"] == "recording"]
    assert notes == set(expected)
    assert len(recordings) == 1
    assert {s["metadata"]["audio"]["quality"] for s in kept if s["kind"] == "attachment"} == {
        "short"
    }
    assert recordings[0]["metadata"]["audio"]["customer"]["quality"] == "short"

    logged = _diversions(info_logs)
    assert set(logged) == {*expected, recordings[0]["key"]}
    for key, entry in logged.items():
        assert entry["log_level"] == "info"
        assert entry["action"] == "hold_local"
        assert entry["quality"] == "short"
        assert key.split(":")[1] == entry["conversation_id"]
    assert _verdicts("attachment", "hold_local") - before[0] == len(expected)
    assert _verdicts("recording", "hold_local") - before[1] == 1

    jobs = await _done_jobs(tmp_path, JobKind.ATTACHMENT)
    held = [job for job in jobs if job.key in expected]
    assert len(held) == len(expected)
    for job in held:
        assert job.result is not None
        assert (job.result["sink"], job.result["diverted"]) == ("dir", "hold_local")


async def test_drop_delivers_nothing_and_finishes_the_jobs_with_their_verdict(
    emu: EmulatorHandle, engine: Receiver, tmp_path: Path, info_logs: Logs
) -> None:
    events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state))
    settings = bridge_settings(
        emu,
        tmp_path,
        sinks=_http_sink(engine),
        audio={"min_net_speech_s": 600.0, "below_gate": "drop"},
        voice=FAST_VOICE,
    )
    before = (_verdicts("attachment", "drop"), _verdicts("recording", "drop"))
    delivered_before = metrics.counter_value(metrics.DELIVERED, kind="recording")
    counts, _ = await run_bridge(settings, events, timeout_s=90)

    assert counts[JobState.DEAD] == 0, counts
    expected = expected_audio(emu)
    # no voice note and no recording reached the engine nor the local dir
    assert not {k for k, v in engine.received.metadata.items() if v["kind"] != "attachment"}
    assert not set(engine.received.deliveries) & set(expected)
    assert delivered_sidecars(tmp_path) == []

    notes = [job for job in await _done_jobs(tmp_path, JobKind.ATTACHMENT) if job.key in expected]
    # the conversation's recording job plans one job per recording, which delivers it
    recording_jobs = await _done_jobs(tmp_path, JobKind.RECORDING)
    calls = [job for job in recording_jobs if job.result and "recording_id" in job.result]
    assert len(notes) == len(expected)
    assert len(calls) == 1
    for job in [*notes, *calls]:
        assert job.result is not None
        assert job.result["sink"] is None
        assert job.result["diverted"] == "drop"
        assert job.result["quality"] == "short"
        assert job.result["quality_reasons"][0].startswith("short: ")

    logged = _diversions(info_logs)
    assert set(logged) == {*expected, calls[0].key}
    assert {entry["action"] for entry in logged.values()} == {"drop"}
    assert all(entry["conversation_id"] for entry in logged.values())
    assert _verdicts("attachment", "drop") - before[0] == len(expected)
    assert _verdicts("recording", "drop") - before[1] == 1
    assert metrics.counter_value(metrics.DELIVERED, kind="recording") == delivered_before
