"""An SQS worker (`media-bridge run --source sqs:...`, PostgreSQL ledger) serves /healthz,
/readyz and /metrics on its operations port; before, an SQS or Kafka worker served none.
Its ledger gauges come from PostgreSQL."""

from __future__ import annotations

import json
import time
from pathlib import Path

import aioboto3  # type: ignore[import-untyped]
import pytest
from scripts.infra import AWS_TEST_ENV, MotoServer

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import running_emulator
from media_bridge.ledger.postgres import PostgresLedger
from media_bridge.types import JobState
from tests.integration.bridge.observable import base_env, get, get_json, running_bridge, samples
from tests.integration.scale.test_scale_sqs_source import make_queue

pytestmark = pytest.mark.integration


async def test_an_sqs_worker_is_observable(
    moto_server: MotoServer, pg_url: str, pg_ledger: PostgresLedger, tmp_path: Path
) -> None:
    config = EmulatorConfig(
        scenario=ScenarioConfig(seed=2, messaging_conversations=2, voice_conversations=0)
    )
    async with aioboto3.Session().client("sqs", endpoint_url=moto_server.endpoint_url) as sqs:
        queue, _ = await make_queue(sqs)
        with running_emulator(config) as emu:
            for event in scenario_events(emu.state):
                await sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(event))
            source = f"sqs:{queue}?endpoint_url={moto_server.endpoint_url}&wait_seconds=1"
            env = base_env(
                tmp_path, {**AWS_TEST_ENV, **emu.env(), "MEDIA_BRIDGE_LEDGER__URL": pg_url}
            )
            with running_bridge(env, source) as bridge:
                deadline = time.monotonic() + 90
                while True:
                    found = samples(get(f"{bridge.ops_url}/metrics")[1])
                    waiting = sum(
                        found.get(f'media_bridge_jobs{{state="{state}"}}', 1)
                        for state in ("pending", "running", "retry")
                    )
                    if not waiting and found.get('media_bridge_jobs{state="done"}', 0) > 0:
                        break
                    assert time.monotonic() < deadline, found
                    time.sleep(0.3)
                status, ready = get_json(f"{bridge.ops_url}/readyz")
                assert get(f"{bridge.ops_url}/healthz") == (200, "ok")
    assert status == 200, ready
    assert ready == {"ready": True, "role": "worker", "checks": {"ledger": "ok", "token": "ok"}}
    assert found["media_bridge_ledger_up"] == 1
    assert found['media_bridge_jobs{state="dead"}'] == 0
    assert found["media_bridge_oldest_due_job_age_seconds"] == 0
    counts = await pg_ledger.counts()
    assert found['media_bridge_jobs{state="done"}'] == counts[JobState.DONE]
