"""Speech and level measures, fed block by block so memory stays flat.

webrtcvad alone calls any loud stationary noise "speech" (white, pink or brown noise
at -20 dBFS is 100 % speech to it), so a frame counts as speech only when webrtcvad
says so, it is louder than an energy floor, its energy lies in the voice band (not
mains hum) and its spectral envelope has shape: noise of any colour follows a power
law (a straight line in log-log), speech has formant bumps. The measure is the
standard deviation (natural-log units) of the smoothed log spectrum around its
best-fit power law: about 0.55 for noise, 1-3 for speech.

Only a float and a bool per frame are kept: about 4 MB for four hours at 30 ms frames.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import webrtcvad

from media_bridge.audio.report import LevelMetrics, SpeechMetrics

Int16Array = npt.NDArray[np.int16]
FULL_SCALE = 32768.0
#: levels of digital silence are reported as this instead of -inf (JSON has no -inf)
SILENCE_DBFS = -120.0
VAD_RATES = (8000, 16000, 32000, 48000)
#: voice band used by the spectral checks
_BAND_LOW_HZ = 100.0
_BAND_HIGH_HZ = 4000.0
#: share of a frame's energy that must lie in the voice band (rejects hum)
_MIN_BAND_SHARE = 0.2
#: spectral bins averaged before measuring the envelope's shape (an odd number)
_SMOOTH = 5


def dbfs(mean_square: float) -> float:
    """Mean square of full-scale-normalised samples -> dBFS (floored at SILENCE_DBFS)."""
    if mean_square <= 0.0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 10.0 * math.log10(mean_square))


def _speech_test(vad: webrtcvad.Vad, rate: int, frame_len: int) -> Callable[[memoryview], bool]:
    """webrtcvad's per-frame call without its Python wrapper (a third of its cost)."""
    try:
        import _webrtcvad  # type: ignore[import-not-found]  # the C extension behind Vad

        handle = vad._vad

        def direct(frame: memoryview) -> bool:
            return bool(_webrtcvad.process(handle, rate, frame, frame_len))

        return direct
    except (ImportError, AttributeError):  # pragma: no cover - another webrtcvad build

        def wrapped(frame: memoryview) -> bool:
            return bool(vad.is_speech(frame, rate))

        return wrapped


@dataclass(frozen=True, slots=True)
class SpeechSpan:
    """Frame decisions summarised: where speech starts and ends, in seconds."""

    first_s: float | None
    last_end_s: float | None


class SpeechAnalyzer:
    """Frames the stream, runs webrtcvad and the noise checks on every frame."""

    def __init__(
        self,
        rate: int,
        *,
        frame_ms: int,
        aggressiveness: int,
        energy_floor_dbfs: float,
        min_contrast: float,
    ) -> None:
        if rate not in VAD_RATES:
            raise ValueError(f"webrtcvad needs one of {VAD_RATES} Hz, not {rate}")
        self.rate = rate
        self.frame_ms = frame_ms
        self.aggressiveness = aggressiveness
        self._frame_len = rate * frame_ms // 1000
        self._vad = webrtcvad.Vad(aggressiveness)
        self._is_speech = _speech_test(self._vad, rate, self._frame_len)
        self._floor = 10.0 ** (energy_floor_dbfs / 10.0)
        self._min_contrast = min_contrast
        self._nfft = 1 << (self._frame_len.bit_length() - 1)  # largest power of 2 <= frame
        self._window = np.hanning(self._nfft).astype(np.float32)
        freqs = np.fft.rfftfreq(self._nfft, 1.0 / rate)
        self._band = (freqs >= _BAND_LOW_HZ) & (freqs <= min(_BAND_HIGH_HZ, rate / 2))
        # log-frequency axis of the smoothed band (centred for the line fit)
        band_freqs = freqs[self._band]
        centres = np.log(band_freqs[_SMOOTH // 2 : len(band_freqs) - _SMOOTH // 2])
        self._log_f = (centres - centres.mean()).astype(np.float32)
        self._carry: Int16Array = np.empty(0, dtype=np.int16)
        self._energies: list[npt.NDArray[np.float32]] = []
        self._flags: list[npt.NDArray[np.bool_]] = []
        self.samples = 0

    def feed(self, samples: Int16Array) -> None:
        self.samples += len(samples)
        data = np.concatenate((self._carry, samples)) if len(self._carry) else samples
        count = len(data) // self._frame_len
        if count == 0:
            self._carry = data.copy()
            return
        used = count * self._frame_len
        frames = np.ascontiguousarray(data[:used]).reshape(count, self._frame_len)
        self._carry = data[used:].copy()
        self._analyse(frames)

    def finish(self) -> None:
        """Analyse the last partial frame (zero-padded) so short clips are not lost."""
        if len(self._carry) >= self._frame_len // 2:
            padded = np.zeros(self._frame_len, dtype=np.int16)
            padded[: len(self._carry)] = self._carry
            self._analyse(padded.reshape(1, -1))
        self._carry = np.empty(0, dtype=np.int16)

    def _analyse(self, frames: Int16Array) -> None:
        scaled = frames.astype(np.float32) * np.float32(1.0 / FULL_SCALE)
        energies = np.einsum("ij,ij->i", scaled, scaled) / np.float32(self._frame_len)
        loud = np.flatnonzero(energies > self._floor)
        flags = np.zeros(len(frames), dtype=np.bool_)
        if len(loud):
            view = frames.data.cast("B")
            size = self._frame_len * 2
            voiced = [i for i in loud.tolist() if self._is_speech(view[i * size : (i + 1) * size])]
            if voiced:
                idx = np.asarray(voiced, dtype=np.intp)
                flags[idx[self._voice_like(scaled[idx])]] = True
        self._energies.append(energies.astype(np.float32))
        self._flags.append(flags)

    def _voice_like(self, frames: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
        spectrum = np.fft.rfft(frames[:, : self._nfft] * self._window, axis=1)
        power = spectrum.real**2 + spectrum.imag**2 + np.float32(1e-12)
        band = power[:, self._band]
        band_share = band.sum(axis=1) / power.sum(axis=1)
        width = band.shape[1] - _SMOOTH + 1
        smooth = sum(band[:, shift : shift + width] for shift in range(_SMOOTH))
        log_power = np.log(smooth)
        centred = log_power - log_power.mean(axis=1, keepdims=True)
        slope = centred @ self._log_f / np.dot(self._log_f, self._log_f)
        contrast = (centred - slope[:, None] * self._log_f).std(axis=1)
        result: npt.NDArray[np.bool_] = (contrast >= self._min_contrast) & (
            band_share >= _MIN_BAND_SHARE
        )
        return result

    def _arrays(self) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
        if not self._flags:
            return np.empty(0, dtype=np.float32), np.empty(0, dtype=np.bool_)
        return np.concatenate(self._energies), np.concatenate(self._flags)

    def speech_flags(self) -> npt.NDArray[np.bool_]:
        """One flag per frame of ``frame_ms`` (frame i starts at ``i * frame_ms``): speech?"""
        return self._arrays()[1]

    def metrics(self) -> tuple[SpeechMetrics, SpeechSpan, float | None]:
        """(speech metrics, where speech is, mean square of speech frames or None)."""
        energies, flags = self._arrays()
        frame_s = self.frame_ms / 1000.0
        speech_frames = int(flags.sum())
        net = speech_frames * frame_s
        duration = self.samples / self.rate
        ratio = min(1.0, net / duration) if duration > 0 else 0.0
        speech_ms = float(energies[flags].mean(dtype=np.float64)) if speech_frames else None
        noise_frames = len(flags) - speech_frames
        snr: float | None = None
        if speech_ms is not None and speech_frames >= 3 and noise_frames >= 3:
            noise_ms = float(energies[~flags].mean(dtype=np.float64))
            snr = round(dbfs(speech_ms) - dbfs(noise_ms), 2)
        span = SpeechSpan(None, None)
        if speech_frames:
            where = np.flatnonzero(flags)
            span = SpeechSpan(float(where[0]) * frame_s, float(where[-1] + 1) * frame_s)
        metrics = SpeechMetrics(
            net_speech_s=round(net, 3),
            speech_ratio=round(ratio, 4),
            vad_frame_ms=self.frame_ms,
            vad_aggressiveness=self.aggressiveness,
            vad_sample_rate=self.rate,
            snr_db=snr,
        )
        return metrics, span, speech_ms


class LevelMeter:
    """RMS, peak and clipping over a stream of int16 samples."""

    def __init__(self, clip_level_dbfs: float) -> None:
        self._clip = int(min(32767, round(FULL_SCALE * 10.0 ** (clip_level_dbfs / 20.0))))
        self._sum_squares = 0.0
        self._peak = 0
        self._clipped = 0
        self.samples = 0

    def feed(self, samples: Int16Array) -> None:
        if not len(samples):
            return
        self.samples += len(samples)
        as_float = samples.astype(np.float32)
        self._sum_squares += float(np.dot(as_float, as_float))
        high, low = int(samples.max()), int(samples.min())
        self._peak = max(self._peak, high, -low)
        if high >= self._clip or -low >= self._clip:
            self._clipped += int(np.count_nonzero(np.abs(as_float) >= self._clip))

    @property
    def peak_dbfs(self) -> float:
        return dbfs((self._peak / FULL_SCALE) ** 2)

    def metrics(self, speech_mean_square: float | None) -> LevelMetrics:
        mean_square = self._sum_squares / (self.samples * FULL_SCALE**2) if self.samples else 0.0
        speech_rms = None if speech_mean_square is None else round(dbfs(speech_mean_square), 2)
        return LevelMetrics(
            rms_dbfs=round(dbfs(mean_square), 2),
            peak_dbfs=round(self.peak_dbfs, 2),
            clipping_ratio=round(self._clipped / self.samples, 6) if self.samples else 0.0,
            speech_rms_dbfs=speech_rms,
        )
