"""`media-bridge replay -` reads events from stdin and exits once they are delivered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import EmulatorHandle, running_emulator
from tests.integration.bridge.harness import delivered_sidecars, expected_audio

pytestmark = pytest.mark.integration


def replay(
    emu: EmulatorHandle, root: Path, events: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """``media-bridge replay -`` in a subprocess against ``emu``, writing under ``root``."""
    return subprocess.run(
        [sys.executable, "-m", "media_bridge", "replay", "-"],
        input=events,
        env={
            **os.environ,
            **emu.env(),
            "MEDIA_BRIDGE_LEDGER__URL": f"sqlite:///{root}/ledger.db",
            "MEDIA_BRIDGE_SINKS__DIR_PATH": str(root / "out"),
            "MEDIA_BRIDGE_SINKS__TEXT_PATH": str(root / "nlp.jsonl"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_replay_from_stdin(tmp_path: Path) -> None:
    config = EmulatorConfig(
        scenario=ScenarioConfig(seed=21, messaging_conversations=3, voice_conversations=1)
    )
    with running_emulator(config) as emu:
        events = "".join(json.dumps(e) + "\n" for e in scenario_events(emu.state))
        done = replay(
            emu,
            tmp_path,
            events,
            {
                "MEDIA_BRIDGE_AUDIO__MIN_NET_SPEECH_S": "0.5",
                "MEDIA_BRIDGE_VOICE__RECORDING_DELAY_S": "0",
            },
        )
        expected = expected_audio(emu)
        calls = [c.id for c in emu.conversations() if c.kind == "voice"]

    assert done.returncode == 0, done.stderr[-2000:]
    sidecars = delivered_sidecars(tmp_path)
    attachments = {s["key"] for s in sidecars if s["kind"] == "attachment"}
    recordings = {s["conversation_id"] for s in sidecars if s["kind"] == "recording"}
    assert attachments == set(expected)
    assert recordings == set(calls)
    assert (tmp_path / "nlp.jsonl").read_text().strip()
    summary = " ".join(done.stdout.split())
    assert "jobs done / dead" in summary
    assert "clips delivered by quality ok " in summary
    assert "clips diverted (audio.below_gate) hold_local 0 / drop 0" in summary
    assert f"events read {len(events.splitlines())} " in summary
    assert "events rejected / unknown topic 0 / " in summary
    assert "jobs pending / running / done / retry / dead 0 / 0 / " in summary
    assert f"attachment {len(expected)}" in summary.split("deliveries by kind", 1)[1]
    assert "API requests (answered 5xx / 429) " in summary
    assert "in-call retries / job retries " in summary
    assert "Platform API requests per delivered item " in summary


def test_replay_summary_and_log_show_dropped_clips(tmp_path: Path) -> None:
    config = EmulatorConfig(
        scenario=ScenarioConfig(seed=22, messaging_conversations=2, voice_conversations=0)
    )
    with running_emulator(config) as emu:
        events = "".join(json.dumps(e) + "\n" for e in scenario_events(emu.state))
        done = replay(
            emu,
            tmp_path,
            events,
            {
                "MEDIA_BRIDGE_AUDIO__BELOW_GATE": "drop",
                "MEDIA_BRIDGE_LOG_JSON": "true",
            },
        )
        expected = expected_audio(emu)

    assert done.returncode == 0, done.stderr[-2000:]
    assert expected
    assert [s for s in delivered_sidecars(tmp_path) if s["kind"] == "attachment"] == []
    # the default 4 s gate: every emulator voice note (2.2-2.7 s of speech) is short
    summary = " ".join(done.stdout.split())
    assert "clips delivered by quality ok 0 / short 0 / noisy 0 / clipped 0" in summary
    assert f"clips diverted (audio.below_gate) hold_local 0 / drop {len(expected)}" in summary
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    dropped = [line for line in lines if line["event"] == "clip diverted by audio.below_gate"]
    assert {line["key"] for line in dropped} == set(expected)
    assert {(line["level"], line["action"], line["quality"]) for line in dropped} == {
        ("info", "drop", "short")
    }


def test_replay_summary_and_log_show_consent_verdicts(tmp_path: Path) -> None:
    config = EmulatorConfig(
        scenario=ScenarioConfig(seed=22, messaging_conversations=0, voice_conversations=0)
    )
    with running_emulator(config) as emu:
        for answer in ("granted", "refused", "granted"):
            emu.add_messaging_conversation("whatsapp", kinds=("ogg_opus",)).consent = answer
        events = "".join(json.dumps(e) + "\n" for e in scenario_events(emu.state, "message"))
        done = replay(
            emu,
            tmp_path,
            events,
            {
                "MEDIA_BRIDGE_CONSENT__MODE": "external_contact",
                "MEDIA_BRIDGE_LOG_JSON": "true",
            },
        )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = " ".join(done.stdout.split())
    assert "consent verdicts (held: checks that waited) granted 2 / refused 1 / held 0" in summary
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    start = [line for line in lines if line["event"] == "bridge.start"]
    assert start
    assert start[0]["consent_mode"] == "external_contact"
    refused = [line for line in lines if line["event"] == "consent.refused"]
    assert len(refused) == 1
    assert refused[0]["level"] == "info"
    assert refused[0]["key"].startswith("attachment:")
