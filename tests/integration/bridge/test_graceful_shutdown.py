"""SIGTERM: `media-bridge run` stops taking work, hands running jobs back and exits 0."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import running_emulator
from media_bridge.ledger import ledger_from_url
from media_bridge.types import JobState

pytestmark = pytest.mark.integration


async def _counts(url: str) -> dict[JobState, int]:
    ledger = ledger_from_url(url)
    await ledger.open()
    try:
        return await ledger.counts()
    finally:
        await ledger.close()


def test_sigterm_hands_running_jobs_back(tmp_path: Path) -> None:
    config = EmulatorConfig(
        scenario=ScenarioConfig(seed=4, messaging_conversations=4, voice_conversations=0)
    )
    url = f"sqlite:///{tmp_path}/ledger.db"
    with running_emulator(config) as emu:
        emu.set_faults(latency_ms=30_000, hosts=frozenset({"storage"}))  # downloads hang
        events = tmp_path / "events.jsonl"
        events.write_text("".join(json.dumps(e) + "\n" for e in scenario_events(emu.state)))
        env = {
            **os.environ,
            **emu.env(),
            "MEDIA_BRIDGE_LEDGER__URL": url,
            "MEDIA_BRIDGE_SINKS__DIR_PATH": str(tmp_path / "out"),
            "MEDIA_BRIDGE_SINKS__TEXT_PATH": str(tmp_path / "nlp.jsonl"),
        }
        bridge = subprocess.Popen(
            [sys.executable, "-m", "media_bridge", "run", "--source", f"file:{events}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                assert bridge.poll() is None
                assert time.monotonic() < deadline, "no download started"
                if (tmp_path / "ledger.db").exists():
                    running = asyncio.run(_counts(url)).get(JobState.RUNNING, 0)
                    if running:
                        break
                time.sleep(0.1)
            started = time.monotonic()
            bridge.send_signal(signal.SIGTERM)
            assert bridge.wait(timeout=20) == 0
            assert time.monotonic() - started < 15
        finally:
            if bridge.poll() is None:
                bridge.kill()

    counts = asyncio.run(_counts(url))
    assert counts[JobState.RUNNING] == 0  # handed back, not left to a lease
    assert counts[JobState.DEAD] == 0
    assert counts[JobState.PENDING] > 0
