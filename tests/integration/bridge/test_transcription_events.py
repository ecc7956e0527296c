"""The emulator's real-time transcription events (``v2.conversations.{id}.transcription``)
drive the bridge's transcription path end to end: each final utterance of the call becomes
one NLP record, partials and the ``SESSION_ENDED`` status none."""

from __future__ import annotations

from pathlib import Path

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import running_emulator
from media_bridge.types import JobState
from tests.integration.bridge.harness import (
    bridge_settings,
    nlp_records,
    run_bridge,
    write_events,
)

pytestmark = pytest.mark.integration


async def test_transcription_events_reach_the_nlp_sink(tmp_path: Path) -> None:
    config = EmulatorConfig(
        scenario=ScenarioConfig(
            seed=5, messaging_conversations=0, voice_conversations=1, call_seconds=10.0
        )
    )
    with running_emulator(config) as emu:
        (call,) = emu.conversations()
        transcription = [
            e
            for e in scenario_events(emu.state, "detail")
            if e["detail-type"] == "v2.conversations.{id}.transcription"
        ]
        events = write_events(tmp_path / "events.jsonl", transcription)
        counts, _ = await run_bridge(bridge_settings(emu, tmp_path), events)

    assert counts[JobState.DEAD] == 0, counts
    bodies = [e["detail"]["eventBody"] for e in transcription]
    assert bodies[-1]["status"]["status"] == "SESSION_ENDED"
    finals = [t for b in bodies for t in b["transcripts"] if t["isFinal"]]
    assert any(not t["isFinal"] for b in bodies for t in b["transcripts"])
    comm = call.customer_session_id
    records = sorted(nlp_records(tmp_path), key=lambda r: r["offset_ms"])
    assert [r["key"] for r in records] == [
        f"transcript:{call.id}:{comm}:{t['utteranceId']}" for t in finals
    ]
    assert [r["text"] for r in records] == [t["alternatives"][0]["transcript"] for t in finals]
    assert [r["speaker"] for r in records] == [
        "customer" if t["channel"] == "EXTERNAL" else "agent" for t in finals
    ]
    assert {r["speaker"] for r in records} == {"customer", "agent"}
    assert all(r["organization_id"] == emu.config.org_id for r in records)
