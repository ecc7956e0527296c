"""Per-session delivery: writes finished chunks to disk, hands them to the sink in
order, and assembles the whole channel (a WAV spooled chunk by chunk) at the end.

A bounded queue sits between the socket reader and the sink: a slow sink slows the
reader (TCP back-pressure) instead of growing memory. Spool files are made by
``media_bridge.files`` (``0600`` in a ``0700`` session folder, a symlink planted at a
spool name replaced or refused, never followed): they hold a caller's voice.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import struct
from pathlib import Path
from typing import Any

from media_bridge.audiohook.codec import Int16Array
from media_bridge.audiohook.recorder import FinishedChunk
from media_bridge.audiohook.sinks import AudioChunkSink, safe_part
from media_bridge.files import open_existing, private_dir, write_private
from media_bridge.observability import get_logger

log = get_logger(__name__)
_HEADER = 44


def wav_header(data_bytes: int, rate: int, channels: int = 1) -> bytes:
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * channels * 2, channels * 2, 16)
        + b"data"
        + struct.pack("<I", data_bytes)
    )


def write_wav(path: Path, samples: Int16Array, rate: int) -> None:
    """A private mono WAV at ``path`` (``files.write_private``)."""
    data = samples.astype("<i2").tobytes()
    write_private(path, wav_header(len(data), rate) + data)


class SessionDelivery:
    def __init__(
        self,
        sink: AudioChunkSink,
        spool_root: Path,
        session_id: str,
        rate: int,
        deliver_chunks_for: set[str],
        queue_size: int = 8,
    ) -> None:
        self.sink = sink
        self.rate = rate
        self.deliver_chunks_for = deliver_chunks_for
        self.dir = spool_root / safe_part(session_id)
        self.queue: asyncio.Queue[tuple[str, Any, dict[str, Any]]] = asyncio.Queue(queue_size)
        self.full_bytes: dict[str, int] = {}
        self.delivered: list[dict[str, Any]] = []
        self.failures = 0
        #: consent not (yet) granted: audio is spooled for the whole-call file only, and
        #: that file is discarded unless consent arrives before the end
        self.held = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def submit(self, chunk: FinishedChunk, meta: dict[str, Any]) -> None:
        await self.queue.put(("chunk", chunk, meta))

    async def finish(self, metas: dict[str, dict[str, Any]]) -> None:
        """Deliver the whole of each channel (``metas``: channel -> meta) and clean up."""
        await self.queue.put(("final", None, {"metas": metas}))
        if self._task is not None:
            await self._task

    def _append(self, chunk: FinishedChunk) -> Path | None:
        private_dir(self.dir)
        full = self.dir / f"{safe_part(chunk.channel)}-full.wav"
        data = chunk.samples.astype("<i2").tobytes()
        if chunk.channel not in self.full_bytes:
            write_private(full, wav_header(0, self.rate))
            self.full_bytes[chunk.channel] = 0
        with os.fdopen(open_existing(full, os.O_WRONLY | os.O_APPEND), "ab") as fh:
            fh.write(data)
        self.full_bytes[chunk.channel] += len(data)
        if chunk.channel not in self.deliver_chunks_for or self.held:
            return None
        path = self.dir / f"{safe_part(chunk.channel)}-chunk-{chunk.index:05d}.wav"
        write_wav(path, chunk.samples, self.rate)
        return path

    def _seal(self, channel: str) -> Path | None:
        size = self.full_bytes.get(channel)
        if not size:
            return None
        full = self.dir / f"{safe_part(channel)}-full.wav"
        with os.fdopen(open_existing(full, os.O_RDWR), "r+b") as fh:
            fh.write(wav_header(size, self.rate))
        return full

    async def _run(self) -> None:
        while True:
            kind, chunk, meta = await self.queue.get()
            if kind == "chunk":
                path = await asyncio.to_thread(self._append, chunk)
                if path is not None:
                    await self._deliver("chunk", meta, path)
                    with contextlib.suppress(OSError):
                        await asyncio.to_thread(path.unlink)
                continue
            keep = False
            if self.held:
                log.info("audiohook.consent.discarded", spool=str(self.dir))
                await asyncio.to_thread(shutil.rmtree, self.dir, True)
                return
            for channel, final_meta in meta["metas"].items():
                full = await asyncio.to_thread(self._seal, channel)
                if full is not None:
                    keep |= not await self._deliver("final", final_meta, full)
            if not keep:
                await asyncio.to_thread(shutil.rmtree, self.dir, True)
            else:
                log.error("audiohook.delivery.kept_spool", spool=str(self.dir))
            return

    async def _deliver(self, kind: str, meta: dict[str, Any], path: Path) -> bool:
        try:
            if kind == "chunk":
                result = await self.sink.deliver_chunk(meta, path)
            else:
                result = await self.sink.deliver_final(meta, path)
        except Exception as exc:  # a sink failure must not end the call
            self.failures += 1
            log.error("audiohook.delivery.failed", kind=kind, error=str(exc))
            return False
        self.delivered.append({"kind": kind, **result})
        return True
