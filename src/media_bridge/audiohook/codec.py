"""Audio maths for AudioHook frames: G.711 mu-law tables, de-interleaving, a streaming
polyphase resampler and a net-speech counter (webrtcvad).

Everything is numpy and table driven so one process can carry hundreds of calls.

The resampler is hand-written rather than PyAV's ``AudioResampler`` (a dependency
already): it works on the numpy frames as they arrive, without an ``AudioFrame`` per
frame, and gives zero delay and an exact output length by construction (tested), so
sample counts, the AudioHook timeline, stay exact. SciPy's ``resample_poly`` (not a
dependency) keeps no state between frames; python-soxr's ``ResampleStream`` (not a
dependency) does, but holds back its filter's latency (``soxr_delay``) until the stream
ends, so a frame's output is not the frame's length, and would add a C library for a
speech-band conversion this module does in numpy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

Int16Array = npt.NDArray[np.int16]


def _build_ulaw_decode() -> Int16Array:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


def _build_ulaw_encode() -> npt.NDArray[np.uint8]:
    pcm = np.arange(-32768, 32768, dtype=np.int32)
    sign = np.where(pcm < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(pcm), 32635) + 0x84
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    exponent = np.clip(exponent, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    out: npt.NDArray[np.uint8] = (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)
    return out


#: mu-law byte -> linear 16-bit sample (the standard G.711 table)
ULAW_DECODE: Int16Array = _build_ulaw_decode()
#: linear sample (offset by 32768) -> mu-law byte
ULAW_ENCODE: npt.NDArray[np.uint8] = _build_ulaw_encode()


def ulaw_decode(data: bytes) -> Int16Array:
    return np.take(ULAW_DECODE, np.frombuffer(data, dtype=np.uint8))


def ulaw_encode(samples: Int16Array) -> bytes:
    return ULAW_ENCODE[samples.astype(np.int32) + 32768].tobytes()


def bytes_per_sample(fmt: str) -> int:
    return 1 if fmt == "PCMU" else 2


def decode_frame(data: bytes, fmt: str, channels: int) -> Int16Array:
    """Binary frame -> (samples, channels) int16. The frame must hold whole samples."""
    width = bytes_per_sample(fmt) * channels
    if len(data) % width:
        raise ValueError(
            f"frame of {len(data)} bytes is not a whole number of {width}-byte samples"
        )
    pcmu = fmt == "PCMU"
    flat = ulaw_decode(data) if pcmu else np.frombuffer(data, dtype="<i2").astype(np.int16)
    return flat.reshape(-1, channels)


def encode_frame(samples: Int16Array, fmt: str) -> bytes:
    """(samples, channels) int16 -> interleaved frame bytes (L16 little-endian)."""
    flat = np.ascontiguousarray(samples).reshape(-1)
    if fmt == "PCMU":
        return ulaw_encode(flat)
    return flat.astype("<i2").tobytes()


class StreamingResampler:
    """Rational polyphase resampler (windowed-sinc FIR) that keeps state across frames.

    Sample-aligned: the filter has an odd length, so its delay is a whole number of
    upsampled samples, and output ``n`` is read that many samples later (input time
    ``n / rate_out`` maps to output ``n``, not 0.97 ms later). The price is a lookahead of
    a few input samples, which ``flush`` returns at the end of the stream (computed against
    silence), so the output holds exactly ``ceil(inputs * rate_out / rate_in)`` samples.
    """

    def __init__(self, rate_in: int, rate_out: int, taps_per_phase: int = 16) -> None:
        g = math.gcd(rate_in, rate_out)
        self.up = rate_out // g
        self.down = rate_in // g
        self.identity = self.up == self.down == 1
        n = taps_per_phase * self.up + 1
        cutoff = 0.5 / max(self.up, self.down) * 0.92
        t = np.arange(n) - (n - 1) / 2
        h = 2 * cutoff * np.sinc(2 * cutoff * t) * np.kaiser(n, 8.0) * self.up
        #: the filter's group delay in upsampled samples (whole: ``n`` is odd)
        self.delay = (n - 1) // 2
        k = -(-n // self.up)
        #: phases[p, j] multiplies x[i - j] for outputs in phase p
        self.phases = np.zeros((self.up, k), dtype=np.float64)
        for p in range(self.up):
            taps = h[p :: self.up]
            self.phases[p, : len(taps)] = taps
        self.k = k
        self.history = np.zeros(k - 1, dtype=np.float64)
        self.consumed = 0  # input samples taken so far
        self.produced = 0  # output samples produced so far

    def process(self, samples: Int16Array) -> Int16Array:
        if self.identity:
            return samples.astype(np.int16)
        total_in = self.consumed + len(samples)
        # output n reads upsampled sample n * down + delay, whose newest input is
        # (n * down + delay) // up: produce every output whose newest input has arrived
        last = (total_in * self.up - self.delay - 1) // self.down
        return self._produce(samples.astype(np.float64), total_in, last)

    def flush(self) -> Int16Array:
        """The outputs still owed at the end of the stream (their lookahead is silence)."""
        if self.identity:
            return np.zeros(0, dtype=np.int16)
        owed = -(-self.consumed * self.up // self.down)
        pad = self.delay // self.up + 1
        return self._produce(np.zeros(pad), self.consumed + pad, owed - 1)

    def _produce(self, fresh: npt.NDArray[np.float64], total_in: int, last: int) -> Int16Array:
        x = np.concatenate([self.history, fresh])
        n = np.arange(self.produced, last + 1, dtype=np.int64)
        if len(n) == 0:
            self._keep(x, total_in)
            return np.zeros(0, dtype=np.int16)
        t = n * self.down + self.delay
        idx = t // self.up - self.consumed  # position in x of the newest tap, minus k-1
        phase = t % self.up
        if self.up <= 16:
            # outputs n0+c, n0+c+up, ... share one phase: one C-speed convolution each
            y = np.empty(len(n), dtype=np.float64)
            for c in range(min(self.up, len(n))):
                conv = np.convolve(x, self.phases[int(phase[c])], mode="valid")
                y[c :: self.up] = conv[idx[c :: self.up]]
        else:
            gather = idx[:, None] + (self.k - 1) - np.arange(self.k)[None, :]
            y = np.einsum("ij,ij->i", x[gather], self.phases[phase])
        self.produced = int(last + 1)
        self._keep(x, total_in)
        result: Int16Array = np.clip(np.rint(y), -32768, 32767).astype(np.int16)
        return result

    def _keep(self, x: npt.NDArray[np.float64], total_in: int) -> None:
        self.history = x[-(self.k - 1) :].copy() if self.k > 1 else x[:0]
        self.consumed = total_in


class SpeechCounter:
    """Counts net speech with webrtcvad on 30 ms frames, carrying the remainder."""

    def __init__(self, rate: int = 8000, aggressiveness: int = 2) -> None:
        import webrtcvad

        self.vad: Any = webrtcvad.Vad(aggressiveness)
        self.rate = rate
        self.frame = rate * 30 // 1000
        self.rest = np.zeros(0, dtype=np.int16)
        self.speech_frames = 0

    @property
    def speech_seconds(self) -> float:
        return self.speech_frames * 0.03

    def add(self, samples: Int16Array) -> float:
        """Feed mono samples; returns the speech seconds found in them."""
        data = np.concatenate([self.rest, samples]) if len(self.rest) else samples
        whole = len(data) // self.frame * self.frame
        found = 0
        raw = data[:whole].astype("<i2").tobytes()
        step = self.frame * 2
        for off in range(0, len(raw), step):
            if self.vad.is_speech(raw[off : off + step], self.rate):
                found += 1
        self.rest = data[whole:].copy()
        self.speech_frames += found
        return found * 0.03
