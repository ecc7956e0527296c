"""A signal whose ideal resampling is known, and a sub-sample lag measure."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def tones(rate: int, seconds: float) -> npt.NDArray[np.float64]:
    """A band-limited signal (tones under 3.4 kHz) sampled at ``rate``: the same
    analytic signal at any rate, so the ideal resampled output is known exactly."""
    t = np.arange(int(seconds * rate)) / rate
    parts = [(3000, 310.0, 0.3), (2500, 1130.0, 1.1), (2000, 2270.0, 2.0), (1500, 3310.0, 0.7)]
    return sum((a * np.sin(2 * np.pi * f * t + p) for a, f, p in parts), np.zeros(len(t)))


def lag_in_samples(out: npt.NDArray[np.float64], ideal: npt.NDArray[np.float64]) -> float:
    """Where ``out`` best matches ``ideal`` (positive: ``out`` is late), to a fraction
    of a sample (parabola through the correlation peak)."""
    corr = np.correlate(out, ideal, mode="full")
    peak = int(np.argmax(corr))
    a, b, c = corr[peak - 1], corr[peak], corr[peak + 1]
    return float(peak - (len(ideal) - 1) + 0.5 * (a - c) / (a - 2 * b + c))
