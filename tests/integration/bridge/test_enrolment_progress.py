"""Enrolment progress end to end over real sockets: each audio delivery states how much of
its speaker's speech was delivered so far (``speaker.net_speech_total_s``, ``clips``,
``enrolment_ready``), counted once per job: replaying the events, or running the jobs
again as after a crash, adds nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import EmulatorHandle, running_emulator
from media_bridge.ledger import SpeechTotals, ledger_from_url
from media_bridge.sinks.metadata import DeliveryMetadata
from media_bridge.types import JobState
from tests.integration.bridge.harness import (
    bridge_settings,
    delivered_sidecars,
    run_bridge,
    write_events,
)

pytestmark = pytest.mark.integration

FAST_VOICE = {"recording_delay_s": 0.0, "poll_initial_s": 0.1, "poll_max_s": 0.3}
READY_AT_S = 5.0


def scenario() -> EmulatorConfig:
    # one WhatsApp customer sending every media kind of the channel (four of them voice
    # notes), who then calls in (the returning caller: the same person, the same key)
    return EmulatorConfig(
        scenario=ScenarioConfig(
            seed=5,
            messaging_conversations=1,
            channels=("whatsapp",),
            attachments_per_conversation=6,
            text_messages_per_conversation=0,
            voice_note_seconds=3.0,
            voice_conversations=1,
            call_seconds=6.0,
        )
    )


def net_speech(meta: dict[str, Any]) -> float:
    """This clip's own net speech (the customer's side of a call)."""
    audio = meta["audio"]
    speech = audio["customer"]["speech"] if meta["kind"] == "recording" else audio["speech"]
    return float(speech["net_speech_s"])


def audio_deliveries(root: Path) -> dict[str, dict[str, Any]]:
    """Audio deliveries by job key: their metadata."""
    return {
        sidecar["key"]: sidecar["metadata"]
        for sidecar in delivered_sidecars(root)
        if sidecar["kind"] in ("attachment", "recording") and "audio" in sidecar["metadata"]
    }


async def ledger_totals(root: Path, key: str) -> SpeechTotals:
    ledger = ledger_from_url(f"sqlite:///{root}/ledger.db")
    await ledger.open()
    try:
        return await ledger.speech_totals(key)
    finally:
        await ledger.close()


async def run(emu: EmulatorHandle, root: Path, events: Path) -> dict[JobState, int]:
    settings = bridge_settings(
        emu, root, voice=FAST_VOICE, audio={"enrolment_min_speech_s": READY_AT_S}
    )
    counts, _ = await run_bridge(settings, events, timeout_s=120)
    assert counts[JobState.DEAD] == 0, counts
    return counts


async def test_each_delivery_states_its_speakers_progress_and_replays_add_nothing(
    tmp_path: Path,
) -> None:
    with running_emulator(scenario()) as emu:
        events = write_events(tmp_path / "events.jsonl", scenario_events(emu.state))
        await run(emu, tmp_path, events)
        first = audio_deliveries(tmp_path)
        sidecars = {p: p.read_text() for p in sorted((tmp_path / "out").rglob("*.json"))}

        notes = [m for m in first.values() if m["kind"] == "attachment"]
        calls = [m for m in first.values() if m["kind"] == "recording"]
        assert len(notes) >= 2
        assert len(calls) == 1
        assert len({m["speaker"]["key"] for m in first.values()}) == 1  # one person
        key = notes[0]["speaker"]["key"]
        for meta in first.values():
            DeliveryMetadata.model_validate(meta)  # the published contract
        assert calls[0]["speakers"]["agent"]["clips"] is None  # only the customer is counted

        # in the order they were counted, each delivery's total is the running sum
        ordered = sorted(first.values(), key=lambda m: int(m["speaker"]["clips"]))
        assert [m["speaker"]["clips"] for m in ordered] == list(range(1, len(ordered) + 1))
        running = 0.0
        for meta in ordered:
            running += net_speech(meta)
            speaker = meta["speaker"]
            assert speaker["net_speech_total_s"] == pytest.approx(running, abs=0.002)
            assert speaker["enrolment_ready"] is (speaker["net_speech_total_s"] >= READY_AT_S)
        # the second voice note counted states the sum of both notes (and what came between)
        second = ordered[1]["speaker"]
        assert second["net_speech_total_s"] == pytest.approx(
            net_speech(ordered[0]) + net_speech(ordered[1]), abs=0.002
        )
        assert ordered[0]["speaker"]["enrolment_ready"] is False
        assert ordered[-1]["speaker"]["enrolment_ready"] is True
        totals = await ledger_totals(tmp_path, key)
        assert totals.clips == len(ordered)
        assert totals.net_speech_s == ordered[-1]["speaker"]["net_speech_total_s"]

        # replaying the same events over the same ledger: nothing delivered, nothing added
        await run(emu, tmp_path, events)
        assert {p: p.read_text() for p in sorted((tmp_path / "out").rglob("*.json"))} == sidecars
        assert await ledger_totals(tmp_path, key) == totals

        # every job run again (as after a crash before it completed): delivered again, but
        # each clip still counted once, so every delivery states the final totals
        with sqlite3.connect(tmp_path / "ledger.db") as raw:
            raw.execute(
                "UPDATE jobs SET state = 'pending', attempts = 0"
                " WHERE kind IN ('attachment', 'recording')"
            )
        await run(emu, tmp_path, events)
        again = audio_deliveries(tmp_path)
        assert set(again) == set(first)
        assert all(again[k]["delivered_at"] != first[k]["delivered_at"] for k in first)
        for meta in again.values():
            assert meta["speaker"]["clips"] == totals.clips
            assert meta["speaker"]["net_speech_total_s"] == totals.net_speech_s
            assert meta["speaker"]["enrolment_ready"] is True
        assert await ledger_totals(tmp_path, key) == totals
