"""Kafka sinks: claim-check metadata for media, JSON records for text.

The claim check: audio goes to object storage (the wrapped sink: ``s3`` or ``dir``)
and Kafka gets one small metadata message per delivery pointing at it (``s3://``
URI or path) - never the audio bytes. Messages are keyed by conversation id (one
conversation stays in one partition, in order) and carry the job key in a header
and in the body, so a consumer can dedupe the at-least-once redelivery that a crash
between the write and the ledger's ``done`` causes. The producer is idempotent
(``enable.idempotence``: no duplicates from its own retries).

confluent-kafka's producer is thread-safe; a background thread serves its delivery
callbacks, which resolve asyncio futures on the loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from confluent_kafka import KafkaError, Message, Producer

from media_bridge.errors import ConfigError, DeliveryRejected, SinkUnavailable
from media_bridge.jobs.keys import split_key
from media_bridge.sinks.base import MediaSink
from media_bridge.types import Delivery

SCHEMA_VERSION = 1


class AsyncProducer:
    """An idempotent confluent-kafka producer whose sends are awaitable."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        delivery_timeout_ms: int = 30_000,
        extra_config: dict[str, Any] | None = None,
    ) -> None:
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap_servers,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                "delivery.timeout.ms": delivery_timeout_ms,
                **(extra_config or {}),
            }
        )
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._serve, name="kafka-producer", daemon=True)
        self._poller.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.1)

    async def send(
        self, topic: str, key: str, value: bytes, headers: dict[str, str] | None = None
    ) -> tuple[int, int]:
        """Produce and wait for the broker's acknowledgement; returns (partition, offset)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[tuple[int, int]] = loop.create_future()

        def settle(error: KafkaError | None, message: Message) -> None:
            if error is not None:
                exc: Exception = (
                    DeliveryRejected(f"kafka refused the record: {error}")
                    if error.fatal() or error.code() == KafkaError.MSG_SIZE_TOO_LARGE
                    else SinkUnavailable(f"kafka delivery failed: {error}")
                )
                loop.call_soon_threadsafe(_set_exception, done, exc)
            else:
                place = (message.partition() or 0, message.offset() or 0)
                loop.call_soon_threadsafe(_set_result, done, place)

        while True:
            try:
                self._producer.produce(
                    topic,
                    key=key.encode("utf-8"),
                    value=value,
                    headers=list((headers or {}).items()),
                    on_delivery=settle,
                )
                break
            except BufferError:  # local queue full: let it drain (back-pressure)
                await asyncio.sleep(0.05)
        return await done

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._producer.flush, 10)
        self._stop.set()
        await asyncio.get_running_loop().run_in_executor(None, self._poller.join, 5)


def _set_result(future: asyncio.Future[tuple[int, int]], value: tuple[int, int]) -> None:
    if not future.done():
        future.set_result(value)


def _set_exception(future: asyncio.Future[tuple[int, int]], exc: Exception) -> None:
    if not future.done():
        future.set_exception(exc)


def claim_check_record(delivery: Delivery, stored: dict[str, Any]) -> dict[str, Any]:
    """The metadata message: what was delivered, and where the bytes are.

    ``stored`` is the storing sink's result: S3 gives ``files[].uri``; the dir sink
    gives ``folder`` and ``files`` as names, in delivery order.
    """
    placed = stored.get("files") or []
    folder = stored.get("folder")
    files = []
    for index, file in enumerate(delivery.files):
        where = placed[index] if index < len(placed) else None
        uri: str | None = None
        if isinstance(where, dict):
            uri = where.get("uri") or where.get("path") or where.get("location")
        elif isinstance(where, str):
            uri = f"{folder}/{where}" if folder else where
        files.append(
            {
                "role": file.role,
                "mime": file.mime,
                "sha256": file.sha256,
                "size": file.size,
                "uri": uri,
            }
        )
    return {
        "schema": SCHEMA_VERSION,
        "key": delivery.key,
        "kind": str(delivery.kind),
        "conversationId": delivery.conversation_id,
        "metadata": delivery.metadata,
        "files": files,
        "location": stored.get("location") or folder,
        "sidecar": stored.get("sidecar"),
    }


class KafkaClaimCheckSink:
    """``MediaSink``: store through ``store`` (S3 or dir), then publish a pointer to Kafka."""

    name = "kafka"

    def __init__(self, store: MediaSink, producer: AsyncProducer, topic: str) -> None:
        self._store = store
        self._producer = producer
        self._topic = topic

    async def deliver(self, delivery: Delivery) -> dict[str, Any]:
        stored = await self._store.deliver(delivery)
        record = claim_check_record(delivery, stored)
        body = json.dumps(record, sort_keys=True, default=str).encode("utf-8")
        partition, offset = await self._producer.send(
            self._topic, delivery.conversation_id, body, {"job-key": delivery.key}
        )
        return {
            **stored,
            "sink": self.name,
            "kafka": {"topic": self._topic, "partition": partition, "offset": offset},
        }

    @property
    def store(self) -> MediaSink:
        """Where the bytes are (the dir sink or an S3 sink): an erasure cleans it too."""
        return self._store

    async def send_record(self, key: str, record: dict[str, Any]) -> None:
        """A record with no media (an erasure record) on the media topic."""
        body = json.dumps(record, sort_keys=True, default=str).encode("utf-8")
        await self._producer.send(self._topic, key, body, {"job-key": key})

    async def close(self) -> None:
        await self._store.close()
        await self._producer.close()


class KafkaTextSink:
    """``TextSink``: one JSON record per text (message or utterance) for the NLP side."""

    name = "kafka"

    def __init__(self, producer: AsyncProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    async def deliver_text(self, key: str, record: dict[str, Any]) -> dict[str, Any]:
        conversation_id = record.get("conversationId") or record.get("conversation_id")
        if not conversation_id:
            found = split_key(key).conversation_id
            conversation_id = found if found is not None else key
        body = json.dumps({"key": key, **record}, sort_keys=True, default=str).encode("utf-8")
        partition, offset = await self._producer.send(
            self._topic, str(conversation_id), body, {"job-key": key}
        )
        return {"sink": self.name, "topic": self._topic, "partition": partition, "offset": offset}

    async def close(self) -> None:
        await self._producer.close()


def _bootstrap_and_topic(url: str) -> tuple[str, str, dict[str, str]]:
    parts = urlsplit(url)
    topic = parts.path.strip("/")
    if parts.scheme != "kafka" or not parts.netloc or not topic:
        raise ConfigError(
            f"kafka sink URL must be kafka://HOST:PORT[,HOST:PORT]/TOPIC, not {url!r}"
        )
    return parts.netloc, topic, dict(parse_qsl(parts.query))


def kafka_media_sink_from_url(url: str, *, dir_path: Path) -> KafkaClaimCheckSink:
    """``kafka://HOST:PORT/TOPIC?store=<url-encoded store>``: ``store`` is ``dir`` (default,
    the dir sink's folder) or an S3 URL (``s3://bucket/prefix?endpoint_url=...``)."""
    bootstrap, topic, options = _bootstrap_and_topic(url)
    store_url = options.get("store", "dir")
    store: MediaSink
    if store_url == "dir":
        from media_bridge.sinks.dir import DirSink

        store = DirSink(dir_path)
    else:
        from media_bridge.extras import require_extra

        require_extra("aws", "an s3:// claim-check store (sinks.media ?store=)")
        from media_bridge.sinks.s3 import s3_sink_from_url

        store = s3_sink_from_url(store_url)
    return KafkaClaimCheckSink(store, AsyncProducer(bootstrap), topic)


def kafka_text_sink_from_url(url: str) -> KafkaTextSink:
    """``kafka://HOST:PORT/TOPIC``: text records as JSON, keyed by conversation id."""
    bootstrap, topic, _ = _bootstrap_and_topic(url)
    return KafkaTextSink(AsyncProducer(bootstrap), topic)
