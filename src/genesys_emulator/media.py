"""Real, decodable media for attachments and recordings, generated with PyAV.

Audio is speech-like rather than a test tone: a voiced harmonic source whose pitch drifts,
shaped by vowel formants, cut into syllables and words with pauses, with consonant noise
bursts and a little background noise. Everything is deterministic in the seed.

Encoding costs tens of milliseconds, so each (kind, variant) is encoded once and every
attachment gets a cheap *remux* of those packets carrying its own id as container metadata:
a valid file with its own sha256 in about a millisecond. AMR has no metadata, so its files
get a short tail of frames spelling a unique counter instead.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]

_VOWEL_FORMANTS: tuple[tuple[float, float, float], ...] = (
    (730.0, 1090.0, 2440.0),  # a
    (530.0, 1840.0, 2480.0),  # e
    (270.0, 2290.0, 3010.0),  # i
    (570.0, 840.0, 2410.0),  # o
    (300.0, 870.0, 2240.0),  # u
)


@dataclass(frozen=True)
class AudioKind:
    """How one kind of audio file is encoded and described."""

    name: str
    container: str
    codec: str
    sample_rate: int
    mime: str
    extension: str


AUDIO_KINDS: dict[str, AudioKind] = {
    k.name: k
    for k in (
        AudioKind("ogg_opus", "ogg", "libopus", 48000, "audio/ogg", "ogg"),
        AudioKind("amr", "amr", "libopencore_amrnb", 8000, "audio/amr", "amr"),
        AudioKind("m4a", "ipod", "aac", 16000, "audio/mp4", "m4a"),
        AudioKind("mp3", "mp3", "libmp3lame", 16000, "audio/mpeg", "mp3"),
        AudioKind("webm_opus", "webm", "libopus", 48000, "audio/webm", "webm"),
        AudioKind("wav_pcm", "wav", "pcm_s16le", 16000, "audio/wav", "wav"),
        AudioKind("wav_ulaw", "wav", "pcm_mulaw", 8000, "audio/wav", "wav"),
    )
}

#: recording formatId -> audio kind used for call recordings (telephony audio is 8 kHz)
RECORDING_KINDS: dict[str, AudioKind] = {
    "WAV": AudioKind("rec_wav", "wav", "pcm_s16le", 8000, "audio/wav", "wav"),
    "WAV_ULAW": AudioKind("rec_wav_ulaw", "wav", "pcm_mulaw", 8000, "audio/wav", "wav"),
    "OGG_OPUS": AudioKind("rec_ogg_opus", "ogg", "libopus", 48000, "audio/ogg", "ogg"),
    "MP3": AudioKind("rec_mp3", "mp3", "libmp3lame", 8000, "audio/mpeg", "mp3"),
    "WEBM": AudioKind("rec_webm", "webm", "libopus", 48000, "audio/webm", "webm"),
}


def speech_signal(
    seed: int, seconds: float, sample_rate: int, f0: float | None = None
) -> FloatArray:
    """A mono speech-like signal in [-1, 1]: syllables of formant-shaped harmonics and pauses."""
    rng = np.random.default_rng(seed)
    n = max(1, int(seconds * sample_rate))
    base_f0 = f0 if f0 is not None else float(rng.uniform(95.0, 230.0))
    # syllable plan: (start, length, vowel) with pauses between words
    envelope = np.zeros(n, dtype=np.float32)
    vowel_at = np.zeros(n, dtype=np.int8)
    onsets: list[int] = []
    pos = int(rng.uniform(0.05, 0.2) * sample_rate)
    while pos < n:
        for _ in range(int(rng.integers(1, 5))):  # one word
            length = int(rng.uniform(0.12, 0.3) * sample_rate)
            end = min(n, pos + length)
            if end <= pos:
                break
            shape = np.abs(np.sin(np.linspace(0.0, np.pi, end - pos, dtype=np.float32))) ** 0.7
            envelope[pos:end] = shape * float(rng.uniform(0.6, 1.0))
            vowel_at[pos:end] = int(rng.integers(0, len(_VOWEL_FORMANTS)))
            onsets.append(pos)
            pos = end + int(rng.uniform(0.0, 0.04) * sample_rate)
        pos += int(rng.uniform(0.12, 0.5 if rng.random() < 0.8 else 0.9) * sample_rate)
    t = np.arange(n, dtype=np.float32) / sample_rate
    drift = 1.0 + 0.08 * np.sin(
        2 * np.pi * float(rng.uniform(0.2, 0.6)) * t + float(rng.uniform(0, 6))
    )
    f0_track = (base_f0 * drift).astype(np.float32)
    phase = (2 * np.pi * np.cumsum(f0_track) / sample_rate).astype(np.float32)
    formants = np.array(_VOWEL_FORMANTS, dtype=np.float32)[vowel_at]  # (n, 3)
    voiced = np.zeros(n, dtype=np.float32)
    max_harmonic = int(min(40, (min(sample_rate / 2, 4000.0)) // base_f0))
    for k in range(1, max_harmonic + 1):
        freq = k * f0_track
        gain = np.zeros(n, dtype=np.float32)
        for j, bandwidth in enumerate((90.0, 120.0, 170.0)):
            gain += np.exp(-(((freq - formants[:, j]) / bandwidth) ** 2)) / (j + 1)
        voiced += (gain + 0.02) * np.sin(k * phase) / np.sqrt(k)
    signal = voiced * envelope
    burst = int(0.03 * sample_rate)
    for start in onsets:  # consonant-like noise at syllable onsets
        if rng.random() < 0.6:
            end = min(n, start + burst)
            signal[start:end] += rng.normal(0.0, 0.15, end - start).astype(np.float32)
    signal += rng.normal(0.0, 0.004, n).astype(np.float32)
    peak = float(np.max(np.abs(signal))) or 1.0
    return (signal / peak * 0.6).astype(np.float32)


@dataclass(frozen=True)
class Turn:
    """One speaker's stretch of a call: seconds from the start of the recording."""

    start_s: float
    end_s: float
    speaker: str  # "customer" | "agent"
    seed: int


def dialogue_turns(seed: int, seconds: float) -> list[Turn]:
    """Alternating turns (agent first) with short gaps; shared by audio and transcript."""
    rng = np.random.default_rng(seed)
    turns: list[Turn] = []
    pos, speaker = 0.0, "agent"
    while pos < seconds - 0.5:
        end = min(seconds, pos + float(rng.uniform(1.5, 4.0)))
        turns.append(Turn(pos, end, speaker, int(rng.integers(0, 2**31))))
        pos = end + float(rng.uniform(0.2, 0.6))
        speaker = "customer" if speaker == "agent" else "agent"
    return turns


def dialogue_signals(seed: int, seconds: float, sample_rate: int) -> tuple[FloatArray, FloatArray]:
    """Customer and agent signals that take turns, each with its own voice."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sample_rate)
    voices = {"customer": float(rng.uniform(170, 230)), "agent": float(rng.uniform(95, 130))}
    tracks = {"customer": np.zeros(n, dtype=np.float32), "agent": np.zeros(n, dtype=np.float32)}
    for turn in dialogue_turns(seed, seconds):
        start, end = int(turn.start_s * sample_rate), min(n, int(turn.end_s * sample_rate))
        if end <= start:
            continue
        segment = speech_signal(
            turn.seed, (end - start) / sample_rate, sample_rate, voices[turn.speaker]
        )
        segment = segment[: end - start]  # rounding may make it a sample short or long
        tracks[turn.speaker][start : start + len(segment)] = segment
    noise = np.random.default_rng(seed + 1)
    for track in tracks.values():
        track += noise.normal(0.0, 0.003, n).astype(np.float32)
    return tracks["customer"], tracks["agent"]


def encode_audio(channels: list[FloatArray], kind: AudioKind, comment: str = "") -> bytes:
    """Encode 1 or 2 channels of float samples (at ``kind.sample_rate``) into a file."""
    layout = "mono" if len(channels) == 1 else "stereo"
    pcm = np.clip(np.stack(channels), -1.0, 1.0)
    samples = (pcm * 32767.0).astype(np.int16)
    interleaved = samples.T.reshape(1, -1)  # packed s16
    buf = io.BytesIO()
    with av.open(buf, "w", format=kind.container) as container:
        stream: Any = container.add_stream(kind.codec, rate=kind.sample_rate)
        stream.layout = layout
        if comment:
            container.metadata["comment"] = comment
        frame = av.AudioFrame.from_ndarray(interleaved, format="s16", layout=layout)
        frame.sample_rate = kind.sample_rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue()


def remux_with_comment(data: bytes, container_format: str, comment: str) -> bytes:
    """Copy the packets of ``data`` into a new container whose metadata carries ``comment``."""
    source: Any = av.open(io.BytesIO(data))
    out = io.BytesIO()
    try:
        with av.open(out, "w", format=container_format) as container:
            in_stream = source.streams.audio[0]
            stream = container.add_stream_from_template(in_stream)
            container.metadata["comment"] = comment
            for packet in source.demux(in_stream):
                if packet.dts is None:
                    continue
                packet.stream = stream
                container.mux(packet)
    finally:
        source.close()
    return out.getvalue()


_AMR_FRAME_BYTES = (12, 13, 15, 17, 19, 20, 26, 31, 5, 0, 0, 0, 0, 0, 0, 0)
_AMR_MAGIC = b"#!AMR\n"


def _amr_frames(data: bytes) -> list[bytes]:
    frames, pos = [], len(_AMR_MAGIC)
    while pos < len(data):
        size = 1 + _AMR_FRAME_BYTES[(data[pos] >> 3) & 0x0F]
        frames.append(data[pos : pos + size])
        pos += size
    return frames


def amr_with_counter(data: bytes, counter: int, bits: int = 24) -> bytes:
    """Append ``bits`` frames (480 ms) choosing between two quiet frames to spell ``counter``."""
    frames = _amr_frames(data)
    quiet = [f for f in frames[-12:] if len(f) > 1] or frames[-2:]
    zero, one = quiet[-1], quiet[-2] if len(quiet) > 1 else quiet[-1]
    if zero == one:  # make the two symbols differ while staying a valid frame
        one = bytes([zero[0]]) + bytes(b ^ 0x01 for b in zero[1:])
    tail = b"".join(one if (counter >> i) & 1 else zero for i in range(bits))
    return data + tail


class AudioFactory:
    """Encodes each (kind, variant) once and hands out cheap, distinct copies."""

    def __init__(self, variants: int = 8, seconds: float = 4.0) -> None:
        self._variants = variants
        self._seconds = seconds
        self._base: dict[tuple[str, int], bytes] = {}
        self._counters: dict[str, int] = {}
        self._lock = threading.Lock()

    def base(self, kind: AudioKind, variant: int) -> bytes:
        key = (kind.name, variant % self._variants)
        with self._lock:
            cached = self._base.get(key)
        if cached is None:
            signal = speech_signal(1000 + key[1], self._seconds, kind.sample_rate)
            cached = encode_audio([signal], kind)
            with self._lock:
                self._base.setdefault(key, cached)
        return cached

    def unique(self, kind: AudioKind, variant: int, tag: str) -> bytes:
        """A file of ``kind`` whose bytes differ from every other file this factory made."""
        data = self.base(kind, variant)
        if kind.container == "amr":
            with self._lock:
                counter = self._counters.get(kind.name, 0)
                self._counters[kind.name] = counter + 1
            return amr_with_counter(data, counter)
        return remux_with_comment(data, kind.container, f"genesys-emulator {tag}")


def image_bytes(seed: int, kind: str = "png", size: int = 32) -> bytes:
    """A small real PNG or JPEG with a seeded pattern."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size]
    colour = rng.integers(0, 255, 3)
    rgb = np.stack(
        [(x * 8 + colour[0]) % 256, (y * 8 + colour[1]) % 256, ((x ^ y) * 4 + colour[2]) % 256],
        axis=-1,
    ).astype(np.uint8)
    codec, pix_fmt = ("png", "rgb24") if kind == "png" else ("mjpeg", "yuvj420p")
    context: Any = av.CodecContext.create(codec, "w")
    context.width = context.height = size
    context.pix_fmt = pix_fmt
    context.time_base = Fraction(1, 25)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=pix_fmt)
    packets = list(context.encode(frame)) + list(context.encode(None))
    return b"".join(bytes(p) for p in packets)


def pdf_bytes(text: str) -> bytes:
    """A minimal valid one-page PDF showing ``text``."""
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 12 Tf 72 720 Td ({safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)
