"""End to end: emulator -> EventBridge (moto) -> SQS -> 3 worker processes -> PostgreSQL -> S3.

Workers are real ``media-bridge run`` processes (settings via env), killed with
SIGKILL at random moments and restarted. Afterwards every attachment is in S3 once
(one object per key, bytes matching the emulator's sha256), the ledger has nothing
left to do, and the queue holds no message, visible or in flight.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import secrets
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aioboto3  # type: ignore[import-untyped]
import asyncpg
import pytest
from scripts.infra import MotoServer, PostgresServer

from genesys_emulator.event_sinks import send_all
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import EmulatorHandle, running_emulator
from tests.integration.scale.e2e_harness import (
    WorkerFleet,
    chaos,
    expected_attachments,
    scenario,
    wait_for,
    worker_env,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def pg_e2e_url(pg_server: PostgresServer) -> Iterator[str]:
    name = f"mb_e2e_{secrets.token_hex(4)}"
    url = pg_server.create_database(name)
    yield url
    pg_server.drop_database(name)


async def setup_aws(moto: MotoServer) -> tuple[str, str, str, str]:
    """A bus with a Genesys rule targeting a queue (with a DLQ), and a bucket."""
    suffix = secrets.token_hex(3)
    session = aioboto3.Session()
    async with (
        session.client("sqs", endpoint_url=moto.endpoint_url) as sqs,
        session.client("events", endpoint_url=moto.endpoint_url) as events,
        session.client("s3", endpoint_url=moto.endpoint_url) as s3,
    ):
        dlq = (await sqs.create_queue(QueueName=f"genesys-dlq-{suffix}"))["QueueUrl"]
        dlq_arn = (await sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"]))[
            "Attributes"
        ]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "10"})
        queue = (
            await sqs.create_queue(
                QueueName=f"genesys-{suffix}", Attributes={"RedrivePolicy": redrive}
            )
        )["QueueUrl"]
        arn = (await sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"]))[
            "Attributes"
        ]["QueueArn"]
        bus = f"genesys-{suffix}"
        await events.create_event_bus(Name=bus)
        pattern = json.dumps({"source": [{"prefix": "aws.partner/genesys.com"}]})
        await events.put_rule(Name="genesys-to-sqs", EventBusName=bus, EventPattern=pattern)
        await events.put_targets(
            Rule="genesys-to-sqs", EventBusName=bus, Targets=[{"Id": "sqs", "Arn": arn}]
        )
        bucket = f"voice-{suffix}"
        await s3.create_bucket(Bucket=bucket)
    return bus, queue, dlq, bucket


async def queue_depth(moto: MotoServer, queue: str) -> int:
    async with aioboto3.Session().client("sqs", endpoint_url=moto.endpoint_url) as sqs:
        attrs = (
            await sqs.get_queue_attributes(
                QueueUrl=queue,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )
        )["Attributes"]
    return sum(int(v) for v in attrs.values())


async def active_jobs(ledger_url: str) -> int:
    conn = await asyncpg.connect(ledger_url)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM jobs WHERE state IN ('pending', 'running', 'retry')"
            )
        )
    finally:
        await conn.close()


async def delivered_objects(moto: MotoServer, bucket: str) -> dict[str, dict[str, Any]]:
    """Sidecar objects by job key (one per delivered attachment)."""
    found: dict[str, dict[str, Any]] = {}
    async with aioboto3.Session().client("s3", endpoint_url=moto.endpoint_url) as s3:
        paginator = s3.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=bucket, Prefix="voice/"):
            for item in page.get("Contents", []):
                if item["Key"].endswith(".json"):
                    body = await (await s3.get_object(Bucket=bucket, Key=item["Key"]))[
                        "Body"
                    ].read()
                    record = json.loads(body)
                    found[record["key"]] = record
    return found


async def object_sha256(moto: MotoServer, bucket: str, key: str) -> str:
    async with aioboto3.Session().client("s3", endpoint_url=moto.endpoint_url) as s3:
        body = await (await s3.get_object(Bucket=bucket, Key=key))["Body"].read()
    return hashlib.sha256(body).hexdigest()


async def run_sqs_pipeline(
    moto: MotoServer,
    pg_url: str,
    tmp_path: Path,
    attachments: int,
    kills: int,
    timeout: float,
    min_kills: int = 1,
    outage: Callable[[], Awaitable[None]] | None = None,
) -> None:
    bus, queue, dlq, bucket = await setup_aws(moto)
    with running_emulator(scenario(attachments)) as emu:
        expected = expected_attachments(emu)
        assert len(expected) == attachments
        sink = f"s3://{bucket}/voice?endpoint_url={moto.endpoint_url}"
        source = (
            f"sqs:{queue}?endpoint_url={moto.endpoint_url}&wait_seconds=1&visibility_timeout=20"
        )
        (tmp_path / "logs").mkdir()
        fleet = WorkerFleet(source, worker_env(emu, tmp_path, pg_url, sink), tmp_path / "logs")
        fleet.start_all(3)
        try:
            delivered: dict[str, dict[str, Any]] = {}

            async def finished() -> bool:
                nonlocal delivered
                if await active_jobs_or_none(pg_url) != 0:
                    return False
                delivered = await delivered_objects(moto, bucket)
                return set(delivered) >= set(expected) and await queue_depth(moto, queue) == 0

            events = scenario_events(emu.state)
            bus_url = f"eventbridge://{bus}?endpoint_url={moto.endpoint_url}&region=us-east-1"
            # workers run (and get killed) while the events are still being published
            await asyncio.gather(
                send_all([bus_url], events),
                chaos(fleet, kills, finished, random.Random(attachments)),
                wait_for(finished, timeout, fleet),
                *([outage()] if outage else []),
            )
            # every kill happened while work was left (chaos checks before each one)
            assert fleet.kills >= min_kills
        finally:
            fleet.stop_all()
        check_emulator_served(emu)
    assert set(delivered) == set(expected), "every attachment delivered, nothing else"
    for key, record in delivered.items():
        [original] = [f for f in record["files"] if f["role"] == "original"]
        assert original["sha256"] == expected[key], key
    # Spot-check the bytes themselves (sha256 of the stored object, not just its sidecar).
    for key in random.Random(1).sample(sorted(delivered), min(25, len(delivered))):
        [original] = [f for f in delivered[key]["files"] if f["role"] == "original"]
        object_key = original["uri"].split("/", 3)[3]
        assert await object_sha256(moto, bucket, object_key) == expected[key]
    assert await queue_depth(moto, queue) == 0
    assert await queue_depth(moto, dlq) == 0
    conn = await asyncpg.connect(pg_url)
    try:
        rows = await conn.fetch("SELECT state, count(*) FROM jobs GROUP BY state")
        states: dict[str, int] = {row[0]: row[1] for row in rows}
    finally:
        await conn.close()
    assert states.get("dead", 0) == 0
    assert states.get("done", 0) >= attachments


def check_emulator_served(emu: EmulatorHandle) -> None:
    stats = emu.stats()
    assert stats, "the emulator answered the workers"


async def active_jobs_or_none(url: str) -> int | None:
    try:
        return await active_jobs(url)
    except (OSError, asyncpg.PostgresError):
        return None


async def test_sqs_fleet_delivers_every_attachment_once_despite_kill9(
    moto_server: MotoServer, pg_e2e_url: str, tmp_path: Path
) -> None:
    await run_sqs_pipeline(moto_server, pg_e2e_url, tmp_path, attachments=150, kills=3, timeout=100)


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_sqs_fleet_1000_attachments_10_kills(
    moto_server: MotoServer, pg_e2e_url: str, tmp_path: Path
) -> None:
    await run_sqs_pipeline(
        moto_server, pg_e2e_url, tmp_path, attachments=1000, kills=10, min_kills=10, timeout=800
    )


async def test_sqs_fleet_rides_out_a_postgresql_outage(
    moto_server: MotoServer, private_pg: PostgresServer, tmp_path: Path
) -> None:
    url = await asyncio.to_thread(private_pg.create_database, "bridge")
    done_at_outage: list[int] = []

    async def done_jobs() -> int:
        try:
            conn = await asyncpg.connect(url)
        except OSError:
            return 0
        try:
            return int(await conn.fetchval("SELECT count(*) FROM jobs WHERE state = 'done'"))
        except asyncpg.UndefinedTableError:
            return 0
        finally:
            await conn.close()

    async def outage() -> None:
        # mid-run: some attachments delivered, most not yet
        await wait_for(lambda: _at_least(done_jobs, 10), timeout=60, every=0.1)
        done_at_outage.append(await done_jobs())
        await asyncio.to_thread(private_pg.pause)
        await asyncio.sleep(4)
        await asyncio.to_thread(private_pg.resume)

    await run_sqs_pipeline(
        moto_server, url, tmp_path, attachments=100, kills=1, timeout=120, outage=outage
    )
    assert done_at_outage, "PostgreSQL was stopped and started during the run"
    assert done_at_outage[0] < 100, "the outage hit while work was left"


async def _at_least(count: Callable[[], Awaitable[int]], n: int) -> bool:
    return await count() >= n
