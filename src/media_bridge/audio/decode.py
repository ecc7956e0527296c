"""Open an input with PyAV, check it before decoding, and decode it frame by frame
under limits (duration, samples per input byte, decode errors, wall clock).

Everything that can go wrong becomes one of ``media_bridge.audio.errors``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from media_bridge.audio.errors import (
    AudioTooLarge,
    AudioTooLong,
    CorruptAudio,
    DecodeTimeout,
    DecompressionBomb,
    EmptyAudio,
    NoAudioStream,
    NotAudio,
    TruncatedAudio,
)
from media_bridge.audio.settings import AudioSettings
from media_bridge.audio.sniff import (
    mp4_box_overruns,
    ogg_ends_mid_page,
    sniff,
    wav_data_shortfall,
)

_SNIFF_BYTES = 64
#: a jump in timestamps larger than this means packets were lost in the middle
_GAP_S = 0.1
#: demuxers whose duration FFmpeg can only estimate from the bit rate (headerless streams)
_ESTIMATED = frozenset({"amr", "amrnb", "amrwb", "aac", "mp3", "ac3", "g722", "g723_1", "gsm"})


@dataclass(frozen=True, slots=True)
class Probe:
    """What the header says, before any packet is decoded."""

    size: int
    container: str
    codec: str
    sample_rate: int
    channels: int
    declared_duration_s: float | None
    bit_rate: int | None


def open_input(src: Path, settings: AudioSettings) -> tuple[Any, Any, Probe]:
    """Return ``(container, audio_stream, probe)``; the caller closes the container."""
    size = src.stat().st_size
    if size == 0:
        raise EmptyAudio(f"{src.name}: zero-length file")
    if size > settings.max_input_bytes:
        raise AudioTooLarge(f"{src.name}: {size} bytes > limit {settings.max_input_bytes}")
    with src.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    audio_kind, other_kind = sniff(head)
    if other_kind is not None:
        raise NotAudio(f"{src.name}: not audio, the content is a {other_kind}")
    try:
        container = av.open(str(src), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        if audio_kind is None:
            raise NotAudio(f"{src.name}: not a recognised audio format ({exc})") from exc
        if audio_kind == "mp4" and mp4_box_overruns(src):
            raise TruncatedAudio(f"{src.name}: the MP4 file is cut short ({exc})") from exc
        raise CorruptAudio(f"{src.name}: {audio_kind} header does not decode ({exc})") from exc
    try:
        stream, probe = _probe(src, container, size, audio_kind)
        _check_header(src, probe, settings, audio_kind)
    except BaseException:
        container.close()
        raise
    return container, stream, probe


def _probe(src: Path, container: Any, size: int, audio_kind: str | None) -> tuple[Any, Probe]:
    if not container.streams.audio:
        if container.streams:
            kinds = sorted({stream.type for stream in container.streams})
            raise NoAudioStream(f"{src.name}: no audio stream (only {', '.join(kinds)})")
        if audio_kind is None:
            raise NotAudio(f"{src.name}: no audio found in a {container.format.name} file")
        raise CorruptAudio(f"{src.name}: {audio_kind} file without a readable audio stream")
    stream = container.streams.audio[0]
    context = stream.codec_context
    if context is None or not context.sample_rate or not context.channels:
        raise CorruptAudio(f"{src.name}: audio stream without sample rate or channels")
    declared: float | None = None
    if stream.duration is not None and stream.time_base is not None:
        declared = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        declared = container.duration / 1_000_000
    if declared is not None and (declared <= 0 or _estimated(src, container.format.name)):
        declared = None  # a guess from the bit rate proves nothing about truncation
    probe = Probe(
        size=size,
        container=container.format.name,
        codec=context.name,
        sample_rate=int(context.sample_rate),
        channels=int(context.channels),
        declared_duration_s=declared,
        bit_rate=int(container.bit_rate) if container.bit_rate else None,
    )
    return stream, probe


def _estimated(src: Path, demuxer: str) -> bool:
    """True when the duration is a bit-rate guess: raw streams, MP3 without a VBR header."""
    if demuxer not in _ESTIMATED:
        return False
    if demuxer == "mp3":
        with src.open("rb") as handle:
            head = handle.read(16 * 1024)
        return not any(tag in head for tag in (b"Xing", b"Info", b"VBRI"))
    return True


def _check_header(src: Path, probe: Probe, settings: AudioSettings, audio_kind: str | None) -> None:
    declared = probe.declared_duration_s
    if declared is not None and declared > settings.max_duration_s:
        raise AudioTooLong(
            f"{src.name}: header says {declared:.0f} s > limit {settings.max_duration_s:.0f} s"
        )
    if declared is not None and declared > settings.bomb_grace_s:
        ratio = declared * probe.sample_rate * probe.channels / probe.size
        if ratio > settings.max_samples_per_byte:
            raise DecompressionBomb(
                f"{src.name}: header promises {ratio:.0f} samples per input byte "
                f"(limit {settings.max_samples_per_byte:.0f})"
            )
    if audio_kind == "ogg" and ogg_ends_mid_page(src):
        raise TruncatedAudio(f"{src.name}: the file ends in the middle of an Ogg page")
    if audio_kind == "mp4" and mp4_box_overruns(src):
        raise TruncatedAudio(f"{src.name}: the MP4 file is cut short")
    if audio_kind == "wav":
        missing = wav_data_shortfall(src)
        block = max(1, probe.channels) * 2
        if missing > block * probe.sample_rate * settings.truncation_tolerance_s:
            raise TruncatedAudio(f"{src.name}: {missing} bytes of announced WAV data are missing")


class LimitedDecoder:
    """Iterate decoded frames; raise as soon as a limit is crossed."""

    def __init__(
        self, src: Path, container: Any, stream: Any, probe: Probe, settings: AudioSettings
    ):
        self._src = src
        self._container = container
        self._stream = stream
        self._probe = probe
        self._settings = settings
        self.samples = 0  # per channel, at the decoder's rate
        self.rate = probe.sample_rate
        self.decode_errors = 0
        #: seconds of audio missing between frames (the demuxer skipped damaged data)
        self.gap_s = 0.0

    @property
    def duration_s(self) -> float:
        return self.samples / self.rate if self.rate else 0.0

    def frames(self) -> Iterator[Any]:
        """Decoded frames, in order; limits are checked on every frame (hot loop: locals)."""
        settings = self._settings
        name = self._src.name
        deadline = time.monotonic() + settings.timeout_s
        rate = self.rate
        max_samples = settings.max_duration_s * rate
        bomb_samples = (
            settings.max_samples_per_byte * self._probe.size / max(1, self._probe.channels)
        )
        grace = settings.bomb_grace_s * rate
        samples = 0
        gap = 0.0
        expected = -1.0
        time_base = 0.0
        monotonic = time.monotonic
        try:
            for packet in self._container.demux(self._stream):
                try:
                    decoded = packet.decode()
                except av.error.FFmpegError as exc:
                    self.decode_errors += 1
                    if self.decode_errors > settings.max_decode_errors:
                        raise CorruptAudio(
                            f"{name}: {self.decode_errors} packets failed to decode ({exc})"
                        ) from exc
                    continue
                for frame in decoded:
                    if frame.sample_rate != rate:
                        if samples:
                            raise CorruptAudio(f"{name}: sample rate changes mid-stream")
                        rate = self.rate = frame.sample_rate
                        max_samples = settings.max_duration_s * rate
                        grace = settings.bomb_grace_s * rate
                    count = frame.samples
                    pts = frame.pts
                    if pts is not None:
                        if not time_base:
                            time_base = float(frame.time_base or Fraction(1, rate))
                        start = pts * time_base
                        if expected >= 0 and start - expected > _GAP_S:
                            gap += start - expected
                        expected = start + count / rate
                    samples += count
                    if samples > max_samples:
                        raise AudioTooLong(
                            f"{name}: decoded past the limit of {settings.max_duration_s:.0f} s"
                        )
                    if samples > bomb_samples and samples > grace:
                        raise DecompressionBomb(
                            f"{name}: more than {settings.max_samples_per_byte:.0f} decoded "
                            "samples per input byte"
                        )
                    yield frame
                if monotonic() > deadline:
                    raise DecodeTimeout(
                        f"{name}: decoding took more than {settings.timeout_s:.0f} s"
                    )
        except av.error.FFmpegError as exc:
            raise CorruptAudio(f"{name}: the stream breaks off ({exc})") from exc
        finally:
            self.samples = samples
            self.gap_s = gap
        if samples == 0:
            raise EmptyAudio(f"{name}: the file holds no audio samples")
        self._check_truncation()

    def _check_truncation(self) -> None:
        declared = self._probe.declared_duration_s
        settings = self._settings
        if self.gap_s > settings.truncation_tolerance_s:
            raise CorruptAudio(
                f"{self._src.name}: {self.gap_s:.2f} s of audio are missing mid-stream "
                "(damaged data was skipped)"
            )
        if declared is None:
            return
        tolerance = max(
            settings.truncation_tolerance_s, settings.truncation_tolerance_ratio * declared
        )
        if declared - self.duration_s > tolerance:
            raise TruncatedAudio(
                f"{self._src.name}: decoded {self.duration_s:.2f} s of the "
                f"{declared:.2f} s the header announces"
            )
