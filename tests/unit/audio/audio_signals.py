"""Synthetic test signals and a PyAV encoder for every input format the bridge meets."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
import numpy.typing as npt
from av.audio.stream import AudioStream

Float = npt.NDArray[np.float64]


def speech_like(seconds: float, rate: int, *, f0: float = 140.0, seed: int = 0) -> Float:
    """Voiced, speech-like signal: harmonics of a wobbling pitch shaped by three formants,
    a syllable-rate envelope, bursts of 0.9 s with 0.35 s pauses. Peak about -10 dBFS.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    pitch = f0 * (1 + 0.08 * np.sin(2 * np.pi * 3.0 * t) + 0.03 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    top = int(min(3800.0, rate / 2 - 200) // f0)
    formants = ((600.0, 120.0), (1400.0, 180.0), (2600.0, 250.0))

    def envelope(freq: float) -> float:
        return 0.03 + sum(float(np.exp(-(((freq - f) / bw) ** 2))) for f, bw in formants)

    voice = sum(
        envelope(k * f0) / np.sqrt(k) * np.sin(k * phase + rng.uniform(0, 6.28))
        for k in range(1, top)
    )
    syllables = (0.55 + 0.45 * np.sin(2 * np.pi * 4.0 * t)) ** 2
    phrases = (np.mod(t, 1.25) < 0.9).astype(np.float64)
    signal = voice * syllables * phrases
    scaled: Float = 0.32 * signal / np.max(np.abs(signal))
    return scaled


def tone(seconds: float, rate: int, freq: float, level: float = 0.3) -> Float:
    t = np.arange(int(seconds * rate)) / rate
    return level * np.sin(2 * np.pi * freq * t)


def white_noise(seconds: float, rate: int, level: float = 0.1, seed: int = 1) -> Float:
    return level * np.random.default_rng(seed).standard_normal(int(seconds * rate))


def pink_noise(seconds: float, rate: int, level: float = 0.1, seed: int = 2) -> Float:
    white = np.random.default_rng(seed).standard_normal(int(seconds * rate))
    spectrum = np.fft.rfft(white)
    freqs = np.fft.rfftfreq(len(white), 1.0 / rate)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0
    pink = np.fft.irfft(spectrum, n=len(white))
    return level * pink / np.std(pink)


def pcm_wav(rate: int, samples: int | Float, *, channels: int = 1) -> bytes:
    """A PCM s16 WAV whose header declares ``rate`` Hz, whatever that rate is (1 Hz, 2^31-1
    Hz: hostile headers are the point). ``samples``: a count of quiet constant samples per
    channel, or a signal in -1..1 (repeated on every channel)."""
    if isinstance(samples, int):
        pcm = np.full(samples, 16, dtype="<i2")
    else:
        pcm = np.clip(np.rint(samples * 32767), -32768, 32767).astype("<i2")
    data = np.repeat(pcm, channels).tobytes()
    block = 2 * channels
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt "
    header += struct.pack("<IHHIIHH", 16, 1, channels, rate, (rate * block) % 2**32, block, 16)
    return header + b"data" + struct.pack("<I", len(data)) + data


def dominant_frequency(samples: npt.NDArray[np.int16], rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1.0 / rate)[int(np.argmax(spectrum))])


@dataclass(frozen=True)
class Format:
    """How to write one input format with PyAV."""

    name: str
    suffix: str
    container: str
    codec: str
    rate: int
    bit_rate: int | None = None
    sample_format: str = "s16"


FORMATS: dict[str, Format] = {
    "ogg_opus": Format("ogg_opus", ".ogg", "ogg", "libopus", 48000, 24000),
    "webm_opus": Format("webm_opus", ".webm", "webm", "libopus", 48000, 24000),
    "amr": Format("amr", ".amr", "amr", "libopencore_amrnb", 8000, 12200),
    "m4a_aac": Format("m4a_aac", ".m4a", "ipod", "aac", 44100, 64000, "fltp"),
    "mp3": Format("mp3", ".mp3", "mp3", "libmp3lame", 44100, 64000, "s16p"),
    "wav_pcm": Format("wav_pcm", ".wav", "wav", "pcm_s16le", 16000),
    "wav_mulaw": Format("wav_mulaw", ".wav", "wav", "pcm_mulaw", 8000),
    "flac": Format("flac", ".flac", "flac", "flac", 16000),
}


def encode(path: Path, signal: Float, fmt: Format, *, channels: int = 1) -> Path:
    """Encode ``signal`` (mono 1-D, or (channels, n)) sampled at ``fmt.rate``."""
    data = np.atleast_2d(signal)
    if data.shape[0] != channels:
        data = np.repeat(data[:1], channels, axis=0)
    layout = "mono" if channels == 1 else "stereo"
    pcm = np.clip(np.rint(data * 32767), -32768, 32767).astype(np.int16)
    with av.open(str(path), mode="w", format=fmt.container) as container:
        stream = cast(AudioStream, container.add_stream(fmt.codec, rate=fmt.rate))
        stream.codec_context.layout = layout
        stream.codec_context.format = fmt.sample_format
        if fmt.bit_rate:
            stream.codec_context.bit_rate = fmt.bit_rate
        resampler = av.AudioResampler(format=fmt.sample_format, layout=layout, rate=fmt.rate)
        step = fmt.rate // 10
        for start in range(0, pcm.shape[1], step):
            chunk = np.ascontiguousarray(pcm[:, start : start + step].T).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout=layout)
            frame.sample_rate = fmt.rate
            frame.pts = start
            frame.time_base = Fraction(1, fmt.rate)
            for converted in resampler.resample(frame):
                for packet in stream.encode(converted):
                    container.mux(packet)
        for converted in resampler.resample(None):
            for packet in stream.encode(converted):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path
