"""Sinks wrapped to time each delivery (``media_bridge_sink_delivery_seconds``): one
place for every sink kind instead of a timer at each call site."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from media_bridge import metrics
from media_bridge.sinks.base import MediaSink, TextSink
from media_bridge.types import Delivery


@contextmanager
def _timed(sink: str) -> Iterator[None]:
    """Observe one delivery's time, ``ok`` or (it raised) ``error``."""
    started, outcome = time.monotonic(), "error"
    try:
        yield
        outcome = "ok"
    finally:
        metrics.SINK_SECONDS.labels(sink=sink, outcome=outcome).observe(time.monotonic() - started)


class TimedMediaSink:
    """A media sink whose deliveries are timed; anything else goes to the sink itself."""

    def __init__(self, inner: MediaSink) -> None:
        self.inner = inner
        self.name = inner.name

    async def deliver(self, delivery: Delivery) -> dict[str, Any]:
        with _timed(self.name):
            return await self.inner.deliver(delivery)

    async def close(self) -> None:
        await self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class TimedTextSink:
    """A text sink whose deliveries are timed; anything else goes to the sink itself."""

    def __init__(self, inner: TextSink) -> None:
        self.inner = inner
        self.name = inner.name

    async def deliver_text(self, key: str, record: dict[str, Any]) -> dict[str, Any]:
        with _timed(self.name):
            return await self.inner.deliver_text(key, record)

    async def close(self) -> None:
        await self.inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
