"""Per-frame levels of an audio file, decoded with PyAV (I/O, so not in ``voice/``).

``voice.channels`` compares two channels' levels during the transcript's phrases; this
module reads those levels from the recording's per-channel files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
#: the floor a silent frame gets (dBFS), so means over frames stay finite
_SILENCE_DB = -100.0


def frame_levels_db(path: Path, frame_s: float = 0.1) -> FloatArray:
    """RMS level (dBFS) of each ``frame_s`` of a mono audio file, decoded in a stream."""
    import av

    levels: list[float] = []
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = int(stream.rate or stream.codec_context.sample_rate)
        size = max(1, int(rate * frame_s))
        carry = np.zeros(0, dtype=np.float64)
        for frame in container.decode(stream):
            raw = frame.to_ndarray()
            samples = raw.astype(np.float64)
            if np.issubdtype(raw.dtype, np.integer):
                samples /= 2.0 ** (8 * raw.dtype.itemsize - 1)
            # packed mono is (1, n); planar is (channels, n): average the planes
            samples = samples.reshape(-1) if samples.shape[0] == 1 else samples.mean(axis=0)
            carry = np.concatenate([carry, samples])
            whole = len(carry) // size
            if whole:
                blocks = carry[: whole * size].reshape(whole, size)
                levels.extend(_db(np.sqrt(np.mean(blocks**2, axis=1))).tolist())
                carry = carry[whole * size :]
    return np.asarray(levels, dtype=np.float64)


def _db(rms: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore"):
        return np.maximum(20.0 * np.log10(np.maximum(rms, 1e-10)), _SILENCE_DB)
