"""Audio for the client simulator: generated two-voice calls or a decoded file, 8 kHz.

Generated audio is speech-like (a harmonic voice with a syllable-rate envelope, so
VAD counts it as speech) and the two parties have different dominant frequencies,
which lets tests tell the channels apart by content.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from media_bridge.audiohook.codec import Int16Array

RATE = 8000
#: dominant frequency of each generated party (Hz)
CUSTOMER_PEAK_HZ = 420.0
AGENT_PEAK_HZ = 1050.0


def voice(duration_s: float, f0: float, peak_hz: float, seed: int, rate: int = RATE) -> Int16Array:
    """A voiced, syllabic signal whose strongest harmonic is the one nearest ``peak_hz``."""
    n = int(duration_s * rate)
    t = np.arange(n) / rate
    rng = np.random.default_rng(seed)
    jitter = 1 + 0.01 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6))
    phase = 2 * np.pi * f0 * np.cumsum(jitter) / rate
    sig = np.zeros(n)
    for k in range(1, int(3400 / f0)):
        freq = k * f0
        gain = 1.0 / (1.0 + ((freq - peak_hz) / 120.0) ** 2) + 0.05 / k
        sig += gain * np.sin(k * phase)
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 3.0 * t + rng.uniform(0, 6))
    sig *= envelope
    sig += rng.normal(0, 0.01, n)
    sig *= 12000 / max(np.max(np.abs(sig)), 1e-9)
    return sig.astype(np.int16)


@functools.lru_cache(maxsize=4)
def generated_call(duration_s: float) -> tuple[Int16Array, Int16Array]:
    """(customer, agent) 8 kHz mono tracks (cached: load runs share one call)."""
    return (
        voice(duration_s, 140.0, CUSTOMER_PEAK_HZ, 1),
        voice(duration_s, 210.0, AGENT_PEAK_HZ, 2),
    )


def load_call(path: Path) -> tuple[Int16Array, Int16Array]:
    """Decode any audio file with PyAV to 8 kHz; a stereo file is (customer, agent),
    a mono file is the customer with a generated agent beside it."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        stereo = (stream.channels or 1) >= 2
        resampler = av.AudioResampler(
            format="s16", layout="stereo" if stereo else "mono", rate=RATE
        )
        parts: list[Int16Array] = []
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                parts.append(np.asarray(out.to_ndarray(), dtype=np.int16).reshape(-1))
        for out in resampler.resample(None):
            parts.append(np.asarray(out.to_ndarray(), dtype=np.int16).reshape(-1))
    data = np.concatenate(parts).astype(np.int16) if parts else np.zeros(0, np.int16)
    if stereo:
        pairs = data.reshape(-1, 2)
        return pairs[:, 0].copy(), pairs[:, 1].copy()
    agent = voice(len(data) / RATE, 210.0, AGENT_PEAK_HZ, 2)
    return data, agent[: len(data)]


def dominant_frequency(samples: Int16Array, rate: int) -> float:
    """Frequency of the strongest FFT bin (for tests and diagnostics)."""
    x = samples.astype(np.float64)
    x = x - x.mean()
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))
