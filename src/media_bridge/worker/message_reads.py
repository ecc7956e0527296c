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

from media_bridge.genesys import GenesysApi

#: the bulk endpoint takes a list of ids; keep requests modest
BULK_SIZE = 100

#: how long a read is kept for the other jobs of the message
KEEP_S = 60.0
#: reads kept at most (the oldest go first)
MAX_KEPT = 4096


class MessageReads:
    def __init__(
        self,
        genesys: GenesysApi,
        *,
        keep_s: float = KEEP_S,
        batch_window_s: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.genesys = genesys
        self.keep_s = keep_s
        self.batch_window_s = batch_window_s
        self._clock = clock
        self._kept: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._reading: dict[tuple[str, str], asyncio.Future[dict[str, Any]]] = {}
        #: per conversation, the message ids waiting for the batch window to close
        self._batches: dict[str, list[str]] = {}
        self._batch_tasks: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        """Cancel the batch reads still waiting (at shutdown their jobs are released)."""
        tasks = list(self._batch_tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for future in list(self._reading.values()):  # a batch cancelled before it began
            if not isinstance(future, asyncio.Task):
                future.cancel()
        self._batches.clear()

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

    async def read_text(self, conversation_id: str, message_id: str) -> dict[str, Any]:
        """Like ``read``, but batched with other texts of the conversation (see above)."""
        if self.batch_window_s <= 0:
            return await self.read(conversation_id, message_id)
        key = (conversation_id, message_id)
        kept = self.kept(conversation_id, message_id)
        if kept is not None:
            return kept
        reading = self._reading.get(key)
        if reading is None:
            reading = asyncio.get_running_loop().create_future()
            self._reading[key] = reading
            reading.add_done_callback(lambda _: self._reading.pop(key, None))
            waiting = self._batches.get(conversation_id)
            if waiting is None:
                waiting = self._batches[conversation_id] = []
                # started by this job's read: the request is charged to it
                task = asyncio.ensure_future(self._read_batch(conversation_id))
                self._batch_tasks.add(task)
                task.add_done_callback(self._batch_tasks.discard)
            waiting.append(message_id)
        return await asyncio.shield(reading)

    async def _read_batch(self, conversation_id: str) -> None:
        futures: dict[str, asyncio.Future[dict[str, Any]] | None] = {}

        def take() -> list[str]:
            ids = self._batches.pop(conversation_id, [])
            futures.update({mid: self._reading.get((conversation_id, mid)) for mid in ids})
            return ids

        try:
            await asyncio.sleep(self.batch_window_s)
            ids = take()
            found: dict[str, dict[str, Any]] = {}
            if len(ids) > 1:
                for start in range(0, len(ids), BULK_SIZE):
                    chunk = ids[start : start + BULK_SIZE]
                    listing = await self.genesys.get_messages_bulk(conversation_id, chunk)
                    for entity in listing.get("entities") or []:
                        if isinstance(entity, dict) and entity.get("id") in futures:
                            found[str(entity["id"])] = entity
            for mid in ids:  # alone, or left out of the bulk answer
                if mid not in found:
                    found[mid] = await self.genesys.get_message(conversation_id, mid)
        except Exception as exc:  # every waiting job sees the failure (and is retried)
            for future in futures.values():
                if future is not None and not future.done():
                    future.set_exception(exc)
            return
        except BaseException:  # closed (cancelled), perhaps while waiting: so are the reads
            take()
            for future in futures.values():
                if future is not None:
                    future.cancel()
            raise
        for mid, message in found.items():
            self._keep((conversation_id, mid), message)
            future = futures.get(mid)
            if future is not None and not future.done():
                future.set_result(message)

    async def _read(self, key: tuple[str, str]) -> dict[str, Any]:
        message = await self.genesys.get_message(*key)
        self._keep(key, message)
        return message

    def _keep(self, key: tuple[str, str], message: dict[str, Any]) -> None:
        if len(self._kept) >= MAX_KEPT:
            now = self._clock()
            for stale in [k for k, (until, _) in self._kept.items() if until <= now]:
                del self._kept[stale]
            while len(self._kept) >= MAX_KEPT:
                del self._kept[next(iter(self._kept))]
        self._kept[key] = (self._clock() + self.keep_s, message)
