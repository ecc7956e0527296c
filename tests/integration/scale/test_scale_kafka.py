"""Kafka source and sinks against a real Tansu broker."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from pathlib import Path
from typing import Any

import aioboto3  # type: ignore[import-untyped]
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from scripts.infra import MotoServer, TansuBroker

from media_bridge.intake.ingest import Intake
from media_bridge.intake.sources.base import RawEvent
from media_bridge.intake.sources.kafka import KafkaAckHandle, KafkaSource
from media_bridge.ledger import Ledger
from media_bridge.sinks.kafka import AsyncProducer, KafkaClaimCheckSink, KafkaTextSink
from media_bridge.sinks.s3 import S3MediaSink
from media_bridge.types import DeliveredFile, Delivery, JobKind
from tests.integration.poisoned import POISONS, good_keys, job_keys, poisoned_line, voice_note_event

pytestmark = pytest.mark.integration

#: Tansu completes a group join within about the rebalance timeout (max.poll.interval.ms)
GROUP_CONFIG = {"max.poll.interval.ms": 6000, "session.timeout.ms": 6000}


def produce(broker: TansuBroker, topic: str, n: int) -> None:
    producer = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": True})
    for i in range(n):
        producer.produce(topic, key=f"conv-{i % 7}", value=json.dumps({"i": i}).encode())
    assert producer.flush(15) == 0


def committed(broker: TansuBroker, topic: str, group: str, partitions: int) -> dict[int, int]:
    probe = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group})
    try:
        answer = probe.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
    finally:
        probe.close()
    return {tp.partition: tp.offset for tp in answer}


async def test_offsets_are_committed_only_behind_acks(tansu: TansuBroker) -> None:
    topic, group = f"ev-{secrets.token_hex(3)}", f"g-{secrets.token_hex(3)}"
    tansu.create_topic(topic, partitions=3)
    await asyncio.to_thread(produce, tansu, topic, 30)
    source = KafkaSource(tansu.bootstrap, [topic], group, extra_config=GROUP_CONFIG)
    got: list[RawEvent] = []

    async def drain() -> None:
        async for batch in source.batches():
            got.extend(batch)
            if len(got) >= 30:
                return

    await asyncio.wait_for(drain(), 60)
    assert sorted(json.loads(e.body)["i"] for e in got) == list(range(30))
    by_partition: dict[int, list[RawEvent]] = {}
    for event in got:
        assert isinstance(event.ack_handle, KafkaAckHandle)
        by_partition.setdefault(event.ack_handle.partition, []).append(event)
    # Per partition: ack the first two and the fourth; the third is still running.
    expected: dict[int, int] = {}
    for partition, events in by_partition.items():
        events.sort(key=lambda e: e.ack_handle.offset)
        await source.ack([e for i, e in enumerate(events) if i in (0, 1, 3)])
        expected[partition] = events[min(2, len(events)) - 1].ack_handle.offset + 1
    assert source.in_flight == 30 - sum(min(3, len(v)) for v in by_partition.values())
    await source.commit_now()
    await source.close()
    found = await asyncio.to_thread(committed, tansu, topic, group, 3)
    assert {p: found[p] for p in expected} == expected


async def test_rebalance_loses_nothing(tansu: TansuBroker) -> None:
    topic, group = f"ev-{secrets.token_hex(3)}", f"g-{secrets.token_hex(3)}"
    tansu.create_topic(topic, partitions=4)
    await asyncio.to_thread(produce, tansu, topic, 60)
    first = KafkaSource(tansu.bootstrap, [topic], group, extra_config=GROUP_CONFIG)
    second = KafkaSource(tansu.bootstrap, [topic], group, extra_config=GROUP_CONFIG)
    seen: dict[str, list[int]] = {"first": [], "second": []}
    held: list[RawEvent] = []
    where: dict[int, tuple[int, int]] = {}  # value -> (partition, offset)
    ends: dict[int, int] = {}  # partition -> one past the last offset (Tansu's watermarks lag)

    async def run(name: str, source: KafkaSource, hold_odd: bool) -> None:
        async for batch in source.batches():
            for event in batch:
                value = json.loads(event.body)["i"]
                handle = event.ack_handle
                ends[handle.partition] = max(ends.get(handle.partition, 0), handle.offset + 1)
                where[value] = (handle.partition, handle.offset)
                seen[name].append(value)
                if hold_odd and value % 2:
                    held.append(event)  # still "running" when the rebalance comes
                else:
                    await source.ack([event])

    task_first = asyncio.create_task(run("first", first, hold_odd=True))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while len(seen["first"]) < 60 and loop.time() < deadline:
        await asyncio.sleep(0.1)
    assert len(seen["first"]) == 60
    task_second = asyncio.create_task(run("second", second, hold_odd=False))
    try:
        # After the rebalance, the first worker finishes its held events: acks of
        # partitions it lost are ignored, their records are re-read by the second.
        while not second._partitions and loop.time() < deadline:
            await asyncio.sleep(0.1)
        await first.ack(held)
        hw = dict(ends)
        assert sum(hw.values()) == 60
        while loop.time() < deadline:
            await first.commit_now()
            await second.commit_now()
            if await asyncio.to_thread(committed, tansu, topic, group, 4) == hw:
                break
            await asyncio.sleep(0.3)
        assert await asyncio.to_thread(committed, tansu, topic, group, 4) == hw
    finally:
        task_first.cancel()
        task_second.cancel()
        await asyncio.gather(task_first, task_second, return_exceptions=True)
        await first.close()
        await second.close()
    assert seen["second"], "the second worker got partitions"
    assert set(seen["first"]) | set(seen["second"]) == set(range(60))
    # Re-reads start at the first record held (unacknowledged) in a moved partition:
    # everything before it was committed on revoke and is not read again.
    first_held: dict[int, int] = {}
    for event in held:
        p, o = event.ack_handle.partition, event.ack_handle.offset
        first_held[p] = min(first_held.get(p, o), o)
    reread = set(seen["second"]) & set(seen["first"])
    assert reread, "the moved partitions' held records were read again"
    for value in reread:
        partition, offset = where[value]
        assert offset >= first_held[partition]


async def test_claim_check_and_text_sinks(
    tansu: TansuBroker, moto_server: MotoServer, tmp_path: Path
) -> None:
    bucket = f"media-{secrets.token_hex(3)}"
    async with aioboto3.Session().client("s3", endpoint_url=moto_server.endpoint_url) as s3:
        await s3.create_bucket(Bucket=bucket)
    topic, text_topic = f"media-{secrets.token_hex(3)}", f"nlp-{secrets.token_hex(3)}"
    tansu.create_topic(topic, partitions=3)
    tansu.create_topic(text_topic, partitions=3)
    audio = b"OggS" + secrets.token_bytes(200_000)
    path = tmp_path / "note.ogg"
    path.write_bytes(audio)
    delivery = Delivery(
        key="attachment:conv-9:msg-1:media-2",
        kind=JobKind.ATTACHMENT,
        conversation_id="conv-9",
        metadata={"channel": "whatsapp"},
        files=[
            DeliveredFile(
                "original", path, "audio/ogg", hashlib.sha256(audio).hexdigest(), len(audio)
            )
        ],
    )
    producer = AsyncProducer(tansu.bootstrap)
    sink = KafkaClaimCheckSink(
        S3MediaSink(bucket, endpoint_url=moto_server.endpoint_url), producer, topic
    )
    text_sink = KafkaTextSink(AsyncProducer(tansu.bootstrap), text_topic)
    try:
        result = await sink.deliver(delivery)
        text_result = await text_sink.deliver_text(
            "text:conv-9:msg-7", {"conversationId": "conv-9", "text": "hola"}
        )
    finally:
        await sink.close()
        await text_sink.close()
    assert result["location"] == f"s3://{bucket}/conv-9/msg-1_media-2.original.ogg"
    assert text_result["topic"] == text_topic

    records = await asyncio.to_thread(read_all, tansu, [topic, text_topic], 2)
    media = next(r for r in records if r["topic"] == topic)
    assert media["key"] == b"conv-9"
    assert ("job-key", delivery.key.encode()) in media["headers"]
    assert len(media["value"]) < 4096  # a pointer, not the audio
    body = json.loads(media["value"])
    assert body["files"][0]["uri"] == result["location"]
    assert body["files"][0]["sha256"] == hashlib.sha256(audio).hexdigest()
    text = next(r for r in records if r["topic"] == text_topic)
    assert json.loads(text["value"]) == {
        "key": "text:conv-9:msg-7",
        "conversationId": "conv-9",
        "text": "hola",
    }


def read_all(broker: TansuBroker, topics: list[str], want: int) -> list[dict[str, Any]]:
    consumer = Consumer(
        {
            "bootstrap.servers": broker.bootstrap,
            "group.id": f"reader-{secrets.token_hex(3)}",
            "auto.offset.reset": "earliest",
            **GROUP_CONFIG,
        }
    )
    consumer.subscribe(topics)
    out: list[dict[str, Any]] = []
    try:
        for _ in range(60):
            message = consumer.poll(1.0)
            if message is None or message.error():
                continue
            out.append(
                {
                    "topic": message.topic(),
                    "key": message.key(),
                    "value": message.value(),
                    "headers": message.headers() or [],
                }
            )
            if len(out) >= want:
                break
    finally:
        consumer.close()
    return out


async def test_back_pressure_pauses_without_losing_records(tansu: TansuBroker) -> None:
    topic, group = f"ev-{secrets.token_hex(3)}", f"g-{secrets.token_hex(3)}"
    tansu.create_topic(topic, partitions=2)
    await asyncio.to_thread(produce, tansu, topic, 40)
    source = KafkaSource(
        tansu.bootstrap, [topic], group, batch_size=4, max_in_flight=4, extra_config=GROUP_CONFIG
    )
    seen: list[int] = []
    peak = 0
    ends: dict[int, int] = {}
    try:

        async def drain() -> None:
            nonlocal peak
            held: list[RawEvent] = []
            async for batch in source.batches():
                held.extend(batch)
                for event in batch:
                    seen.append(json.loads(event.body)["i"])
                    handle = event.ack_handle
                    ends[handle.partition] = max(ends.get(handle.partition, 0), handle.offset + 1)
                peak = max(peak, source.in_flight)
                if source.in_flight >= 4:  # the pipeline is slow: ack late, in one go
                    await asyncio.sleep(0.3)
                    await source.ack(held)
                    held.clear()
                if len(seen) >= 40:
                    await source.ack(held)
                    return

        await asyncio.wait_for(drain(), 90)
        await source.commit_now()
    finally:
        await source.close()
    assert sorted(seen) == list(range(40)), "every record once, none skipped"
    assert peak <= 8, "reading stopped near max_in_flight"
    assert await asyncio.to_thread(committed, tansu, topic, group, 2) == ends


async def test_poisoned_records_are_rejected_and_committed_past(
    tansu: TansuBroker, any_ledger: Ledger
) -> None:
    """A NUL, lone surrogate or NaN in one record made PostgreSQL refuse its batch: the
    partition crash-looped on it. Now it is rejected and its offset committed."""
    topic, group = f"poison-{secrets.token_hex(3)}", f"g-{secrets.token_hex(3)}"
    tansu.create_topic(topic, partitions=1)
    good = ["kafka-good-1", "kafka-good-2"]
    bodies = [
        json.dumps(voice_note_event(good[0])),
        *map(poisoned_line, POISONS),
        json.dumps(voice_note_event(good[1])),
    ]

    def send() -> None:
        producer = Producer({"bootstrap.servers": tansu.bootstrap, "enable.idempotence": True})
        for body in bodies:
            producer.produce(topic, key="c", value=body.encode())
        assert producer.flush(15) == 0

    await asyncio.to_thread(send)
    source = KafkaSource(tansu.bootstrap, [topic], group, extra_config=GROUP_CONFIG)
    intake = Intake(any_ledger, media_types=None)
    got: list[RawEvent] = []

    async def drain() -> None:
        async for batch in source.batches():
            await intake.accept_many(batch)
            await source.ack(batch)
            got.extend(batch)
            if len(got) >= len(bodies):
                return

    try:
        await asyncio.wait_for(drain(), 60)
        await source.commit_now()
    finally:
        await source.close()

    assert await job_keys(any_ledger) == good_keys(good)
    assert len(await any_ledger.list_rejected()) == len(POISONS)
    found = await asyncio.to_thread(committed, tansu, topic, group, 1)
    assert found[0] == len(bodies)
