"""Helpers to run the bridge against the emulator over real sockets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from genesys_emulator.testing import EmulatorHandle
from media_bridge.app import Bridge
from media_bridge.config import Settings
from media_bridge.genesys.settings import GenesysSettings
from media_bridge.intake.runner import SourcePump
from media_bridge.intake.sources.file import FileSource
from media_bridge.runtime import run_pipeline
from media_bridge.types import JobState


def bridge_settings(
    emu: EmulatorHandle, root: Path, *, genesys: dict[str, Any] | None = None, **sections: Any
) -> Settings:
    """Settings for a bridge talking to ``emu``, with every file under ``root``."""
    genesys_kwargs = {**emu.genesys_settings(), "backoff_base_s": 0.02, "backoff_max_s": 0.5}
    genesys_kwargs.update(genesys or {})
    data: dict[str, Any] = {
        "ledger": {"url": f"sqlite:///{root}/ledger.db"},
        "sinks": {"dir_path": root / "out", "text_path": root / "nlp.jsonl"},
        "audio": {"workers": 1, "min_net_speech_s": 0.5},
    }
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return Settings(genesys=GenesysSettings(**genesys_kwargs), **data)


def write_events(path: Path, events: Iterable[dict[str, Any] | str]) -> Path:
    with path.open("w") as stream:
        for event in events:
            stream.write((event if isinstance(event, str) else json.dumps(event)) + "\n")
    return path


async def run_bridge(
    settings: Settings, events_file: Path, timeout_s: float = 60.0
) -> tuple[dict[JobState, int], Bridge]:
    async with Bridge(settings, worker_id="test") as bridge:
        counts = await run_pipeline(
            bridge,
            [SourcePump(FileSource(events_file))],
            until_idle=True,
            idle_timeout_s=timeout_s,
            progress_every_s=0.05,
        )
    return counts, bridge


def delivered_sidecars(root: Path) -> list[dict[str, Any]]:
    return [
        json.loads(p.read_text())
        for p in sorted((root / "out").glob("*/*.json"))
        if not p.parent.name.startswith("_")  # _erasures: erasure records, not deliveries
    ]


def expected_audio(emu: EmulatorHandle) -> dict[str, str]:
    """key -> sha256 of every customer audio attachment the emulator holds."""
    found: dict[str, str] = {}
    for conversation, message, attachment in emu.attachments():
        if attachment.media_type != "Audio" or message.direction != "inbound":
            continue
        key = f"attachment:{conversation.id}:{message.id}:{attachment.id}"
        found[key] = emu.expected_object(attachment).sha256
    return found


def nlp_records(root: Path) -> list[dict[str, Any]]:
    path = root / "nlp.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def free_port() -> int:
    """A loopback port free at the time of asking."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[str]:
    """Serve ``app`` on a free loopback port; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
