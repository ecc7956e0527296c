"""The Kafka source: a consumer group whose offsets are committed only behind the ledger.

confluent-kafka is blocking, so every consumer call (consume, commit, pause,
close, and the rebalance callbacks it runs) happens on one dedicated thread; the
event loop only awaits it. Offsets:

- auto commit is off; ``ack`` marks offsets done, and the consumer thread commits,
  per partition, the offset after the highest *contiguous* acknowledged record
  (offsets may have gaps, so contiguity is over the records received, in order);
- on revoke the acknowledged prefix is committed synchronously and the partition's
  in-flight state is dropped: unacknowledged records are read again by the new
  owner, and the ledger dedupes them. Late acks of a revoked assignment are ignored
  (each assignment has a generation number);
- at most ``max_in_flight`` records are held unacknowledged; beyond that the
  assignment is paused (the consumer keeps polling, so it stays in the group).

Producers key by conversation id, so one conversation's events stay in order.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from media_bridge.errors import ConfigError
from media_bridge.intake.sources.base import RawEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class KafkaAckHandle:
    topic: str
    partition: int
    offset: int
    generation: int


@dataclass(slots=True)
class _PartitionState:
    generation: int
    #: offsets received and not yet committed, in order
    pending: deque[int] = field(default_factory=deque)
    acked: set[int] = field(default_factory=set)
    #: the offset to commit next (one past the contiguous acknowledged prefix)
    commit_at: int | None = None
    committed: int | None = None


class KafkaSource:
    """``Source`` over Kafka topics with a consumer group."""

    name = "kafka"

    def __init__(
        self,
        bootstrap_servers: str,
        topics: list[str],
        group_id: str,
        *,
        batch_size: int = 100,
        poll_timeout_s: float = 0.5,
        max_in_flight: int = 1000,
        extra_config: dict[str, Any] | None = None,
    ) -> None:
        self._topics = topics
        self._batch_size = batch_size
        self._poll_timeout_s = poll_timeout_s
        self._max_in_flight = max_in_flight
        self._config: dict[str, Any] = {
            "bootstrap.servers": bootstrap_servers,
            "group.id": group_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": False,
            **(extra_config or {}),
        }
        self._lock = threading.Lock()
        self._partitions: dict[tuple[str, int], _PartitionState] = {}
        self._generation = 0
        self._in_flight = 0
        self._paused = False
        self._closed = False
        self._consumer: Consumer | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kafka-consumer")

    @property
    def in_flight(self) -> int:
        return self._in_flight

    # -- consumer thread -----------------------------------------------------------

    def _open(self) -> Consumer:
        if self._consumer is None:
            consumer = Consumer(self._config)
            consumer.subscribe(
                self._topics,
                on_assign=self._on_assign,
                on_revoke=self._on_revoke,
                on_lost=self._on_lost,
            )
            self._consumer = consumer
        return self._consumer

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        with self._lock:
            self._generation += 1
            for tp in partitions:
                self._partitions[(tp.topic, tp.partition)] = _PartitionState(self._generation)
        log.info("kafka assigned %s", [f"{tp.topic}/{tp.partition}" for tp in partitions])

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._commit_acked(consumer, only={(tp.topic, tp.partition) for tp in partitions})
        self._drop(partitions)
        log.info("kafka revoked %s", [f"{tp.topic}/{tp.partition}" for tp in partitions])

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._drop(partitions)
        log.warning("kafka lost %s", [f"{tp.topic}/{tp.partition}" for tp in partitions])

    def _drop(self, partitions: list[TopicPartition]) -> None:
        with self._lock:
            for tp in partitions:
                state = self._partitions.pop((tp.topic, tp.partition), None)
                if state is not None:
                    self._in_flight -= len(state.pending) - len(state.acked)

    def _commit_acked(self, consumer: Consumer, only: set[tuple[str, int]] | None = None) -> None:
        with self._lock:
            offsets = [
                TopicPartition(topic, partition, state.commit_at)
                for (topic, partition), state in self._partitions.items()
                if state.commit_at is not None
                and state.commit_at != state.committed
                and (only is None or (topic, partition) in only)
            ]
        if not offsets:
            return
        try:
            consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            # Not fatal: the records are read again and the ledger dedupes them.
            log.warning("kafka commit failed: %s", exc)
            return
        with self._lock:
            for tp in offsets:
                state = self._partitions.get((tp.topic, tp.partition))
                if state is not None:
                    state.committed = tp.offset

    def _poll_once(self) -> list[Message]:
        if self._closed:
            return []
        consumer = self._open()
        self._commit_acked(consumer)
        full = self._in_flight >= self._max_in_flight
        if full:
            # every poll: a rebalance may have assigned partitions that are not paused yet
            consumer.pause(consumer.assignment())
            self._paused = True
        elif self._paused:
            consumer.resume(consumer.assignment())
            self._paused = False
        # Whatever comes back is taken, even when full (records fetched before the
        # pause): a record read and dropped would be skipped by a later commit.
        messages: list[Message] = consumer.consume(self._batch_size, self._poll_timeout_s)
        return messages

    def _close_consumer(self) -> None:
        if self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            self._commit_acked(consumer)
            consumer.close()  # revokes (commit what is acked) and leaves the group

    # -- event loop side --------------------------------------------------------------

    async def batches(self) -> AsyncIterator[list[RawEvent]]:
        loop = asyncio.get_running_loop()
        while not self._closed:
            try:
                messages = await loop.run_in_executor(self._thread, self._poll_once)
            except RuntimeError:  # the executor shut down: closed
                return
            batch = self._accept(messages)
            if batch:
                yield batch

    def _accept(self, messages: list[Message]) -> list[RawEvent]:
        batch: list[RawEvent] = []
        with self._lock:
            for message in messages:
                error = message.error()
                if error is not None:
                    if error.code() != KafkaError._PARTITION_EOF:
                        log.warning("kafka consume error: %s", error)
                    continue
                topic, partition, offset = message.topic(), message.partition(), message.offset()
                if topic is None or partition is None or offset is None:
                    continue
                state = self._partitions.get((topic, partition))
                if state is None:  # revoked between consume and here
                    continue
                state.pending.append(offset)
                if state.commit_at is None:
                    state.commit_at = offset
                self._in_flight += 1
                handle = KafkaAckHandle(topic, partition, offset, state.generation)
                batch.append(
                    RawEvent(
                        body=message.value() or b"",
                        origin=f"kafka:{topic}/{partition}@{offset}",
                        ack_handle=handle,
                    )
                )
        return batch

    async def ack(self, events: list[RawEvent]) -> None:
        with self._lock:
            for event in events:
                handle = event.ack_handle
                if not isinstance(handle, KafkaAckHandle):
                    continue
                state = self._partitions.get((handle.topic, handle.partition))
                if state is None or state.generation != handle.generation:
                    continue  # a revoked assignment: the new owner reads it again
                if handle.offset in state.acked or handle.offset not in state.pending:
                    continue
                state.acked.add(handle.offset)
                self._in_flight -= 1
                while state.pending and state.pending[0] in state.acked:
                    done = state.pending.popleft()
                    state.acked.discard(done)
                    state.commit_at = done + 1

    async def commit_now(self) -> None:
        """Commit the acknowledged prefix immediately (normally done before each poll)."""
        if self._consumer is not None:
            consumer = self._consumer
            await asyncio.get_running_loop().run_in_executor(
                self._thread, self._commit_acked, consumer
            )

    async def close(self) -> None:
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._close_consumer)
        self._thread.shutdown(wait=True)


def kafka_source_from_spec(spec: str) -> KafkaSource:
    """The ``--source kafka:...`` form: topics and options as a query string.

    ``kafka:genesys-events?bootstrap=broker1:9092,broker2:9092&group=media-bridge``;
    options: ``bootstrap`` (required), ``group`` (default ``media-bridge``),
    ``max_in_flight``, ``batch_size``; any other option is passed to librdkafka with
    ``_`` read as ``.`` (``security_protocol=SASL_SSL``, ``max_poll_interval_ms=60000``).
    """
    topics, _, query = spec.partition("?")
    options = dict(parse_qsl(query))
    bootstrap = options.pop("bootstrap", "")
    if not topics or not bootstrap:
        raise ConfigError("--source kafka: use kafka:TOPIC[,TOPIC]?bootstrap=HOST:PORT[&group=G]")
    group = options.pop("group", "media-bridge")
    max_in_flight = int(options.pop("max_in_flight", 1000))
    batch_size = int(options.pop("batch_size", 100))
    extra = {name.replace("_", "."): value for name, value in options.items()}
    return KafkaSource(
        bootstrap,
        [t for t in topics.split(",") if t],
        group,
        batch_size=batch_size,
        max_in_flight=max_in_flight,
        extra_config=extra,
    )
