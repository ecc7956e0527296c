"""SIGTERM during a live call: the caller is told, its audio is delivered, exit 0."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from media_bridge.audiohook.client import ClientConfig, run_session

pytestmark = pytest.mark.integration


async def test_sigterm_disconnects_a_live_call_and_delivers_its_audio(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {
        **os.environ,
        "MEDIA_BRIDGE_AUDIOHOOK__API_KEYS": json.dumps({"k": None}),
        "MEDIA_BRIDGE_AUDIOHOOK__PORT": "0",
        "MEDIA_BRIDGE_AUDIOHOOK__SINK__DIR_PATH": str(out),
        "MEDIA_BRIDGE_AUDIOHOOK__SPOOL_DIR": str(tmp_path / "spool"),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "media_bridge", "audiohook"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(server.stdout.readline), 30)
        uri = json.loads(line)["listening"]
        config = ClientConfig(uri=uri, api_key="k", realtime=True, duration_s=20.0)
        call = asyncio.create_task(run_session(config))
        spool = tmp_path / "spool"
        deadline = asyncio.get_running_loop().time() + 15
        while not any(spool.rglob("*")) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)  # audio is being spooled: the call is live
        server.send_signal(signal.SIGTERM)
        report = await asyncio.wait_for(call, 30)
        code = await asyncio.wait_for(asyncio.to_thread(server.wait), 30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert code == 0
    assert report.disconnect is not None
    assert report.disconnect.get("reason") == "completed"
    assert report.closed
    full = list(out.rglob("*-external-full.wav"))
    assert len(full) == 1
    assert full[0].stat().st_size > 44  # more than a WAV header
