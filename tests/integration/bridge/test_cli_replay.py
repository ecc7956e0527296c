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
from genesys_emulator.testing import running_emulator
from tests.integration.bridge.harness import delivered_sidecars, expected_audio

pytestmark = pytest.mark.integration


def test_replay_from_stdin(tmp_path: Path) -> None:
    config = EmulatorConfig(
        scenario=ScenarioConfig(seed=21, messaging_conversations=3, voice_conversations=1)
    )
    with running_emulator(config) as emu:
        events = "".join(json.dumps(e) + "\n" for e in scenario_events(emu.state))
        env = {
            **os.environ,
            **emu.env(),
            "MEDIA_BRIDGE_LEDGER__URL": f"sqlite:///{tmp_path}/ledger.db",
            "MEDIA_BRIDGE_SINKS__DIR_PATH": str(tmp_path / "out"),
            "MEDIA_BRIDGE_SINKS__TEXT_PATH": str(tmp_path / "nlp.jsonl"),
            "MEDIA_BRIDGE_AUDIO__MIN_NET_SPEECH_S": "0.5",
            "MEDIA_BRIDGE_VOICE__RECORDING_DELAY_S": "0",
        }
        done = subprocess.run(
            [sys.executable, "-m", "media_bridge", "replay", "-"],
            input=events,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
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
