"""The SQS source against moto: EventBridge rule -> queue, delete after ack, visibility, redrive."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import aioboto3  # type: ignore[import-untyped]
import pytest
from scripts.infra import MotoServer

from media_bridge.intake.ingest import Intake
from media_bridge.intake.sources.base import RawEvent
from media_bridge.intake.sources.sqs import SqsSource
from media_bridge.ledger import Ledger
from tests.integration.poisoned import POISONS, good_keys, job_keys, poisoned_line, voice_note_event

pytestmark = pytest.mark.integration


def envelope(i: int) -> dict[str, Any]:
    return {
        "version": "0",
        "id": f"evt-{i}",
        "detail-type": "v2.detail.events.conversation.{id}.customer.end",
        "source": "aws.partner/genesys.com/cloud/org/bus",
        "detail": {
            "topicName": f"v2.detail.events.conversation.c{i}.customer.end",
            "eventBody": {},
        },
    }


@pytest.fixture
async def sqs(moto_server: MotoServer) -> AsyncIterator[Any]:
    async with aioboto3.Session().client("sqs", endpoint_url=moto_server.endpoint_url) as client:
        yield client


async def make_queue(sqs: Any, max_receive: int = 2) -> tuple[str, str]:
    name = f"q-{secrets.token_hex(4)}"
    dlq = (await sqs.create_queue(QueueName=f"{name}-dlq"))["QueueUrl"]
    dlq_arn = (await sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"]))[
        "Attributes"
    ]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive)})
    url = (await sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": redrive}))[
        "QueueUrl"
    ]
    return url, dlq


async def take(source: SqsSource, want: int, timeout: float = 20) -> list[RawEvent]:
    got: list[RawEvent] = []

    async def run() -> None:
        async for batch in source.batches():
            got.extend(batch)
            if len(got) >= want:
                return

    await asyncio.wait_for(run(), timeout)
    return got


async def visible_count(sqs: Any, url: str) -> int:
    attrs = await sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


async def test_eventbridge_rule_to_queue_and_delete_after_ack(
    moto_server: MotoServer, sqs: Any
) -> None:
    url, _ = await make_queue(sqs)
    arn = (await sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"]))["Attributes"][
        "QueueArn"
    ]
    async with aioboto3.Session().client("events", endpoint_url=moto_server.endpoint_url) as eb:
        bus = f"bus-{secrets.token_hex(3)}"
        await eb.create_event_bus(Name=bus)
        pattern = json.dumps({"source": [{"prefix": "aws.partner/genesys.com"}]})
        await eb.put_rule(Name="to-sqs", EventBusName=bus, EventPattern=pattern)
        await eb.put_targets(Rule="to-sqs", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
        entries = [
            {
                "Source": "aws.partner/genesys.com/cloud/org/bus",
                "DetailType": "v2.detail.events.conversation.{id}.customer.end",
                "Detail": json.dumps(envelope(i)["detail"]),
                "EventBusName": bus,
            }
            for i in range(12)
        ]
        answer = await eb.put_events(Entries=entries[:10])
        assert answer["FailedEntryCount"] == 0
        await eb.put_events(Entries=entries[10:])

    source = SqsSource(url, endpoint_url=moto_server.endpoint_url, wait_seconds=1)
    try:
        events = await take(source, 12)
        assert len(events) == 12
        bodies = [json.loads(e.body) for e in events]
        assert {b["detail"]["topicName"] for b in bodies} == {
            f"v2.detail.events.conversation.c{i}.customer.end" for i in range(12)
        }
        assert all(e.origin.startswith("sqs:q-") for e in events)
        assert source.in_flight == 12
        await source.ack(events)
        assert source.in_flight == 0
    finally:
        await source.close()
    assert await visible_count(sqs, url) == 0


async def test_unacked_messages_stay_hidden_while_held_and_return_on_close(
    moto_server: MotoServer, sqs: Any
) -> None:
    url, _ = await make_queue(sqs)
    for i in range(5):
        await sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"event": envelope(i)}))
    held = SqsSource(
        url,
        endpoint_url=moto_server.endpoint_url,
        wait_seconds=1,
        visibility_timeout=2,
        heartbeat_s=0.5,
    )
    events = await take(held, 5)
    assert json.loads(events[0].body)["id"].startswith("evt-")  # input-transformer wrap removed
    await held.ack(events[:2])
    # Well past the 2 s visibility timeout: the heartbeat keeps the other 3 hidden.
    await asyncio.sleep(3.5)
    other = SqsSource(url, endpoint_url=moto_server.endpoint_url, wait_seconds=1)
    try:
        answer = await sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        assert answer.get("Messages", []) == []
        await held.close()  # hands the 3 unacked straight back
        again = await take(other, 3)
        assert sorted(e.body for e in again) == sorted(e.body for e in events[2:])
        await other.ack(again)
    finally:
        await other.close()
        await held.close()
    assert await visible_count(sqs, url) == 0


async def test_never_acked_message_goes_to_the_dead_letter_queue(
    moto_server: MotoServer, sqs: Any
) -> None:
    url, dlq = await make_queue(sqs, max_receive=2)
    await sqs.send_message(QueueUrl=url, MessageBody=json.dumps(envelope(1)))
    source = SqsSource(
        url,
        endpoint_url=moto_server.endpoint_url,
        wait_seconds=1,
        visibility_timeout=1,
        heartbeat_s=0.3,
        max_hold_s=0.5,
    )
    receipts: list[str] = []
    try:

        async def collect() -> None:
            async for batch in source.batches():
                receipts.extend(str(e.ack_handle) for e in batch)  # never acked

        task = asyncio.create_task(collect())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while loop.time() < deadline and await visible_count(sqs, dlq) == 0:
            await asyncio.sleep(0.2)
        task.cancel()
    finally:
        await source.close()
    assert await visible_count(sqs, dlq) == 1
    assert len(receipts) == 2  # received twice (maxReceiveCount), never deleted by us
    assert await visible_count(sqs, url) == 0


async def test_poisoned_messages_are_rejected_and_deleted_beside_good_ones(
    moto_server: MotoServer, sqs: Any, any_ledger: Ledger
) -> None:
    """A NUL, lone surrogate or NaN in one message made PostgreSQL refuse the whole batch:
    every message of it came back until the redrive policy sent the good ones to the DLQ."""
    url, dlq = await make_queue(sqs)
    good = ["sqs-good-1", "sqs-good-2"]
    bodies = [
        json.dumps(voice_note_event(good[0])),
        *map(poisoned_line, POISONS),
        json.dumps(voice_note_event(good[1])),
    ]
    for body in bodies:
        await sqs.send_message(QueueUrl=url, MessageBody=body)
    source = SqsSource(url, endpoint_url=moto_server.endpoint_url, wait_seconds=1)
    intake = Intake(any_ledger, media_types=None)
    try:
        events = await take(source, len(bodies))
        result = await intake.accept_many(events)
        await source.ack(events)
    finally:
        await source.close()

    assert result.events == len(good)
    assert await job_keys(any_ledger) == good_keys(good)
    assert len(await any_ledger.list_rejected()) == len(POISONS)
    assert await visible_count(sqs, url) == 0
    assert await visible_count(sqs, dlq) == 0
