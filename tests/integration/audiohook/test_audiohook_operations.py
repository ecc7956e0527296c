"""`media-bridge audiohook` serves /healthz, /readyz (listening, spool writable) and
/metrics (sessions open and ended, frames, bytes, signature failures) on its operations
port, apart from the WebSocket port."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from media_bridge.audiohook.client import ClientConfig, run_session
from tests.integration.bridge.harness import free_port
from tests.integration.bridge.observable import get, get_json, samples

pytestmark = pytest.mark.integration

SECRET = base64.b64encode(b"a-client-secret-of-32-bytes-long").decode()


async def test_audiohook_health_readiness_and_metrics(tmp_path: Path) -> None:
    ops_port = free_port()
    spool = tmp_path / "spool"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MEDIA_BRIDGE_")},
        "MEDIA_BRIDGE_AUDIOHOOK__API_KEYS": json.dumps({"k": SECRET}),
        "MEDIA_BRIDGE_AUDIOHOOK__PORT": "0",
        "MEDIA_BRIDGE_AUDIOHOOK__AUTH_FAILURE_DELAY_S": "0",
        "MEDIA_BRIDGE_AUDIOHOOK__SINK__DIR_PATH": str(tmp_path / "out"),
        "MEDIA_BRIDGE_AUDIOHOOK__SPOOL_DIR": str(spool),
        "MEDIA_BRIDGE_AUDIOHOOK__OPERATIONS__PORT": str(ops_port),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "media_bridge", "audiohook"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    ops = f"http://127.0.0.1:{ops_port}"
    try:
        assert server.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(server.stdout.readline), 30)
        started = json.loads(line)
        assert started["operations"] == ops
        uri = started["listening"]
        assert get(f"{ops}/healthz") == (200, "ok")
        status, body = get_json(f"{ops}/readyz")
        assert status == 200, body
        assert body == {
            "ready": True,
            "role": "audiohook",
            "checks": {"listening": "ok", "spool": "ok"},
        }
        signed = ClientConfig(
            uri=uri, api_key="k", client_secret=SECRET, realtime=False, duration_s=2.0
        )
        report = await run_session(signed)
        assert report.closed, report.violations
        unsigned = await run_session(ClientConfig(uri=uri, api_key="k", duration_s=1.0))
        assert unsigned.http_status == 401
        status, text = get(f"{ops}/metrics")
        assert status == 200
        found = samples(text)
        assert found["media_bridge_audiohook_sessions_open"] == 0
        assert found['media_bridge_audiohook_sessions_ended_total{reason="closed"}'] == 1
        assert found['media_bridge_audiohook_frames_total{type="audio"}'] >= report.frames_sent
        assert found["media_bridge_audiohook_audio_bytes_total"] > 0
        assert found['media_bridge_audiohook_signature_failures_total{code="UNSIGNED"}'] == 1
        assert found['media_bridge_audiohook_upgrades_refused_total{reason="unauthorized"}'] == 1
        assert found["process_resident_memory_bytes"] > 0
        # the readiness gauge the MediaBridgeNotReady alert reads is exported here too
        assert found['media_bridge_readiness_check{check="spool"}'] == 1
        assert "media_bridge_events_total" not in text, "the bridge's metrics are not here"
        (tmp_path / "ops-metrics.txt").write_text(text)
        # the spool is gone (a volume unmounted, say): not ready, naming the spool
        shutil.rmtree(spool)
        spool.write_text("not a folder")
        status, body = get_json(f"{ops}/readyz")
        assert status == 503, body
        assert body["checks"]["listening"] == "ok"
        assert body["checks"]["spool"].startswith(f"spool not writable: {spool}")
        server.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(asyncio.to_thread(server.wait), 30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert code == 0
