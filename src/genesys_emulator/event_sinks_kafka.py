"""Emit events to a Kafka topic (``kafka://HOST:PORT[,HOST:PORT]/TOPIC``).

Each record is the EventBridge envelope JSON, keyed by conversation id so that one
conversation's events land in one partition, in order (what a Kafka bridge from
EventBridge - a rule to a Lambda/Connect producer - should do).
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import urlsplit

from confluent_kafka import KafkaError, Message, Producer

from genesys_emulator.event_sinks import register_sink

_TOPIC_IDS = re.compile(r"^v2\.(?:detail\.events\.conversation|conversations)\.([^.]+)\.")


def conversation_key(event: dict[str, Any]) -> str:
    """The conversation id of an event (detail events, message topics, transcription)."""
    detail = event.get("detail") or {}
    body = detail.get("eventBody") or {}
    if isinstance(body, dict):
        if isinstance(body.get("conversationId"), str):
            return str(body["conversationId"])
        if isinstance(body.get("participants"), list) and isinstance(body.get("id"), str):
            return str(body["id"])
    match = _TOPIC_IDS.match(str(detail.get("topicName", "")))
    return match.group(1) if match else str(event.get("id", ""))


class KafkaEventSink:
    """``EventSink`` producing envelopes to a topic with an idempotent producer."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.topic = parts.path.strip("/")
        if not parts.netloc or not self.topic:
            raise ValueError("kafka event sink URL: kafka://HOST:PORT/TOPIC")
        self._producer = Producer(
            {"bootstrap.servers": parts.netloc, "enable.idempotence": True, "linger.ms": 5}
        )

    def _produce_all(self, events: list[dict[str, Any]]) -> None:
        failures: list[KafkaError] = []

        def report(error: KafkaError | None, _message: Message) -> None:
            if error is not None:
                failures.append(error)

        for event in events:
            value = json.dumps(event, separators=(",", ":")).encode("utf-8")
            while True:
                try:
                    self._producer.produce(
                        self.topic,
                        key=conversation_key(event).encode(),
                        value=value,
                        on_delivery=report,
                    )
                    break
                except BufferError:
                    self._producer.poll(0.1)
        remaining = self._producer.flush(30)
        if failures or remaining:
            raise RuntimeError(f"kafka: {len(failures)} failed, {remaining} undelivered events")

    async def send(self, events: list[dict[str, Any]]) -> None:
        await asyncio.to_thread(self._produce_all, events)

    async def close(self) -> None:
        await asyncio.to_thread(self._producer.flush, 10)


register_sink("kafka", KafkaEventSink)
