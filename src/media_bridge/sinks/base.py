"""Sink contracts. Sinks must be idempotent: the same key delivered twice is harmless."""

from __future__ import annotations

from typing import Any, Protocol

from media_bridge.types import Delivery


class MediaSink(Protocol):
    """Receives audio (and other media) deliveries: the biometrics side."""

    name: str

    async def deliver(self, delivery: Delivery) -> dict[str, Any]:
        """Deliver; returns a small result (location, status) stored in the ledger."""
        ...

    async def close(self) -> None: ...


class TextSink(Protocol):
    """Receives text records (messages, transcript utterances): the NLP side."""

    name: str

    async def deliver_text(self, key: str, record: dict[str, Any]) -> dict[str, Any]: ...

    async def close(self) -> None: ...
