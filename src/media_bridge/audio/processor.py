"""Async face of the audio step: the CPU work runs in a process pool, off the event loop.

Processes (not threads) because decoding, resampling and VAD hold the GIL for part of
their time and one hostile file must not stall the loop; the pool is sized to the cores.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import TracebackType

from media_bridge import metrics
from media_bridge.audio.normalize import normalize, split_stereo
from media_bridge.audio.report import AudioReport, StereoSplitReport
from media_bridge.audio.settings import AudioSettings, ChannelChoice
from media_bridge.errors import Transient


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _exit_with_parent(parent_pid: int) -> None:
    """Pool initializer: a worker whose bridge died (kill -9 included) exits too.

    Without this, a killed bridge leaves its idle pool workers blocked on the call
    queue for ever, each holding tens of MB.
    """

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


class AudioProcessor:
    """``await processor.process(src, dst)``; ``await processor.close()`` at shutdown."""

    def __init__(self, settings: AudioSettings, *, workers: int | None = None) -> None:
        self.settings = settings
        self.workers = workers or settings.workers or default_workers()
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn: a forked child would inherit the event loop's threads and locks
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=context,
                initializer=_exit_with_parent,
                initargs=(os.getpid(),),
            )
        return self._pool

    async def process(
        self, src: Path, dst: Path, *, channel: ChannelChoice | None = None
    ) -> AudioReport:
        """Normalise ``src`` into ``dst`` (see ``normalize``); AudioError on bad input."""
        loop = asyncio.get_running_loop()
        try:
            with metrics.AUDIO_SECONDS.labels(step="normalize").time():
                return await loop.run_in_executor(
                    self._executor(), normalize, src, dst, self.settings, channel
                )
        except BrokenProcessPool as exc:
            self._discard_pool()
            raise Transient(f"audio worker process died while decoding {src.name}") from exc

    async def split(self, src: Path, dst_left: Path, dst_right: Path) -> StereoSplitReport:
        """Both channels of a stereo recording as two mono files (see ``split_stereo``)."""
        loop = asyncio.get_running_loop()
        try:
            with metrics.AUDIO_SECONDS.labels(step="split").time():
                return await loop.run_in_executor(
                    self._executor(), split_stereo, src, dst_left, dst_right, self.settings
                )
        except BrokenProcessPool as exc:
            self._discard_pool()
            raise Transient(f"audio worker process died while decoding {src.name}") from exc

    def _discard_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    async def close(self) -> None:
        """Wait for running work to finish and stop the worker processes."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)

    async def __aenter__(self) -> AudioProcessor:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
