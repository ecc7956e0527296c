"""Check delivered call audio by its content against the emulator's own signals."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from genesys_emulator import media
from genesys_emulator.state import Recording

FloatArray = npt.NDArray[np.float64]


def read_wav(path: Path) -> tuple[FloatArray, int]:
    with wave.open(str(path), "rb") as stream:
        assert stream.getnchannels() == 1
        assert stream.getsampwidth() == 2
        rate = stream.getframerate()
        data = np.frombuffer(stream.readframes(stream.getnframes()), dtype="<i2")
    return data.astype(np.float64) / 32768.0, rate


def envelope(samples: FloatArray, rate: int, frame_s: float = 0.05) -> FloatArray:
    size = int(rate * frame_s)
    whole = len(samples) // size
    blocks = samples[: whole * size].reshape(whole, size)
    rms: FloatArray = np.sqrt(np.mean(blocks**2, axis=1))
    return rms


def speaker_correlations(path: Path, recording: Recording) -> dict[str, float]:
    """Correlation of the file's level envelope with each emulated speaker's."""
    samples, rate = read_wav(path)
    seconds = (recording.end - recording.start).total_seconds()
    customer, agent = media.dialogue_signals(recording.seed, seconds, rate)
    got = envelope(samples, rate)
    result = {}
    for name, track in (("customer", customer), ("agent", agent)):
        want = envelope(track.astype(np.float64), rate)
        n = min(len(got), len(want))
        result[name] = float(np.corrcoef(got[:n], want[:n])[0, 1])
    return result
