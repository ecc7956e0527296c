"""JSON mode: every line of a `media-bridge run` (intake, retries, a SIGTERM) is JSON, and
the retries of a job carry its key."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import running_emulator

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_json_logs_of_a_run_with_retries_and_sigterm(tmp_path: Path) -> None:
    config = EmulatorConfig(
        scenario=ScenarioConfig(seed=5, messaging_conversations=4, voice_conversations=0)
    )
    with running_emulator(config) as emu:
        emu.set_faults(error_rate=0.3, seed=1)
        events = tmp_path / "events.jsonl"
        events.write_text("".join(json.dumps(e) + "\n" for e in scenario_events(emu.state)))
        env = {
            **os.environ,
            **emu.env(),
            "MEDIA_BRIDGE_LEDGER__URL": f"sqlite:///{tmp_path}/ledger.db",
            "MEDIA_BRIDGE_SINKS__DIR_PATH": str(tmp_path / "out"),
            "MEDIA_BRIDGE_SINKS__TEXT_PATH": str(tmp_path / "nlp.jsonl"),
            "MEDIA_BRIDGE_LOG_JSON": "true",
            "MEDIA_BRIDGE_INTAKE__HOST": "127.0.0.1",
            "MEDIA_BRIDGE_INTAKE__PORT": str(_free_port()),
            "MEDIA_BRIDGE_INTAKE__API_KEY": "k",
        }
        bridge = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "media_bridge",
                "run",
                "--source",
                "http",
                "--source",
                f"file:{events}",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                assert bridge.poll() is None
                done = (
                    list((tmp_path / "out").rglob("*.json")) if (tmp_path / "out").exists() else []
                )
                if len(done) >= 3:
                    break
                time.sleep(0.2)
            time.sleep(1.0)
            bridge.send_signal(signal.SIGTERM)
            _, stderr = bridge.communicate(timeout=30)
        finally:
            if bridge.poll() is None:
                bridge.kill()
    assert bridge.returncode == 0, stderr[-3000:]
    lines = [line for line in stderr.splitlines() if line.strip()]
    parsed: list[dict[str, Any]] = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not JSON: {line!r}")
    names = [p.get("event") for p in parsed]
    assert "bridge.start" in names
    assert "bridge.stop" in names
    retries = [p for p in parsed if p.get("event") in {"genesys.retry", "fetch.retry"}]
    assert retries, names
    assert all(p.get("key") for p in retries), [p for p in retries if not p.get("key")]
    assert all(p.get("conversation_id") and p.get("worker") for p in retries)
    delivered = [p for p in parsed if p.get("event") == "delivered"]
    assert delivered
    attachment = [p for p in delivered if p["key"].startswith("attachment:")]
    assert attachment
    assert all(p["sink"] and p["bytes"] > 0 for p in attachment)
    assert not [line for line in lines if "CancelledError" in line]
