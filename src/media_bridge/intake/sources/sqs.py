"""The SQS source: an EventBridge rule targets a queue, workers long-poll it.

- Long polling (``WaitTimeSeconds``) and batch receive (up to 10 per call).
- A message is deleted only in ``ack``, i.e. after the ledger recorded its jobs.
- While a message is received but not yet acknowledged, its visibility is extended
  in the background, for at most ``max_hold_s``: a message that never gets
  acknowledged (its event keeps failing to be recorded) becomes visible again and
  the queue's redrive policy (``maxReceiveCount`` -> DLQ) decides its fate. The
  source never deletes an unacknowledged message.
- At most ``max_in_flight`` messages are held unacknowledged: back-pressure.
- Bodies are the EventBridge envelope JSON; wrappers (SNS notifications, input
  transformers that nest the event under one key) are unwrapped here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import aioboto3  # type: ignore[import-untyped]

from media_bridge.errors import ConfigError
from media_bridge.intake.sources.base import RawEvent
from media_bridge.redact import redact_text

log = logging.getLogger(__name__)

SQS_MAX_BATCH = 10


@dataclass(slots=True)
class _Held:
    message_id: str
    received_at: float


def unwrap_body(body: str) -> bytes:
    """The EventBridge envelope inside an SQS body, however the rule's target wrapped it.

    Handles: the envelope itself; an SNS notification (``{"Type": "Notification",
    "Message": "<envelope JSON>"}``); an input transformer nesting the event under a
    single key (``{"event": {...}}``). Anything else is passed through unchanged
    for the parser to accept or reject with a reason.
    """
    value: Any
    try:
        value = json.loads(body)
    except ValueError:
        return body.encode("utf-8")
    for _ in range(3):
        if isinstance(value, dict) and "detail" not in value:
            if value.get("Type") == "Notification" and isinstance(value.get("Message"), str):
                try:
                    value = json.loads(value["Message"])
                except ValueError:
                    return body.encode("utf-8")
                continue
            if len(value) == 1:
                inner = next(iter(value.values()))
                if isinstance(inner, dict) and "detail" in inner:
                    value = inner
                    continue
        break
    if isinstance(value, dict) and "detail" in value:
        return json.dumps(value, separators=(",", ":")).encode("utf-8")
    return body.encode("utf-8")


class SqsSource:
    """``Source`` over one SQS queue (name or URL). ``endpoint_url`` for moto/LocalStack."""

    name = "sqs"

    def __init__(
        self,
        queue: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        session: aioboto3.Session | None = None,
        wait_seconds: int = 20,
        batch_size: int = SQS_MAX_BATCH,
        visibility_timeout: int = 60,
        heartbeat_s: float | None = None,
        max_hold_s: float = 900.0,
        max_in_flight: int = 200,
    ) -> None:
        if not 1 <= batch_size <= SQS_MAX_BATCH:
            raise ValueError(f"batch_size must be 1..{SQS_MAX_BATCH}")
        self._queue = queue
        self._queue_url: str | None = queue if queue.startswith(("http://", "https://")) else None
        self._endpoint_url = endpoint_url
        self._region = region
        self._session = session or aioboto3.Session()
        self._wait_seconds = wait_seconds
        self._batch_size = batch_size
        self._visibility = visibility_timeout
        self._heartbeat_s = heartbeat_s or max(1.0, visibility_timeout / 3)
        self._max_hold_s = max_hold_s
        self._max_in_flight = max_in_flight
        self._held: dict[str, _Held] = {}
        self._room = asyncio.Condition()
        self._closed = asyncio.Event()
        self._stack: AsyncExitStack | None = None
        self._client: Any = None
        self._heartbeat: asyncio.Task[None] | None = None

    @property
    def in_flight(self) -> int:
        """Messages received and not yet acknowledged."""
        return len(self._held)

    async def _sqs(self) -> Any:
        if self._client is None:
            self._stack = AsyncExitStack()
            self._client = await self._stack.enter_async_context(
                self._session.client(
                    "sqs", endpoint_url=self._endpoint_url, region_name=self._region
                )
            )
        return self._client

    async def _url(self) -> str:
        if self._queue_url is None:
            answer = await (await self._sqs()).get_queue_url(QueueName=self._queue)
            self._queue_url = str(answer["QueueUrl"])
        return self._queue_url

    @property
    def _queue_name(self) -> str:
        return (self._queue_url or self._queue).rstrip("/").rsplit("/", 1)[-1]

    async def batches(self) -> AsyncIterator[list[RawEvent]]:
        sqs = await self._sqs()
        url = await self._url()
        if self._heartbeat is None:
            self._heartbeat = asyncio.create_task(self._keep_invisible(), name="sqs-heartbeat")
        backoff = 0.2
        while not self._closed.is_set():
            async with self._room:
                await self._room.wait_for(
                    lambda: self._closed.is_set() or len(self._held) < self._max_in_flight
                )
            if self._closed.is_set():
                return
            want = min(self._batch_size, self._max_in_flight - len(self._held))
            receive = asyncio.ensure_future(
                sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=want,
                    WaitTimeSeconds=self._wait_seconds,
                    VisibilityTimeout=self._visibility,
                    MessageSystemAttributeNames=["ApproximateReceiveCount"],
                )
            )
            closed = asyncio.ensure_future(self._closed.wait())
            await asyncio.wait({receive, closed}, return_when=asyncio.FIRST_COMPLETED)
            closed.cancel()
            if not receive.done():
                receive.cancel()
                with contextlib.suppress(BaseException):
                    await receive
                return
            try:
                answer = receive.result()
            except Exception as exc:  # network, throttling, the queue restarting
                log.warning("sqs receive failed: %s", redact_text(str(exc)))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            backoff = 0.2
            batch: list[RawEvent] = []
            now = time.monotonic()
            for message in answer.get("Messages", []):
                receipt = message["ReceiptHandle"]
                self._held[receipt] = _Held(message["MessageId"], now)
                batch.append(
                    RawEvent(
                        body=unwrap_body(message.get("Body", "")),
                        origin=f"sqs:{self._queue_name}:{message['MessageId']}",
                        ack_handle=receipt,
                    )
                )
            if batch:
                yield batch

    async def ack(self, events: list[RawEvent]) -> None:
        receipts = [str(e.ack_handle) for e in events if e.ack_handle is not None]
        if not receipts:
            return
        sqs = await self._sqs()
        url = await self._url()
        for start in range(0, len(receipts), SQS_MAX_BATCH):
            chunk = receipts[start : start + SQS_MAX_BATCH]
            entries = [{"Id": str(i), "ReceiptHandle": r} for i, r in enumerate(chunk)]
            answer = await sqs.delete_message_batch(QueueUrl=url, Entries=entries)
            for failed in answer.get("Failed", []):
                # The message comes back later; the ledger already has its jobs.
                log.warning("sqs delete failed: %s", failed.get("Code"))
        for receipt in receipts:
            self._held.pop(receipt, None)
        async with self._room:
            self._room.notify_all()

    async def _keep_invisible(self) -> None:
        """Extend the visibility of held messages; give up on those held too long."""
        while not self._closed.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), timeout=self._heartbeat_s)
            if self._closed.is_set():
                return
            now = time.monotonic()
            extend: list[str] = []
            for receipt, held in list(self._held.items()):
                if now - held.received_at > self._max_hold_s:
                    # Left to the queue: it reappears, the redrive policy counts it.
                    self._held.pop(receipt, None)
                else:
                    extend.append(receipt)
            try:
                await self._set_visibility(extend, self._visibility)
            except Exception as exc:
                log.warning("sqs visibility extension failed: %s", redact_text(str(exc)))
            async with self._room:
                self._room.notify_all()

    async def _set_visibility(self, receipts: list[str], seconds: int) -> None:
        if not receipts:
            return
        sqs = await self._sqs()
        url = await self._url()
        for start in range(0, len(receipts), SQS_MAX_BATCH):
            chunk = receipts[start : start + SQS_MAX_BATCH]
            entries = [
                {"Id": str(i), "ReceiptHandle": r, "VisibilityTimeout": seconds}
                for i, r in enumerate(chunk)
            ]
            await sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)

    async def close(self) -> None:
        """Stop receiving; hand unacknowledged messages straight back to the queue."""
        self._closed.set()
        async with self._room:
            self._room.notify_all()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(BaseException):
                await self._heartbeat
            self._heartbeat = None
        if self._client is not None and self._held:
            with contextlib.suppress(Exception):
                await self._set_visibility(list(self._held), 0)
        self._held.clear()
        if self._stack is not None:
            stack, self._stack, self._client = self._stack, None, None
            await stack.aclose()


def sqs_source_from_spec(spec: str) -> SqsSource:
    """The ``--source sqs:...`` form: a queue URL (or name) with options as a query string.

    ``sqs:https://sqs.eu-west-1.amazonaws.com/123456789012/genesys-events?visibility_timeout=120``;
    options: ``endpoint_url``, ``region``, ``wait_seconds``, ``visibility_timeout``,
    ``max_in_flight``, ``max_hold_s``. Credentials and, absent ``endpoint_url``, the
    endpoint come from the standard AWS chain (env, profile, instance role,
    ``AWS_ENDPOINT_URL``).
    """
    queue, _, query = spec.partition("?")
    if not queue:
        raise ConfigError(
            "--source sqs: give the queue URL or name, e.g. sqs:https://sqs.REGION.amazonaws.com/"
            "ACCOUNT/QUEUE"
        )
    options = dict(parse_qsl(query))
    unknown = set(options) - _SPEC_OPTIONS
    if unknown:
        raise ConfigError(f"--source sqs: unknown option(s) {sorted(unknown)}")
    return SqsSource(
        queue,
        endpoint_url=options.get("endpoint_url"),
        region=options.get("region"),
        wait_seconds=int(options.get("wait_seconds", 20)),
        visibility_timeout=int(options.get("visibility_timeout", 60)),
        max_in_flight=int(options.get("max_in_flight", 200)),
        max_hold_s=float(options.get("max_hold_s", 900)),
    )


_SPEC_OPTIONS = {
    "endpoint_url",
    "region",
    "wait_seconds",
    "visibility_timeout",
    "max_in_flight",
    "max_hold_s",
}
