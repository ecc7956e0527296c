"""`media-bridge run` serves /healthz, /readyz and /metrics on its operations port for any
source; /readyz means ready (a worker needs a token, an intake a ledger that takes
writes, whatever Genesys does); the ledger, audio, sink, budget and token metrics appear
after an emulator run."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import running_emulator
from media_bridge.audiohook.client import ClientConfig, run_session
from media_bridge.config import OperationsSettings
from media_bridge.ledger import ledger_from_url
from media_bridge.operations.port import Readiness, serving_operations
from tests.integration.bridge.harness import free_port
from tests.integration.bridge.observable import (
    base_env,
    get,
    get_json,
    metric_names,
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


@dataclass(frozen=True)
class RunOutcome:
    ready_status: int | None
    ready: dict[str, Any]
    metrics: str


@pytest.fixture(scope="module")
def emulator_run(tmp_path_factory: pytest.TempPathFactory) -> RunOutcome:
    """One `media-bridge run --source file:...` against the emulator, until its jobs
    settle: its /readyz and /metrics then (shared by the tests of this module)."""
    tmp_path = tmp_path_factory.mktemp("run")
    config = EmulatorConfig(
        scenario=ScenarioConfig(
            seed=3, messaging_conversations=2, voice_conversations=1, call_seconds=6.0
        )
    )
    with running_emulator(config) as emu:
        events = tmp_path / "events.jsonl"
        lines = [json.dumps(e) for e in scenario_events(emu.state)]
        # a conversation the org does not know: its jobs die (not_found)
        lines.append(json.dumps(voice_note_event("no-such-conversation")))
        events.write_text("\n".join(lines) + "\n")
        env = base_env(tmp_path, {**emu.env(), "MEDIA_BRIDGE_VOICE__RECORDING_DELAY_S": "0"})
        with running_bridge(env, f"file:{events}") as bridge:
            _wait_settled(bridge.ops_url)
            status, ready = get_json(f"{bridge.ops_url}/readyz")
            assert get(f"{bridge.ops_url}/healthz") == (200, "ok")
            metrics_status, text = get(f"{bridge.ops_url}/metrics")
            assert metrics_status == 200
            assert get(f"{bridge.intake_url}/healthz")[0] is None, "no intake without http"
    return RunOutcome(status, ready, text)


def test_a_file_worker_serves_the_three_endpoints_and_the_new_metrics(
    emulator_run: RunOutcome,
) -> None:
    assert emulator_run.ready_status == 200, emulator_run.ready
    assert emulator_run.ready == {
        "ready": True,
        "role": "worker",
        "checks": {"ledger": "ok", "token": "ok"},
    }
    text = emulator_run.metrics
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
    from media_bridge.operations.bridge import ledger_check

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


# -- the dashboard and the alert rules ----------------------------------------------------

DEPLOY = Path(__file__).parents[3] / "deploy"
RULES = DEPLOY / "prometheus" / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "media-bridge.json"
METRIC = re.compile(r"\b((?:media_bridge|process|python)_[a-z0-9_]+)\b")
DURATION = re.compile(r"^[0-9]+[smhdwy]$")


def _rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text())
    assert isinstance(doc, dict)
    assert set(doc) == {"groups"}
    rules: list[dict[str, Any]] = []
    for group in doc["groups"]:
        assert set(group) <= {"name", "interval", "rules"}
        assert isinstance(group["name"], str)
        assert group["rules"]
        rules += group["rules"]
    return rules


def _dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p["targets"]]


def test_the_alert_rules_have_the_prometheus_shape() -> None:
    rules = _rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", rule["alert"])
        assert isinstance(rule["expr"], str)
        assert METRIC.search(rule["expr"]), rule["expr"]
        assert rule["expr"].count("(") == rule["expr"].count(")")
        assert DURATION.match(str(rule["for"])), rule["for"]
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert {"summary", "description"} <= set(rule["annotations"])
    wanted = {
        "MediaBridgeDeadJobsGrowing": "media_bridge_dead_jobs",
        "MediaBridgeOldestDueJobTooOld": "media_bridge_oldest_due_job_age_seconds",
        "MediaBridgeRateLimited": "media_bridge_genesys_rate_limited_total",
        "MediaBridgeTokenFailures": "media_bridge_token_failures_total",
        "MediaBridgeAudioHookSignatureFailures": "media_bridge_audiohook_signature_failures_total",
        "MediaBridgeNoEvents": "media_bridge_events_total",
    }
    by_name = {rule["alert"]: rule["expr"] for rule in rules}
    for alert, metric in wanted.items():
        assert metric in METRIC.findall(by_name[alert]), (alert, by_name.get(alert))


def test_promtool_accepts_the_rules() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not on PATH (`make promtool` installs Debian's prometheus)")
    done = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_dashboard_has_the_grafana_shape() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["title"]
    assert dashboard["uid"]
    assert isinstance(dashboard["schemaVersion"], int)
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["type"] == "timeseries"
        assert panel["title"]
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"}
        assert panel["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
        assert panel["targets"]
        refs = [target["refId"] for target in panel["targets"]]
        assert len(refs) == len(set(refs))
        for target in panel["targets"]:
            assert METRIC.search(target["expr"]), target["expr"]
            assert target["expr"].count("(") == target["expr"].count(")")


async def _audiohook_exposition(tmp_path: Path) -> str:
    """/metrics of an AudioHook server after one call and one refused upgrade."""
    from media_bridge.audiohook.metrics import REGISTRY
    from media_bridge.audiohook.server import AudioHookServer
    from media_bridge.audiohook.settings import AudioHookSettings, ChunkSinkSettings

    settings = AudioHookSettings(
        port=0,
        api_keys={"k": None},
        auth_failure_delay_s=0,
        spool_dir=tmp_path / "spool",
        sink=ChunkSinkSettings(dir_path=tmp_path / "audiohook"),
    )
    async with AudioHookServer(settings) as server:
        uri = f"ws://127.0.0.1:{server.port}{settings.path}"
        async with serving_operations(
            OperationsSettings(port=free_port()), server.readiness(), registry=REGISTRY
        ) as ops:
            report = await run_session(
                ClientConfig(uri=uri, api_key="k", realtime=False, duration_s=1.0)
            )
            assert report.closed, report.violations
            refused = await run_session(ClientConfig(uri=uri, api_key="nope", duration_s=1.0))
            assert refused.http_status == 401
            async with aiohttp.ClientSession() as session, session.get(f"{ops}/metrics") as got:
                assert got.status == 200
                return await got.text()


async def test_every_metric_of_the_rules_and_the_dashboard_is_exported(
    emulator_run: RunOutcome, tmp_path: Path
) -> None:
    audiohook = await _audiohook_exposition(tmp_path)
    failures = 'media_bridge_audiohook_signature_failures_total{code="UNSIGNED"}'
    # the AudioHook registry is per process: another test's session may have counted too
    assert samples(audiohook)[failures] >= 1
    exported = metric_names(emulator_run.metrics) | metric_names(audiohook)
    used = {name for expr in [r["expr"] for r in _rules()] for name in METRIC.findall(expr)}
    used |= {name for expr in _dashboard_exprs() for name in METRIC.findall(expr)}
    assert len(used) >= 20
    assert sorted(used - exported) == []
