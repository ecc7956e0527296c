"""``/metrics`` is off the intake port (which faces the internet for an EventBridge API
destination): it lives on the operations port, loopback by default; ``/healthz`` stays
on the intake port for load balancers and is on the operations port too."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from media_bridge.config import IntakeSettings, OperationsSettings, Settings
from media_bridge.intake.http_app import build_intake_app
from media_bridge.intake.ingest import Intake
from media_bridge.ledger import Ledger
from media_bridge.operations.port import serving_operations
from tests.integration.bridge.harness import free_port, serving

pytestmark = pytest.mark.integration


def test_the_operations_port_defaults_to_loopback() -> None:
    ops = Settings().operations
    assert (ops.host, ops.port) == ("127.0.0.1", 9108)


async def test_metrics_only_on_the_operations_port(any_ledger: Ledger) -> None:
    intake_app = build_intake_app(Intake(any_ledger, media_types=None), IntakeSettings(api_key="k"))
    port = free_port()
    async with (
        serving(intake_app) as intake_url,
        serving_operations(OperationsSettings(port=port)) as ops_url,
        aiohttp.ClientSession() as session,
    ):
        assert ops_url == f"http://127.0.0.1:{port}"
        async with session.get(f"{intake_url}/metrics") as response:
            assert response.status == 404
        async with session.get(f"{intake_url}/healthz") as response:
            assert response.status == 200
        async with session.get(f"{ops_url}/metrics") as response:
            assert response.status == 200
            assert "media_bridge_events_total" in await response.text()
        async with session.get(f"{ops_url}/healthz") as response:
            assert response.status == 200
        async with session.post(f"{ops_url}/events", data=b"{}") as response:
            assert response.status in {404, 405}, "no intake on the operations port"


async def test_a_taken_or_disabled_operations_port_does_not_stop_the_bridge() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with serving_operations(OperationsSettings(port=port)) as url:
            assert url is None
    async with serving_operations(OperationsSettings(port=0)) as url:
        assert url is None


def test_media_bridge_run_serves_metrics_on_the_operations_port_only(tmp_path: Path) -> None:
    """`media-bridge run --source http`: /metrics on operations.port, 404 on the intake."""
    intake_port, ops_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MEDIA_BRIDGE_")},
        "MEDIA_BRIDGE_LEDGER__URL": f"sqlite:///{tmp_path}/ledger.db",
        "MEDIA_BRIDGE_SINKS__DIR_PATH": str(tmp_path / "out"),
        "MEDIA_BRIDGE_SINKS__TEXT_PATH": str(tmp_path / "nlp.jsonl"),
        "MEDIA_BRIDGE_GENESYS__CLIENT_ID": "id",
        "MEDIA_BRIDGE_GENESYS__CLIENT_SECRET": "secret",
        "MEDIA_BRIDGE_INTAKE__API_KEY": "k",
        "MEDIA_BRIDGE_INTAKE__PORT": str(intake_port),
        "MEDIA_BRIDGE_OPERATIONS__PORT": str(ops_port),
    }
    bridge = subprocess.Popen(
        [sys.executable, "-m", "media_bridge", "run", "--source", "http"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def status(port: int, path: str) -> int | None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return None

    try:
        deadline = time.monotonic() + 30
        while status(intake_port, "/healthz") != 200 or status(ops_port, "/healthz") != 200:
            assert bridge.poll() is None, bridge.stderr.read() if bridge.stderr else ""
            assert time.monotonic() < deadline, "the bridge did not start listening"
            time.sleep(0.1)
        assert status(ops_port, "/metrics") == 200
        assert status(intake_port, "/metrics") == 404
        bridge.send_signal(signal.SIGTERM)
        assert bridge.wait(timeout=20) == 0
    finally:
        if bridge.poll() is None:
            bridge.kill()
            bridge.wait()
