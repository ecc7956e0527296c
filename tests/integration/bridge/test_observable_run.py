"""`media-bridge run` serves /healthz, /readyz and /metrics on its operations port for any
source; /readyz means ready (a worker needs a token, an intake a ledger that takes
writes, whatever Genesys does); the ledger, audio, sink, budget and token metrics appear
after an emulator run."""

from __future__ import annotations

import json
import time
from pathlib import Path

import aiohttp
import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import running_emulator
from media_bridge.config import OperationsSettings
from media_bridge.ledger import ledger_from_url
from media_bridge.operations import Readiness, serving_operations
from tests.integration.bridge.harness import free_port
from tests.integration.bridge.observable import (
    base_env,
    get,
    get_json,
    running_bridge,
    samples,
)
from tests.integration.poisoned import voice_note_event

pytestmark = pytest.mark.integration


def _wait_settled(ops_url: str, timeout_s: float = 90) -> dict[str, float]:
    """Poll /metrics until no job is pending, running or due for retry (and one is done)."""
    deadline = time.monotonic() + timeout_s
    while True:
        status, text = get(f"{ops_url}/metrics")
        assert status == 200
        found = samples(text)
        waiting = sum(
            found.get(f'media_bridge_jobs{{state="{state}"}}', 1)
            for state in ("pending", "running", "retry")
        )
        if not waiting and found.get('media_bridge_jobs{state="done"}', 0) > 0:
            return found
        assert time.monotonic() < deadline, {k: v for k, v in found.items() if "jobs" in k}
        time.sleep(0.3)


def test_a_file_worker_serves_the_three_endpoints_and_the_new_metrics(tmp_path: Path) -> None:
    config = EmulatorConfig(
        scenario=ScenarioConfig(
            seed=3, messaging_conversations=2, voice_conversations=1, call_seconds=6.0
        )
    )
    with running_emulator(config) as emu:
        events = tmp_path / "events.jsonl"
        lines = [json.dumps(e) for e in scenario_events(emu.state)]
        # a conversation the org does not know: its attachment job dies (not_found)
        lines.append(json.dumps(voice_note_event("no-such-conversation")))
        events.write_text("\n".join(lines) + "\n")
        env = base_env(tmp_path, {**emu.env(), "MEDIA_BRIDGE_VOICE__RECORDING_DELAY_S": "0"})
        with running_bridge(env, f"file:{events}") as bridge:
            found = _wait_settled(bridge.ops_url)
            status, ready = get_json(f"{bridge.ops_url}/readyz")
            assert status == 200, ready
            assert ready == {
                "ready": True,
                "role": "worker",
                "checks": {"ledger": "ok", "token": "ok"},
            }
            status, text = get(f"{bridge.ops_url}/metrics")
            assert status == 200
            assert get(f"{bridge.intake_url}/healthz")[0] is None, "no intake without http"
    found = samples(text)
    assert found['media_bridge_jobs{state="done"}'] >= 3
    assert found['media_bridge_dead_jobs{code="not_found"}'] >= 1
    assert found["media_bridge_oldest_due_job_age_seconds"] == 0
    assert found["media_bridge_ledger_up"] == 1
    assert found['media_bridge_audio_processing_seconds_count{step="normalize"}'] >= 1
    assert found['media_bridge_sink_delivery_seconds_count{outcome="ok",sink="dir"}'] >= 1
    assert found['media_bridge_sink_delivery_seconds_count{outcome="ok",sink="jsonl"}'] >= 1
    assert found["media_bridge_token_refreshes_total"] >= 1
    assert found["media_bridge_api_budget_per_minute"] == 0  # pacing off for the emulator
    assert any(k.startswith("media_bridge_genesys_requests_total{family=") for k in found)
    assert found['media_bridge_readiness_check{check="token"}'] == 1
    assert found["process_resident_memory_bytes"] > 0
    assert "python_info" in text


def test_a_worker_with_a_bad_client_secret_is_not_ready(tmp_path: Path) -> None:
    """Today's bug: a bridge without working credentials answered ready."""
    with running_emulator(EmulatorConfig(scenario=ScenarioConfig(seed=1))) as emu:
        (tmp_path / "none.jsonl").write_text("")
        env = base_env(tmp_path, {**emu.env(), "MEDIA_BRIDGE_GENESYS__CLIENT_SECRET": "wrong"})
        with running_bridge(env, f"file:{tmp_path / 'none.jsonl'}") as bridge:
            status, body = get_json(f"{bridge.ops_url}/readyz")
            assert status == 503, body
            assert body["ready"] is False
            assert body["role"] == "worker"
            assert body["checks"]["ledger"] == "ok"
            assert body["checks"]["token"].startswith("no token obtained: ")
            assert "credentials" in body["checks"]["token"]
            assert "wrong" not in json.dumps(body)
            assert get(f"{bridge.ops_url}/healthz")[0] == 200, "alive, only not ready"
            _, text = get(f"{bridge.ops_url}/metrics")
    found = samples(text)
    assert found['media_bridge_token_failures_total{code="credentials_rejected"}'] >= 1
    assert found['media_bridge_readiness_check{check="token"}'] == 0


def test_an_intake_is_ready_with_its_ledger_up_while_genesys_refuses(tmp_path: Path) -> None:
    """EventBridge must keep delivering while Genesys is away: the ledger owns retries."""
    with running_emulator(EmulatorConfig(scenario=ScenarioConfig(seed=1))) as emu:
        env = base_env(tmp_path, {**emu.env(), "MEDIA_BRIDGE_GENESYS__CLIENT_SECRET": "wrong"})
        with running_bridge(env, "http") as bridge:
            for url in (bridge.ops_url, bridge.intake_url):
                status, body = get_json(f"{url}/readyz")
                assert status == 200, body
                assert body["role"] == "intake"
                assert body["checks"] == {"ledger": "ok"}
                assert body["advisory"]["token"].startswith("no token obtained: ")
            assert get(f"{bridge.ops_url}/healthz")[0] == 200
            assert get(f"{bridge.ops_url}/metrics")[0] == 200


async def test_an_intake_whose_ledger_refuses_writes_is_not_ready(tmp_path: Path) -> None:
    from media_bridge.bridge_ops import ledger_check

    ledger = ledger_from_url(f"sqlite:///{tmp_path}/ledger.db")
    await ledger.open()
    readiness = Readiness("intake", {"ledger": ledger_check(ledger)})
    async with (
        serving_operations(OperationsSettings(port=free_port()), readiness) as url,
        aiohttp.ClientSession() as session,
    ):
        async with session.get(f"{url}/readyz") as answer:
            assert answer.status == 200
        await ledger.close()  # the ledger is away
        async with session.get(f"{url}/readyz") as answer:
            assert answer.status == 503
            body = await answer.json()
    assert body["ready"] is False
    assert body["checks"]["ledger"].startswith("ledger refuses writes: ")
