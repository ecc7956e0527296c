"""Source contract: raw events in batches, acknowledged only after the ledger recorded them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(slots=True)
class RawEvent:
    """One event's bytes as received, with whatever the source needs to acknowledge it."""

    body: bytes
    #: e.g. ``file:events.jsonl:12``, ``sqs:queue-name``, ``kafka:topic/3@1042``
    origin: str
    ack_handle: Any = None


class Source(Protocol):
    name: str

    def batches(self) -> AsyncIterator[list[RawEvent]]:
        """Yield batches until the source is exhausted or closed."""
        ...

    async def ack(self, events: list[RawEvent]) -> None:
        """Every job these events produced is durable in the ledger: forget them at the source."""
        ...

    async def close(self) -> None: ...
