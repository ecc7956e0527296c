"""``/metrics`` is off the intake port (which faces the internet for an EventBridge API
destination): it lives on the operations port, loopback by default; ``/healthz`` stays
on the intake port for load balancers and is on the operations port too."""

from __future__ import annotations

import socket

import aiohttp
import pytest

from media_bridge.config import IntakeSettings, OperationsSettings, Settings
from media_bridge.intake import Intake
from media_bridge.ledger import Ledger
from media_bridge.sources.http import build_intake_app, serving_operations
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
            assert "bridge_events_total" in await response.text()
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
