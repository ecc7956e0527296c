"""Shared pieces for AudioHook integration tests: a recording sink and a server factory."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from media_bridge.audiohook.server import AudioHookServer
from media_bridge.audiohook.settings import AudioHookSettings

API_KEY = "test-api-key"
SECRET = "dGVzdC1jbGllbnQtc2VjcmV0LXZhbHVlLTEyMzQ1Ng=="


class RecordingSink:
    """Keeps every delivery (metadata, WAV bytes, and whether the call was still live)."""

    name = "recording"

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.server: AudioHookServer | None = None

    def _live(self, session_id: str) -> bool:
        session = self.server.sessions.get(session_id) if self.server else None
        return session is not None and session.state in ("ACTIVE", "PAUSED")

    async def deliver_chunk(self, meta: dict[str, Any], wav_path: Path) -> dict[str, Any]:
        self.items.append(
            {
                "kind": "chunk",
                "meta": meta,
                "wav": wav_path.read_bytes(),
                "live": self._live(meta["sessionId"]),
                "at": time.monotonic(),
            }
        )
        return {"ok": True}

    async def deliver_final(self, meta: dict[str, Any], wav_path: Path) -> dict[str, Any]:
        self.items.append(
            {
                "kind": "final",
                "meta": meta,
                "wav": wav_path.read_bytes(),
                "live": False,
                "at": time.monotonic(),
            }
        )
        return {"ok": True}

    async def close(self) -> None:
        return None

    def of(self, session_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        return [
            i
            for i in self.items
            if i["meta"]["sessionId"] == session_id and (kind is None or i["kind"] == kind)
        ]


ServerFactory = Callable[
    ..., AbstractAsyncContextManager[tuple[AudioHookServer, str, RecordingSink]]
]


@pytest.fixture
def audiohook_server(tmp_path: Path) -> ServerFactory:
    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[tuple[AudioHookServer, str, RecordingSink]]:
        clock = overrides.pop("clock", time.time)
        settings = AudioHookSettings(
            **{
                "port": 0,
                "api_keys": {API_KEY: SECRET, "unsigned-key": None},
                "auth_failure_delay_s": 0.05,
                "chunk_mode": "audio",
                "chunk_seconds": 1.0,
                "spool_dir": tmp_path / "spool",
                **overrides,
            }
        )
        sink = RecordingSink()
        server = AudioHookServer(settings, sink=sink, clock=clock)
        sink.server = server
        await server.start()
        try:
            yield server, f"ws://127.0.0.1:{server.port}{settings.path}", sink
        finally:
            await server.stop()

    return make


async def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    import asyncio

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.02)
