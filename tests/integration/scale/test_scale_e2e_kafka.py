"""End to end: emulator -> Kafka (Tansu) -> 3 worker processes -> PostgreSQL -> claim check.

The claim check stores the bytes in S3 (moto) and publishes one metadata record per
delivered attachment to a Kafka topic. Workers are SIGKILLed at random moments and
restarted, and the broker itself is stopped and restarted once. Afterwards: every
attachment has a claim-check record (deduplicated by job key, as a consumer must:
delivery is at least once) whose sha256 matches the emulator's bytes, any repeated
record points at the same bytes, and the consumer group has committed every event offset.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import aioboto3  # type: ignore[import-untyped]
import asyncpg
import pytest
from confluent_kafka import Consumer, TopicPartition
from scripts.infra import MotoServer, PostgresServer, TansuBroker

from genesys_emulator.event_sinks import send_all
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import running_emulator
from tests.integration.scale.e2e_harness import (
    WorkerFleet,
    chaos,
    expected_attachments,
    scenario,
    wait_for,
    worker_env,
)

pytestmark = pytest.mark.integration

PARTITIONS = 6
GROUP_TIMEOUTS = "max_poll_interval_ms=6000&session_timeout_ms=6000"


@pytest.fixture
def pg_e2e_url(pg_server: PostgresServer) -> Iterator[str]:
    name = f"mb_e2ek_{secrets.token_hex(4)}"
    url = pg_server.create_database(name)
    yield url
    pg_server.drop_database(name)


def read_topic(
    broker: TansuBroker, topic: str, idle_s: float = 4.0, until: int | None = None
) -> list[Any]:
    """Every record of ``topic`` (a fresh group from the start), until idle.

    With ``until``: keep reading (up to 30 s idle) until that many distinct job keys.
    """
    consumer = Consumer(
        {
            "bootstrap.servers": broker.bootstrap,
            "group.id": f"check-{secrets.token_hex(4)}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "max.poll.interval.ms": 6000,
            "session.timeout.ms": 6000,
        }
    )
    consumer.subscribe([topic])
    records: list[Any] = []
    keys: set[bytes] = set()
    first_deadline = time.monotonic() + 20  # the group join takes a few seconds
    last: float | None = None
    if until is not None:
        idle_s = 30.0
    try:
        while True:
            message = consumer.poll(0.5)
            now = time.monotonic()
            if message is not None and not message.error():
                records.append(message)
                keys.add(cast(bytes, dict(message.headers() or []).get("job-key", b"")))
                last = now
                if until is not None and len(keys) >= until:
                    return records
            elif (last is None and now > first_deadline) or (
                last is not None and now - last > idle_s
            ):
                return records
    finally:
        consumer.close()


def committed(broker: TansuBroker, topic: str, group: str) -> dict[int, int]:
    probe = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group})
    try:
        wanted = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        return {tp.partition: tp.offset for tp in probe.committed(wanted, timeout=10)}
    finally:
        probe.close()


async def active_jobs(url: str) -> int | None:
    try:
        conn = await asyncpg.connect(url)
    except OSError:
        return None
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM jobs WHERE state IN ('pending', 'running', 'retry')"
            )
        )
    except asyncpg.UndefinedTableError:  # no worker has migrated the schema yet
        return None
    finally:
        await conn.close()


@pytest.fixture
def tansu_out(tmp_path: Path) -> Iterator[TansuBroker]:
    """The broker of the claim-check topic (in memory, never restarted)."""
    broker = TansuBroker(log_path=tmp_path / "tansu-out.log").start()
    yield broker
    broker.stop()


async def run_kafka_pipeline(
    tansu: TansuBroker,
    out: TansuBroker,
    moto: MotoServer,
    pg_url: str,
    tmp_path: Path,
    attachments: int,
    kills: int,
    timeout: float,
    min_kills: int = 1,
    pause: tuple[float, float] = (1.0, 3.0),
) -> None:
    suffix = secrets.token_hex(3)
    events_topic, media_topic, group = f"genesys-{suffix}", f"media-{suffix}", f"bridge-{suffix}"
    tansu.create_topic(events_topic, PARTITIONS)
    # The claim checks go to a second broker that is not restarted: Tansu 0.6 with its
    # S3 storage was seen to lose records acknowledged shortly before a restart while
    # producers were writing (offsets reused), which no client can protect against.
    out.create_topic(media_topic, 3)
    bucket = f"claims-{suffix}"
    async with aioboto3.Session().client("s3", endpoint_url=moto.endpoint_url) as s3:
        await s3.create_bucket(Bucket=bucket)
    store = quote(f"s3://{bucket}/voice?endpoint_url={moto.endpoint_url}", safe="")
    sink = f"kafka://{out.bootstrap}/{media_topic}?store={store}"
    source = f"kafka:{events_topic}?bootstrap={tansu.bootstrap}&group={group}&{GROUP_TIMEOUTS}"
    with running_emulator(scenario(attachments, seed=9)) as emu:
        expected = expected_attachments(emu)
        assert len(expected) == attachments
        events = scenario_events(emu.state)
        await send_all([f"kafka://{tansu.bootstrap}/{events_topic}"], events)
        # the offsets the group must end up committing: one past each partition's last record
        ends: dict[int, int] = {}
        for record in await asyncio.to_thread(read_topic, tansu, events_topic):
            ends[record.partition()] = max(ends.get(record.partition(), 0), record.offset() + 1)
        assert sum(ends.values()) == len(events)

        (tmp_path / "logs").mkdir()
        fleet = WorkerFleet(source, worker_env(emu, tmp_path, pg_url, sink), tmp_path / "logs")
        fleet.start_all(3)
        try:
            loop = asyncio.get_running_loop()

            async def finished() -> bool:
                # offsets first: a commit follows the recording of the event's jobs, so once
                # every offset is committed every job is in the ledger; then none may be left
                found = await asyncio.to_thread(committed, tansu, events_topic, group)
                if not all(found.get(p, -1) >= end for p, end in ends.items()):
                    return False
                return await active_jobs(pg_url) == 0

            async def restart_broker_once() -> None:
                await asyncio.sleep(4)
                await loop.run_in_executor(None, tansu.stop)
                await asyncio.sleep(1.5)
                await loop.run_in_executor(None, tansu.start)

            await asyncio.gather(
                restart_broker_once(),
                chaos(fleet, kills, finished, random.Random(attachments), pause=pause),
                wait_for(finished, timeout, fleet, every=1.0),
            )
            # every kill happened while work was left (chaos checks before each one)
            assert fleet.kills >= min_kills
        finally:
            fleet.stop_all()

    records = await asyncio.to_thread(read_topic, out, media_topic, until=len(expected))
    by_key: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        body = json.loads(record.value())
        headers = dict(record.headers() or [])
        assert headers["job-key"].decode() == body["key"]
        assert record.key().decode() == body["conversationId"]
        assert len(record.value()) < 8192, "a pointer, never the audio"
        by_key.setdefault(body["key"], []).append(body)
    missing = set(expected) - set(by_key)
    if missing:  # where the ledger says the sink put them, against what the topic holds
        conn = await asyncpg.connect(pg_url)
        try:
            rows = await conn.fetch(
                "SELECT key, state, result FROM jobs WHERE key = ANY($1::text[])", list(missing)
            )
        finally:
            await conn.close()
        tails: dict[int, int] = {}
        for record in records:
            tails[record.partition()] = max(tails.get(record.partition(), -1), record.offset())
        raise AssertionError(
            f"{len(missing)} claim checks missing; ledger: {[dict(r) for r in rows]}; "
            f"last offsets read per partition: {tails}"
        )
    assert set(by_key) == set(expected), "every attachment has a claim check, nothing else"
    for key, bodies in by_key.items():
        [original] = [f for f in bodies[0]["files"] if f["role"] == "original"]
        assert original["sha256"] == expected[key]
        assert original["uri"].startswith(f"s3://{bucket}/voice/")
        # a repeat (a worker killed between the write and "done") points at the same bytes
        first = json.dumps(pointer(bodies[0]), sort_keys=True)
        assert all(json.dumps(pointer(b), sort_keys=True) == first for b in bodies), key
    repeats = sum(len(b) - 1 for b in by_key.values())
    print(f"claim-check records: {len(records)} for {len(by_key)} keys ({repeats} repeats)")


def pointer(body: dict[str, Any]) -> dict[str, Any]:
    """What a claim check points at (metadata like ``delivered_at`` may differ per repeat)."""
    return {k: body[k] for k in ("key", "kind", "conversationId", "files", "location", "sidecar")}


async def test_kafka_fleet_survives_kill9_and_broker_restart(
    tansu: TansuBroker,
    tansu_out: TansuBroker,
    moto_server: MotoServer,
    pg_e2e_url: str,
    tmp_path: Path,
) -> None:
    await run_kafka_pipeline(
        tansu, tansu_out, moto_server, pg_e2e_url, tmp_path, attachments=150, kills=3, timeout=100
    )


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_kafka_fleet_1000_attachments_10_kills(
    tansu: TansuBroker,
    tansu_out: TansuBroker,
    moto_server: MotoServer,
    pg_e2e_url: str,
    tmp_path: Path,
) -> None:
    await run_kafka_pipeline(
        tansu,
        tansu_out,
        moto_server,
        pg_e2e_url,
        tmp_path,
        attachments=1000,
        kills=10,
        min_kills=10,
        timeout=800,
        pause=(0.3, 1.0),
    )
