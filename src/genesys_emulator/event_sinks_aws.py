"""Emit events to an Amazon EventBridge bus (``eventbridge://BUS?endpoint_url=...&region=...``).

This is how the bridge's SQS path is exercised end to end against moto: the emulator
puts each event on a custom bus, a rule (``source`` prefix ``aws.partner/genesys.com``)
targets an SQS queue, and EventBridge builds the envelope the queue receives - as it
does for the real Genesys partner event source. Real AWS refuses ``aws.``-prefixed
sources from ``PutEvents``: against real AWS, Genesys itself is the producer.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack, suppress
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aioboto3  # type: ignore[import-untyped]

from genesys_emulator.event_sinks import register_sink

PUT_EVENTS_MAX = 10


def put_events_entry(event: dict[str, Any], bus: str) -> dict[str, Any]:
    """One ``PutEvents`` entry for an emulated EventBridge event."""
    entry: dict[str, Any] = {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event["detail"], separators=(",", ":")),
        "EventBusName": bus,
        "Resources": list(event.get("resources") or []),
    }
    if isinstance(event.get("time"), str):
        with suppress(ValueError):
            entry["Time"] = datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
    return entry


class EventBridgeSink:
    """``EventSink`` putting events on a bus, 10 per call, retrying failed entries."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if not parts.netloc:
            raise ValueError("eventbridge sink URL: eventbridge://BUS_NAME[?endpoint_url=...]")
        options = dict(parse_qsl(parts.query))
        self.bus = parts.netloc
        self._endpoint_url = options.get("endpoint_url")
        self._region = options.get("region")
        self._session = aioboto3.Session()
        self._stack: AsyncExitStack | None = None
        self._client: Any = None

    async def _events(self) -> Any:
        if self._client is None:
            self._stack = AsyncExitStack()
            self._client = await self._stack.enter_async_context(
                self._session.client(
                    "events", endpoint_url=self._endpoint_url, region_name=self._region
                )
            )
        return self._client

    async def send(self, events: list[dict[str, Any]]) -> None:
        client = await self._events()
        for start in range(0, len(events), PUT_EVENTS_MAX):
            entries = [
                put_events_entry(e, self.bus) for e in events[start : start + PUT_EVENTS_MAX]
            ]
            for attempt in range(5):
                answer = await client.put_events(Entries=entries)
                if not answer.get("FailedEntryCount"):
                    break
                results = answer.get("Entries", [])
                entries = [e for e, r in zip(entries, results, strict=False) if r.get("ErrorCode")]
                await asyncio.sleep(0.1 * 2**attempt)
            else:
                raise RuntimeError(f"EventBridge refused {len(entries)} event(s) on {self.bus}")

    async def close(self) -> None:
        if self._stack is not None:
            stack, self._stack, self._client = self._stack, None, None
            await stack.aclose()


register_sink("eventbridge", EventBridgeSink)
