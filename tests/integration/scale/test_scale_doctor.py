"""`media-bridge doctor` against PostgreSQL, moto S3 and Tansu (Kafka): every check passes;
with a service unreachable, the failing check is named in one line."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import aioboto3  # type: ignore[import-untyped]
import pytest
from scripts.infra import MotoServer, TansuBroker

from genesys_emulator.testing import running_emulator

pytestmark = pytest.mark.integration


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _doctor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "media_bridge", "doctor"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _failed(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in done.stdout.splitlines() if line.startswith("FAIL")]


async def test_doctor_checks_postgres_s3_and_kafka(
    pg_url: str, moto_server: MotoServer, tansu: TansuBroker, tmp_path: Path
) -> None:
    suffix = secrets.token_hex(3)
    bucket, topic = f"doctor-{suffix}", f"nlp-{suffix}"
    async with aioboto3.Session().client("s3", endpoint_url=moto_server.endpoint_url) as s3:
        await s3.create_bucket(Bucket=bucket)
    tansu.create_topic(topic, 1)
    port = _closed_port()
    base = {
        "MEDIA_BRIDGE_LEDGER__URL": pg_url,
        "MEDIA_BRIDGE_SINKS__MEDIA": f"s3://{bucket}/voice?endpoint_url={moto_server.endpoint_url}",
        "MEDIA_BRIDGE_SINKS__TEXT": f"kafka://{tansu.bootstrap}/{topic}",
        "MEDIA_BRIDGE_SINKS__DIR_PATH": str(tmp_path / "out"),
        "MEDIA_BRIDGE_INTAKE__API_KEY": "k",
    }
    with running_emulator() as emu:
        good = _doctor({**emu.env(), **base})
        s3_down = _doctor(
            {
                **emu.env(),
                **base,
                "MEDIA_BRIDGE_SINKS__MEDIA": f"s3://{bucket}/v?endpoint_url=http://127.0.0.1:{port}",
            }
        )
        kafka_down = _doctor(
            {**emu.env(), **base, "MEDIA_BRIDGE_SINKS__TEXT": f"kafka://127.0.0.1:{port}/{topic}"}
        )
    assert good.returncode == 0, good.stdout + good.stderr
    lines = good.stdout.splitlines()
    assert any(line.startswith("ok    ledger postgresql://") for line in lines), good.stdout
    assert any(line.startswith(f"ok    media sink s3://{bucket}/voice/") for line in lines)
    assert any(
        line.startswith(f"ok    text sink kafka://{tansu.bootstrap}/{topic}") for line in lines
    )
    assert any(line.startswith("ok    intake") for line in lines)
    async with aioboto3.Session().client("s3", endpoint_url=moto_server.endpoint_url) as s3:
        listed = await s3.list_objects_v2(Bucket=bucket)
    assert listed.get("KeyCount", 0) == 0  # the probe object was removed

    assert s3_down.returncode == 1
    assert len(_failed(s3_down)) == 1, s3_down.stdout
    assert _failed(s3_down)[0].startswith(f"FAIL  media sink s3://{bucket}/v/")
    assert kafka_down.returncode == 1
    assert len(_failed(kafka_down)) == 1, kafka_down.stdout
    assert _failed(kafka_down)[0].startswith(f"FAIL  text sink kafka://127.0.0.1:{port}/{topic}")
