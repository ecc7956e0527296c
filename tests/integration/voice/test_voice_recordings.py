"""Call recordings end to end against the emulator over real sockets: detail events ->
recording jobs (202 polls) -> download -> stereo split -> customer channel delivered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.state import Conversation
from genesys_emulator.testing import running_emulator
from media_bridge.types import JobKind, JobState
from tests.integration.bridge.harness import (
    bridge_settings,
    delivered_sidecars,
    nlp_records,
    run_bridge,
    write_events,
)
from tests.integration.voice.signals import speaker_correlations

pytestmark = pytest.mark.integration

FAST_POLLS = {"recording_delay_s": 0.0, "poll_initial_s": 0.1, "poll_max_s": 0.3}


def voice_config(**changes: Any) -> EmulatorConfig:
    scenario = ScenarioConfig(
        seed=5,
        messaging_conversations=0,
        voice_conversations=changes.pop("calls", 1),
        call_seconds=12.0,
        recording_file_states=changes.pop("file_states", ()),
    )
    return EmulatorConfig(scenario=scenario, **changes)


def recording_sidecars(root: Path) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in delivered_sidecars(root) if s["kind"] == "recording"}


def delivered_file(root: Path, sidecar: dict[str, Any], role: str) -> Path:
    (name,) = [f["name"] for f in sidecar["files"] if f["role"] == role]
    return root / "out" / str(sidecar["conversation_id"]) / str(name)


def assert_customer_alone(root: Path, sidecar: dict[str, Any], call: Conversation) -> None:
    """The customer file follows the emulated customer's speech and not the agent's."""
    customer = speaker_correlations(delivered_file(root, sidecar, "customer"), call.recordings[0])
    assert customer["customer"] > 0.8, customer
    assert customer["agent"] < 0.1, customer
    agent = speaker_correlations(delivered_file(root, sidecar, "agent"), call.recordings[0])
    assert agent["agent"] > 0.8, agent
    assert agent["customer"] < 0.1, agent


async def test_recording_delivered_after_202s_with_the_customer_channel_alone(
    tmp_path: Path,
) -> None:
    with running_emulator(voice_config(transcoding_delay_s=1.0)) as emu:
        (call,) = emu.conversations()
        events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state, "detail"))
        settings = bridge_settings(emu, tmp_path, voice={**FAST_POLLS, "max_wait_ms": 100})
        counts, bridge = await run_bridge(settings, events)
        stats = emu.stats()

    assert counts[JobState.DEAD] == 0, counts
    recording = call.recordings[0]
    sidecars = recording_sidecars(tmp_path)
    key = f"recording:{call.id}:{recording.id}"
    assert set(sidecars) == {key}
    listed = [
        r for r in stats["requests"] if r["path"].endswith(f"/conversations/{call.id}/recordings")
    ]
    assert {r["status"] for r in listed} >= {202, 200}, listed
    meta = sidecars[key]["metadata"]
    assert meta["file_state"] == "AVAILABLE"
    assert meta["format_id"] == "WAV"
    assert meta["ani"] == call.customer_address
    assert meta["communication_id"] == call.customer_session_id
    assert meta["channels"]["decision"]["customer"] == "left"
    assert meta["channels"]["decision"]["method"] == "setting"
    assert meta["audio"]["customer"]["output"]["channels"] == 1
    assert {f["role"] for f in sidecars[key]["files"]} == {"original", "customer", "agent"}
    assert_customer_alone(tmp_path, sidecars[key], call)

    # the transcript job planned by the recording job reached the NLP sink
    lines = [r for r in nlp_records(tmp_path) if r.get("source") == "speech_text_analytics"]
    assert lines, "no transcript lines"
    assert {r["speaker"] for r in lines} == {"customer", "agent"}
    assert [r["index"] for r in lines] == list(range(len(lines)))
    assert all(
        r["key"] == f"transcript:{call.id}:{call.customer_session_id}:{r['index']}" for r in lines
    )
    for line in lines:
        assert 0 <= line["start_offset_ms"] < line["end_offset_ms"] <= 12_500
        assert 0.5 < line["confidence"] < 1.0
        assert line["start_time"].endswith("Z")
    assert bridge.ledger is not None


@pytest.mark.parametrize("setting", ["right", "auto"])
async def test_customer_on_the_right_is_honoured(tmp_path: Path, setting: str) -> None:
    with running_emulator(voice_config(customer_channel="right")) as emu:
        (call,) = emu.conversations()
        events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state, "detail"))
        voice = {**FAST_POLLS, "customer_channel": setting, "transcripts": False}
        counts, _ = await run_bridge(bridge_settings(emu, tmp_path, voice=voice), events)

    assert counts[JobState.DEAD] == 0, counts
    (sidecar,) = recording_sidecars(tmp_path).values()
    decision = sidecar["metadata"]["channels"]["decision"]
    assert decision["customer"] == "right"
    if setting == "auto":
        assert decision["method"] == "transcript"
        assert decision["confidence"] > 0.5
        assert decision["contrast_db"]["right"] > 0 > decision["contrast_db"]["left"]
    assert_customer_alone(tmp_path, sidecar, call)


async def test_per_channel_media_uris_are_two_mono_files(tmp_path: Path) -> None:
    with running_emulator(voice_config(media_uri_keys="channels")) as emu:
        (call,) = emu.conversations()
        events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state, "detail"))
        voice = {**FAST_POLLS, "transcripts": False}
        counts, _ = await run_bridge(bridge_settings(emu, tmp_path, voice=voice), events)

    assert counts[JobState.DEAD] == 0, counts
    (sidecar,) = recording_sidecars(tmp_path).values()
    meta = sidecar["metadata"]
    assert meta["media_uri_keys"] == ["0", "1"]
    assert meta["channels"]["decision"]["method"] == "per_channel_files"
    roles = {f["role"] for f in sidecar["files"]}
    assert roles == {"original-ch0", "original-ch1", "customer", "agent"}
    assert_customer_alone(tmp_path, sidecar, call)


async def test_file_states_end_in_clear_outcomes(tmp_path: Path) -> None:
    config = voice_config(calls=3, file_states=("ARCHIVED", "DELETED", "AVAILABLE"))
    with running_emulator(config) as emu:
        calls = sorted(emu.conversations(), key=lambda c: c.start)
        events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state, "detail"))
        voice = {**FAST_POLLS, "transcripts": False}
        counts, bridge = await run_bridge(bridge_settings(emu, tmp_path, voice=voice), events)
        archived, deleted, available = calls
        jobs = {
            name: await _job(bridge, f"recording:{c.id}:{c.recordings[0].id}")
            for name, c in (("archived", archived), ("deleted", deleted), ("ok", available))
        }

    assert jobs["archived"].state is JobState.DEAD
    assert jobs["archived"].error_code == "recording_archived"
    assert "must be restored" in (jobs["archived"].last_error or "")
    assert jobs["deleted"].state is JobState.DEAD
    assert jobs["deleted"].error_code == "recording_deleted"
    assert jobs["ok"].state is JobState.DONE
    assert counts[JobState.DEAD] == 2
    assert set(recording_sidecars(tmp_path)) == {
        f"recording:{available.id}:{available.recordings[0].id}"
    }


async def _job(bridge: Any, key: str) -> Any:
    from media_bridge.ledger import ledger_from_url

    ledger = ledger_from_url(bridge.settings.ledger.url)
    await ledger.open()
    try:
        job = await ledger.get(key)
    finally:
        await ledger.close()
    assert job is not None, key
    assert job.kind is JobKind.RECORDING
    return job


async def test_a_stale_media_uri_is_read_again_from_the_recording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The signed URL expires between the recording request and the download (real 403)."""
    from media_bridge.fetch.media import MediaFetcher

    real_fetch = MediaFetcher.fetch_media
    expired: list[str] = []

    with running_emulator(voice_config()) as emu:

        async def expire_first(self: MediaFetcher, url: str, *args: Any, **kwargs: Any) -> Any:
            if not expired:
                expired.append(url)
                emu.expire_links()
            return await real_fetch(self, url, *args, **kwargs)

        monkeypatch.setattr(MediaFetcher, "fetch_media", expire_first)
        (call,) = emu.conversations()
        events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state, "detail"))
        voice = {**FAST_POLLS, "transcripts": False}
        counts, _ = await run_bridge(bridge_settings(emu, tmp_path, voice=voice), events)
        stats = emu.stats()

    assert counts[JobState.DEAD] == 0, counts
    (sidecar,) = recording_sidecars(tmp_path).values()
    assert sidecar["metadata"]["url_refreshes"] == 1
    refused = [r for r in stats["requests"] if r["status"] == 403 and "MediaCache" in r["path"]]
    assert refused, stats["requests"]
    single = f"/conversations/{call.id}/recordings/{call.recordings[0].id}"
    reads = sum(r["count"] for r in stats["requests"] if r["path"].endswith(single))
    assert reads == 2
    assert_customer_alone(tmp_path, sidecar, call)
