"""One message read serves the text job and the attachment jobs of that message.

A message with text and an attachment has two jobs: the text job reads the message for
its text, and the attachment job reads it when the event's link is stale (or missing).
Both read the same ``GET .../messages/{messageId}``; whichever runs first keeps the answer
for ``keep_s`` seconds (well under a Downloads link's lifetime) and the other uses it.
Concurrent reads of one message are single-flight. An attachment job whose link from a
kept read is stale again asks for a fresh read (``fresh=True``), which is never served
from what is kept. The read is charged to the job that made it (``genesys.budget``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from media_bridge.genesys import GenesysClient

#: how long a read is kept for the other jobs of the message
KEEP_S = 60.0
#: reads kept at most (the oldest go first)
MAX_KEPT = 4096


class MessageReads:
    def __init__(
        self,
        genesys: GenesysClient,
        *,
        keep_s: float = KEEP_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.genesys = genesys
        self.keep_s = keep_s
        self._clock = clock
        self._kept: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._reading: dict[tuple[str, str], asyncio.Task[dict[str, Any]]] = {}

    def kept(self, conversation_id: str, message_id: str) -> dict[str, Any] | None:
        """A read of the message made in the last ``keep_s`` seconds, if any (no request)."""
        found = self._kept.get((conversation_id, message_id))
        if found is None:
            return None
        if found[0] <= self._clock():
            self._kept.pop((conversation_id, message_id), None)
            return None
        return found[1]

    async def read(
        self, conversation_id: str, message_id: str, *, fresh: bool = False
    ) -> dict[str, Any]:
        """The message, from a kept read unless ``fresh``; one request at a time per message."""
        key = (conversation_id, message_id)
        if not fresh:
            kept = self.kept(conversation_id, message_id)
            if kept is not None:
                return kept
        reading = self._reading.get(key)
        if reading is None:
            reading = asyncio.ensure_future(self._read(key))
            self._reading[key] = reading
            reading.add_done_callback(lambda _: self._reading.pop(key, None))
        # shielded: one waiting job being cancelled must not cancel the others' read
        return await asyncio.shield(reading)

    async def _read(self, key: tuple[str, str]) -> dict[str, Any]:
        message = await self.genesys.get_message(*key)
        if len(self._kept) >= MAX_KEPT:
            now = self._clock()
            for stale in [k for k, (until, _) in self._kept.items() if until <= now]:
                del self._kept[stale]
            while len(self._kept) >= MAX_KEPT:
                del self._kept[next(iter(self._kept))]
        self._kept[key] = (self._clock() + self.keep_s, message)
        return message
