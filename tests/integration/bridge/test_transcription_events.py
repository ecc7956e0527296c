"""The emulator's real-time transcription events (``v2.conversations.{id}.transcription``)
drive the bridge's transcription path end to end: each final utterance of the call becomes
one NLP record, partials none; the ``SESSION_ENDED`` status plans the call's Speech & Text
Analytics transcript, with the key and speakers the recording path gives it."""

from __future__ import annotations

from pathlib import Path

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import running_emulator
from media_bridge.ledger import ledger_from_url
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
    delivered = nlp_records(tmp_path)
    analytics = [r for r in delivered if r.get("source") == "speech_text_analytics"]
    assert analytics  # planned by SESSION_ENDED
    assert {r["key"].rsplit(":", 1)[0] for r in analytics} == {f"transcript:{call.id}:{comm}"}
    realtime = [r for r in delivered if r.get("source") != "speech_text_analytics"]
    records = sorted(realtime, key=lambda r: r["offset_ms"])
    assert [r["key"] for r in records] == [
        f"transcript:{call.id}:{comm}:{t['utteranceId']}" for t in finals
    ]
    assert [r["text"] for r in records] == [t["alternatives"][0]["transcript"] for t in finals]
    assert [r["speaker"] for r in records] == [
        "customer" if t["channel"] == "EXTERNAL" else "agent" for t in finals
    ]
    assert {r["speaker"] for r in records} == {"customer", "agent"}
    assert all(r["organization_id"] == emu.config.org_id for r in records)


async def test_session_ended_and_the_recording_path_plan_one_transcript_job(
    tmp_path: Path,
) -> None:
    """SESSION_ENDED comes first (the recording waits ``recording_delay_s``), so its job is
    the one the ledger keeps: its lines must be those the recording path's job gives, same
    keys and same speaker keys, each delivered once."""
    config = EmulatorConfig(
        scenario=ScenarioConfig(
            seed=5, messaging_conversations=0, voice_conversations=1, call_seconds=10.0
        )
    )
    with running_emulator(config) as emu:
        (call,) = emu.conversations()
        every = scenario_events(emu.state, "detail")
        session_end = [
            e
            for e in every
            if e["detail-type"] == "v2.conversations.{id}.transcription"
            and e["detail"]["eventBody"]["status"]["status"] == "SESSION_ENDED"
        ]
        detail = [e for e in every if e["detail-type"].startswith("v2.detail.")]
        voice = {"recording_delay_s": 0.0}
        runs = {}
        for name, events in (("recording", detail), ("both", session_end + detail)):
            root = tmp_path / name
            root.mkdir()
            settings = bridge_settings(emu, root, voice=voice)
            counts, _ = await run_bridge(settings, write_events(root / "events.jsonl", events))
            assert counts[JobState.DEAD] == 0, counts
            ledger = ledger_from_url(settings.ledger.url)
            await ledger.open()
            try:
                job = await ledger.get(f"transcript:{call.id}:{call.customer_session_id}")
            finally:
                await ledger.close()
            assert job is not None
            runs[name] = (job, nlp_records(root))
    planned_by = runs["both"][0].payload["event"]["topic"]
    assert planned_by == f"v2.conversations.{call.id}.transcription"

    def lines(records: list[dict[str, object]]) -> list[tuple[object, object, object]]:
        return sorted(
            (r["key"], r["speaker"], r["speaker_key"])
            for r in records
            if r.get("source") == "speech_text_analytics"
        )

    assert lines(runs["both"][1]) == lines(runs["recording"][1])
    assert len(lines(runs["both"][1])) == len({r[0] for r in lines(runs["both"][1])}) > 0
