"""JSON-lines source: one EventBridge event per line, from a file or stdin.

Used by ``replay``, the demo and tests. Acknowledging is a no-op: replaying the
same file again is harmless because the ledger dedupes by job key.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

from media_bridge.intake.sources.base import RawEvent


class FileSource:
    def __init__(self, path: str | Path, batch_size: int = 200) -> None:
        self.name = f"file:{path}"
        self._path = str(path)
        self._batch_size = batch_size

    def _open(self) -> IO[bytes]:
        if self._path == "-":
            return sys.stdin.buffer
        return Path(self._path).open("rb")

    def _read_batch(self, stream: IO[bytes], first_line: int) -> list[RawEvent]:
        batch: list[RawEvent] = []
        number = first_line
        while len(batch) < self._batch_size:
            line = stream.readline()
            if not line:
                break
            number += 1
            if line.strip():
                batch.append(RawEvent(line, f"{self.name}:{number}"))
        return batch

    async def batches(self) -> AsyncIterator[list[RawEvent]]:
        stream = await asyncio.to_thread(self._open)
        line = 0
        try:
            while True:
                batch = await asyncio.to_thread(self._read_batch, stream, line)
                if not batch:
                    return
                line = int(batch[-1].origin.rsplit(":", 1)[1])
                yield batch
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()

    async def ack(self, events: list[RawEvent]) -> None:
        return None

    async def close(self) -> None:
        return None
