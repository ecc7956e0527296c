"""A fleet of `media-bridge run` worker processes, and what the end-to-end tests check."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from scripts.infra import AWS_TEST_ENV

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.testing import EmulatorHandle


def scenario(attachments: int, per_conversation: int = 10, seed: int = 7) -> EmulatorConfig:
    """An org whose messaging conversations hold ``attachments`` attachments in total."""
    return EmulatorConfig(
        # the scale tests measure the bridge, not Genesys' 300 requests/min per token
        rate_limit_requests=1_000_000,
        scenario=ScenarioConfig(
            seed=seed,
            messaging_conversations=max(1, attachments // per_conversation),
            voice_conversations=0,
            channels=("whatsapp",),
            attachments_per_conversation=per_conversation,
            text_messages_per_conversation=0,
            voice_note_seconds=1.0,
            event_path="message",
        ),
    )


def expected_attachments(emu: EmulatorHandle) -> dict[str, str]:
    """job key -> sha256 of every attachment the org holds (the bridge fetches them all)."""
    return {
        f"attachment:{c.id}:{m.id}:{a.id}": emu.expected_object(a).sha256
        for c, m, a in emu.attachments()
    }


def worker_env(emu: EmulatorHandle, root: Path, ledger_url: str, media_sink: str) -> dict[str, str]:
    env = {
        **os.environ,
        **AWS_TEST_ENV,
        **emu.env(),
        "MEDIA_BRIDGE_GENESYS__VERIFY_TLS": "false",
        "MEDIA_BRIDGE_GENESYS__BACKOFF_BASE_S": "0.05",
        "MEDIA_BRIDGE_GENESYS__BACKOFF_MAX_S": "1",
        "MEDIA_BRIDGE_LEDGER__URL": ledger_url,
        "MEDIA_BRIDGE_LEDGER__LEASE_SECONDS": "8",
        "MEDIA_BRIDGE_LEDGER__MAX_ATTEMPTS": "30",
        "MEDIA_BRIDGE_SINKS__MEDIA": media_sink,
        "MEDIA_BRIDGE_SINKS__DIR_PATH": str(root / "out"),
        "MEDIA_BRIDGE_SINKS__TEXT_PATH": str(root / "nlp.jsonl"),
        "MEDIA_BRIDGE_FETCH__MEDIA_TYPES": '["all"]',
        "MEDIA_BRIDGE_FETCH__TMP_DIR": str(root / "tmp"),
        "MEDIA_BRIDGE_AUDIO__ENABLED": "false",
        "MEDIA_BRIDGE_WORKER__CONCURRENCY": "16",
        "MEDIA_BRIDGE_LOG_LEVEL": "WARNING",
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


@dataclass
class WorkerFleet:
    """``n`` bridge processes (``python -m media_bridge run``), each restartable."""

    source: str
    env: dict[str, str]
    log_dir: Path
    procs: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    kills: int = 0

    def start(self, index: int) -> None:
        log = (self.log_dir / f"worker-{index}.log").open("ab")
        self.procs[index] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "media_bridge",
                "run",
                "--source",
                self.source,
                "--worker-id",
                f"w{index}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        log.close()

    def start_all(self, n: int) -> None:
        for index in range(n):
            self.start(index)

    def kill9(self, index: int) -> None:
        proc = self.procs.pop(index)  # not "dead" for assert_alive: we killed it
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        self.kills += 1

    def assert_alive(self) -> None:
        for index, proc in self.procs.items():
            if proc.poll() is not None:
                log = (self.log_dir / f"worker-{index}.log").read_text(errors="replace")
                raise AssertionError(f"worker {index} exited {proc.returncode}:\n{log[-3000:]}")

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


async def chaos(
    fleet: WorkerFleet,
    kills: int,
    done: Callable[[], Awaitable[bool]],
    rng: random.Random,
    pause: tuple[float, float] = (0.5, 2.5),
) -> None:
    """Kill -9 a random worker at random moments ``kills`` times, restarting it each time."""
    for _ in range(kills):
        await asyncio.sleep(rng.uniform(*pause))
        if await done():
            return
        index = rng.choice(sorted(fleet.procs))
        fleet.kill9(index)
        await asyncio.sleep(rng.uniform(0.0, 0.5))
        fleet.start(index)


async def wait_for(
    condition: Callable[[], Awaitable[bool]],
    timeout: float,
    fleet: WorkerFleet | None = None,
    every: float = 0.5,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fleet is not None:
            fleet.assert_alive()
        if await condition():
            return
        await asyncio.sleep(every)
    raise TimeoutError(f"condition not met within {timeout}s")
