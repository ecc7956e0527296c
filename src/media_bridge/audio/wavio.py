"""Minimal streaming 16-bit mono PCM WAV writer and reader.

The header is written with placeholder sizes and patched on close, so samples go to
disk as they are decoded; trailing silence can be cut by truncating the file.

Hand-written rather than the stdlib ``wave``: it writes the same header, but cutting the
kept length on close (``keep_samples``) and reading a sample range into numpy would be
written around it anyway; this module is those two jobs and the 44-byte header.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import numpy as np

from media_bridge.audio.analysis import Int16Array
from media_bridge.files import create_private

HEADER_BYTES = 44


def wav_header(rate: int, data_bytes: int, channels: int = 1) -> bytes:
    block_align = channels * 2
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + data_bytes,
        b"WAVE",
        b"fmt ",
        16,
        1,  # PCM
        channels,
        rate,
        rate * block_align,
        block_align,
        16,
        b"data",
        data_bytes,
    )


class WavWriter:
    """Append int16 samples; ``close(keep=(start, end))`` keeps only that sample range
    when ``start`` is 0 (cheap truncation); other ranges need a copy (see finalize)."""

    def __init__(self, path: Path, rate: int, *, fd: int | None = None) -> None:
        """Write to ``fd`` when given (a file already created), else create ``path``
        (``0600``, refused when it exists or is a symlink)."""
        self.path = path
        self.rate = rate
        self.samples = 0
        self._file: BinaryIO = os.fdopen(create_private(path) if fd is None else fd, "wb")
        self._file.write(wav_header(rate, 0))

    def write(self, samples: Int16Array) -> None:
        self._file.write(samples.astype("<i2", copy=False).tobytes())
        self.samples += len(samples)

    def close(self, keep_samples: int | None = None) -> None:
        if self._file.closed:
            return
        if keep_samples is not None and keep_samples < self.samples:
            self.samples = keep_samples
            self._file.truncate(HEADER_BYTES + 2 * keep_samples)
        self._file.seek(0)
        self._file.write(wav_header(self.rate, 2 * self.samples))
        self._file.close()

    def abort(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> WavWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def read_samples(path: Path, start: int, end: int, block: int = 1 << 18) -> Iterator[Int16Array]:
    """Yield samples ``[start, end)`` of a file written by ``WavWriter``, in blocks."""
    with path.open("rb") as handle:
        handle.seek(HEADER_BYTES + 2 * start)
        left = end - start
        while left > 0:
            raw = handle.read(2 * min(block, left))
            if not raw:
                return
            left -= len(raw) // 2
            yield np.frombuffer(raw, dtype="<i2").astype(np.int16, copy=False)
