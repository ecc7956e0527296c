"""kill -9 in the middle of a run of 500 voice notes; a restart delivers the rest, none twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import conversation_events
from genesys_emulator.testing import running_emulator
from tests.integration.bridge.harness import expected_audio, write_events

pytestmark = pytest.mark.integration

COUNT = 500


def _bridge(env: dict[str, str], events: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "media_bridge", "replay", str(events), "--worker-id", "crashy"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _sidecars(out: Path) -> list[Path]:
    return list(out.glob("*/*.json"))


@pytest.mark.timeout(240)
def test_kill_9_mid_run_then_restart_delivers_all_none_twice(tmp_path: Path) -> None:
    config = EmulatorConfig(
        rate_limit_requests=1_000_000,
        scenario=ScenarioConfig(messaging_conversations=0, voice_conversations=0),
    )
    with running_emulator(config) as emu:
        builder = emu.builder
        conversations = [
            builder.messaging_conversation(
                "whatsapp", builder.anchor - timedelta(seconds=i), kinds=("ogg_opus",), texts=1
            )
            for i in range(COUNT)
        ]
        events = [e for c in conversations for e in conversation_events(emu.state, c, "message")]
        events_file = write_events(tmp_path / "events.jsonl", events)
        out = tmp_path / "out"
        env = {
            **os.environ,
            **emu.env(),
            "MEDIA_BRIDGE_LEDGER__URL": f"sqlite:///{tmp_path}/ledger.db",
            "MEDIA_BRIDGE_LEDGER__LEASE_SECONDS": "2",
            "MEDIA_BRIDGE_SINKS__DIR_PATH": str(out),
            "MEDIA_BRIDGE_SINKS__TEXT_PATH": str(tmp_path / "nlp.jsonl"),
            "MEDIA_BRIDGE_AUDIO__MIN_NET_SPEECH_S": "0.5",
            "MEDIA_BRIDGE_AUDIO__WORKERS": "1",
        }
        log = tmp_path / "bridge.log"
        first = _bridge(env, events_file, log)
        deadline = time.monotonic() + 120
        while len(_sidecars(out)) < COUNT // 4:
            assert first.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the bridge delivered too little"
            time.sleep(0.02)
        audio_workers = _children(first.pid)
        assert audio_workers, "the audio pool should be running"
        first.send_signal(signal.SIGKILL)
        first.wait()
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in audio_workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(p) for p in audio_workers), "orphaned audio workers"
        delivered_at_kill = len(_sidecars(out))
        assert delivered_at_kill < COUNT

        second = _bridge(env, events_file, log)
        assert second.wait(timeout=180) == 0, log.read_text()[-3000:]
        expected = expected_audio(emu)

    sidecars = [json.loads(p.read_text()) for p in _sidecars(out)]
    keys = Counter(s["key"] for s in sidecars)
    assert len(expected) == COUNT
    assert set(keys) == set(expected)
    assert max(keys.values()) == 1
    for sidecar in sidecars:
        assert sidecar["metadata"]["sha256"] == expected[sidecar["key"]]
    texts = [json.loads(line)["key"] for line in (tmp_path / "nlp.jsonl").read_text().splitlines()]
    assert len(texts) == len(set(texts)) == COUNT  # one text per conversation, once
    # every delivered file is whole: no temporary leftovers beside the finished ones
    leftovers = [p for p in out.rglob("*") if p.is_file() and p.name.startswith(".")]
    assert leftovers == []
