"""The EventBridge API-destination intake over a real socket: auth, limits, bad input."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import EmulatorHandle, running_emulator
from media_bridge.app import Bridge
from media_bridge.config import OperationsSettings
from media_bridge.intake.http_app import build_intake_app
from media_bridge.ledger import ledger_from_url
from media_bridge.metrics import STANDARD_PREFIXES
from media_bridge.operations.port import serving_operations
from media_bridge.runtime import run_pipeline
from media_bridge.types import JobState
from tests.integration.bridge.harness import (
    bridge_settings,
    delivered_sidecars,
    expected_audio,
    free_port,
    serving,
)

pytestmark = pytest.mark.integration

API_KEY = "intake-key-123"


@pytest.fixture
def emu() -> Iterator[EmulatorHandle]:
    config = EmulatorConfig(
        scenario=ScenarioConfig(seed=5, messaging_conversations=3, voice_conversations=0)
    )
    with running_emulator(config) as handle:
        yield handle


class Intake:
    def __init__(self, bridge: Bridge, url: str) -> None:
        self.bridge = bridge
        self.url = url

    async def post(self, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        sent = {"content-type": "application/json", "x-api-key": API_KEY, **(headers or {})}
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.url}/events", data=body, headers=sent) as response,
        ):
            return response.status, await response.json()


@pytest.fixture
async def intake(emu: EmulatorHandle, tmp_path: Path) -> AsyncIterator[Intake]:
    settings = bridge_settings(
        emu,
        tmp_path,
        intake={
            "api_key": API_KEY,
            "basic_user": "eventbridge",
            "basic_password": "pw",
            "max_body_bytes": 64 * 1024,
        },
    )
    async with Bridge(settings, worker_id="intake-test") as bridge:
        assert bridge.intake is not None
        async with serving(build_intake_app(bridge.intake, settings.intake)) as url:
            yield Intake(bridge, url)


async def _rejected(bridge: Bridge) -> list[dict[str, Any]]:
    return await bridge.ledger.list_rejected(limit=100)


async def test_events_posted_as_an_array_are_recorded_then_delivered(
    emu: EmulatorHandle, intake: Intake, tmp_path: Path
) -> None:
    emu.set_faults(latency_ms=1500)  # downloads are slow; the intake must not wait for them
    events = scenario_events(emu.state)
    started = time.monotonic()
    status, answer = await intake.post(json.dumps(events).encode())
    answered_in = time.monotonic() - started

    assert status == 202
    assert answer["accepted"] == len(events)
    assert answer["jobs_added"] > 0
    assert answered_in < 1.0  # recorded and answered before any Genesys call
    emu.clear_faults()
    counts = await run_pipeline(
        intake.bridge, until_idle=True, idle_timeout_s=60, progress_every_s=0.05
    )
    assert counts[JobState.DEAD] == 0
    assert {s["key"] for s in delivered_sidecars(tmp_path)} == set(expected_audio(emu))


async def test_single_event_with_basic_auth(emu: EmulatorHandle, intake: Intake) -> None:
    event = scenario_events(emu.state)[0]
    basic = base64.b64encode(b"eventbridge:pw").decode()
    status, answer = await intake.post(
        json.dumps(event).encode(), {"x-api-key": "", "authorization": f"Basic {basic}"}
    )
    assert status == 202
    assert answer["accepted"] == 1


@pytest.mark.parametrize(
    "headers", [{"x-api-key": "wrong"}, {"x-api-key": "", "authorization": "Basic eDp5"}]
)
async def test_wrong_credentials_are_refused(intake: Intake, headers: dict[str, str]) -> None:
    from structlog.testing import capture_logs

    from media_bridge import metrics

    before = metrics.counter_value(metrics.INTAKE_UNAUTHORIZED)
    with capture_logs() as logs:
        status, _ = await intake.post(b"{}", headers)
        again, _ = await intake.post(b"{}", headers)
    assert status == again == 401
    assert await _rejected(intake.bridge) == []
    # counted every time, logged once (rate-limited), naming what was expected
    assert metrics.counter_value(metrics.INTAKE_UNAUTHORIZED) == before + 2
    refused = [e for e in logs if e["event"] == "intake.unauthorized"]
    assert len(refused) == 1, logs
    assert "header x-api-key" in refused[0]["expected"]
    assert refused[0]["refused"] == 1
    assert "wrong" not in str(refused[0])


async def test_oversize_body_is_refused_without_recording(intake: Intake) -> None:
    status, answer = await intake.post(b"[" + b" " * (70 * 1024) + b"]")
    assert status == 413
    assert answer["limit_bytes"] == 64 * 1024
    assert await intake.bridge.ledger.counts() == dict.fromkeys(JobState, 0)


@pytest.mark.parametrize(
    ("body", "reason_part"),
    [
        (b'{"version": "0", "detail": ', "json"),
        (b'{"version": "0", "id": "x", "detail-type": "v2.detail.events", "detail": {}}', ""),
        (b"[1, 2, 3]", ""),
    ],
)
async def test_bad_bodies_are_rejected_with_a_reason_and_kept(
    intake: Intake, body: bytes, reason_part: str
) -> None:
    status, answer = await intake.post(body)
    assert status == 400
    assert answer["rejected"]
    assert reason_part.lower() in " ".join(answer["reasons"]).lower()
    kept = await _rejected(intake.bridge)
    assert kept, "a rejected event must be kept for inspection"


async def test_missing_ids_and_unknown_topics(emu: EmulatorHandle, intake: Intake) -> None:
    event = next(e for e in scenario_events(emu.state) if ".customer." in e["detail-type"])
    no_id = json.loads(json.dumps(event))
    del no_id["detail"]["eventBody"]["conversationId"]
    no_id["detail"]["topicName"] = "v2.detail.events.conversation.customer.end"
    unknown = json.loads(json.dumps(event))
    unknown["detail-type"] = unknown["detail"]["topicName"] = "v2.users.abc.presence"
    status, answer = await intake.post(json.dumps([no_id, unknown, event]).encode())

    assert status == 202
    assert answer["unknown_topics"] == 1
    assert answer["rejected"] == 1
    assert len(await _rejected(intake.bridge)) == 1


def test_ledger_url_is_sqlite(tmp_path: Path) -> None:
    assert type(ledger_from_url(f"sqlite:///{tmp_path}/x.db")).__name__ == "SqliteLedger"


async def test_health_readiness_and_metrics(emu: EmulatorHandle, intake: Intake) -> None:
    event = scenario_events(emu.state)[0]
    status, _ = await intake.post(json.dumps(event).encode())
    assert status == 202
    async with aiohttp.ClientSession() as session:
        for path in ("/healthz", "/readyz"):
            async with session.get(f"{intake.url}{path}") as response:
                assert response.status == 200
        async with session.get(f"{intake.url}/metrics") as response:
            assert response.status == 404, "/metrics is on the operations port only"
        async with (
            serving_operations(OperationsSettings(port=free_port())) as ops,
            session.get(f"{ops}/metrics") as response,
        ):
            assert response.status == 200
            text = await response.text()
    assert 'media_bridge_events_total{outcome="accepted"}' in text
    assert "media_bridge_event_to_delivery_seconds_bucket" in text
    assert "media_bridge_token_refreshes_total" in text
    assert "media_bridge_genesys_rate_limited_total" in text
    assert "media_bridge_genesys_requests_total" in text
    names = {line.split("{")[0].split()[0] for line in text.splitlines() if line[:1] != "#"}
    # the standard process and Python collectors keep their own names
    ours = {name for name in names if name and not name.startswith(STANDARD_PREFIXES)}
    assert all(name.startswith("media_bridge_") for name in ours), ours
    assert "process_resident_memory_bytes" in names
    assert "python_info" in names
    assert not [name for name in names if name.endswith("_created")]


async def test_a_duplicate_detail_event_reopens_its_watch_and_adds_nothing(
    emu: EmulatorHandle, intake: Intake
) -> None:
    """The 202 tells new keys (``jobs_added``) from conversation watches revived
    (``jobs_reopened``): the same messaging detail event again only reopens its watch."""
    event = next(
        e for e in scenario_events(emu.state) if e["detail-type"].endswith(".customer.start")
    )
    body = json.dumps(event).encode()
    first = await intake.post(body)
    again = await intake.post(body)

    assert first == (202, {**first[1], "jobs_added": 1, "jobs_reopened": 0})
    assert again == (202, {**again[1], "jobs_added": 0, "jobs_reopened": 1})
