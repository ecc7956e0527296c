"""Open an input with PyAV, check it before decoding, and decode it frame by frame
under limits (duration, samples per input byte, decode errors, wall clock).

Only the containers the channels carry are opened, and always with the demuxer the
first bytes name (``DEMUXERS``): FFmpeg never probes, so a playlist (HLS), a session
description (SDP) or an ``ffconcat`` script that would read other files or the
network is ``not_audio``. Everything that can go wrong becomes one of
``media_bridge.audio.errors``.
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
    BadSampleRate,
    CorruptAudio,
    DecodeTimeout,
    DecompressionBomb,
    EmptyAudio,
    NoAudioStream,
    NotAudio,
    OutputTooLarge,
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
#: sniffed kind -> the one FFmpeg demuxer allowed to open it. The voice notes of every
#: channel (Ogg/Opus, AMR, MP4/M4A/3GP AAC, MP3, WebM) and the recording formats (WAV,
#: WebM, Ogg, MP3), plus raw AAC and FLAC; nothing else reaches a demuxer.
DEMUXERS: dict[str, str] = {
    "ogg": "ogg",
    "matroska/webm": "matroska",
    "mp4": "mov",
    "mp3": "mp3",
    "aac": "aac",
    "amr": "amr",
    "amr-wb": "amr",
    "wav": "wav",
    "flac": "flac",
}
#: the same list for FFmpeg's own check (``format_whitelist``), in its demuxer names
_FORMAT_WHITELIST = ",".join(sorted(set(DEMUXERS.values()) | {"webm", "mp4", "m4a", "3gp"}))
#: demuxers may only read the input file itself: no network, no pipes
_OPEN_OPTIONS = {"format_whitelist": _FORMAT_WHITELIST, "protocol_whitelist": "file"}
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
    audio_kind, other_kind = _sniff_file(src)
    if other_kind is not None:
        raise NotAudio(f"{src.name}: not audio, the content is a {other_kind}")
    demuxer = DEMUXERS.get(audio_kind) if audio_kind is not None else None
    if demuxer is None:
        found = f"a {audio_kind} file" if audio_kind else "no accepted container"
        raise NotAudio(f"{src.name}: not a recognised audio format ({found})")
    try:
        container = av.open(
            str(src),
            mode="r",
            format=demuxer,
            options=_OPEN_OPTIONS,
            metadata_errors="ignore",
        )
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
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


def _sniff_file(src: Path) -> tuple[str | None, str | None]:
    """``sniff`` of the first bytes; behind an ID3 tag, of the bytes after it (ID3 also
    precedes FLAC and raw AAC, not only MP3)."""
    with src.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
        if head[:3] == b"ID3" and len(head) >= 10:
            tag = 10 + ((head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14)
            tag += (head[8] & 0x7F) << 7 | (head[9] & 0x7F)
            handle.seek(tag)
            behind, _ = sniff(handle.read(_SNIFF_BYTES))
            if behind in {"flac", "aac"}:
                return behind, None
    return sniff(head)


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
    if not settings.min_input_rate <= probe.sample_rate <= settings.max_input_rate:
        raise BadSampleRate(
            f"{src.name}: sample rate {probe.sample_rate} Hz is outside "
            f"{settings.min_input_rate}..{settings.max_input_rate} Hz"
        )
    declared = probe.declared_duration_s
    if declared is not None and declared > settings.max_duration_s:
        raise AudioTooLong(
            f"{src.name}: header says {declared:.0f} s > limit {settings.max_duration_s:.0f} s"
        )
    if declared is not None and 2 * declared * settings.sample_rate > settings.max_output_bytes:
        raise OutputTooLarge(
            f"{src.name}: header says {declared:.0f} s, more than "
            f"{settings.max_output_bytes} output bytes"
        )
    if declared is not None and declared > settings.bomb_grace_s:
        rate = max(probe.sample_rate * probe.channels, settings.sample_rate * probe.channels)
        ratio = declared * rate / probe.size
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
        """Decoded frames, in order; limits are checked on every frame (hot loop: locals,
        one comparison per limit; what was crossed is worked out only when one was)."""
        settings = self._settings
        name = self._src.name
        deadline = time.monotonic() + settings.timeout_s
        rate = self.rate
        max_samples, out_samples_limit, bomb_samples, grace = self._limits(rate)
        samples = 0
        gap = 0.0
        expected = -1.0
        time_base = 0.0
        monotonic = time.monotonic
        try:
            for packet in self._container.demux(self._stream):
                for frame in self._decode(packet):
                    if frame.sample_rate != rate:
                        rate = self._switch_rate(frame.sample_rate, samples)
                        max_samples, out_samples_limit, bomb_samples, grace = self._limits(rate)
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
                    if (
                        samples > max_samples
                        or samples > out_samples_limit
                        or (samples > bomb_samples and samples > grace)
                    ):
                        self._refuse(samples, rate)
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

    def _limits(self, rate: int) -> tuple[float, float, float, float]:
        """(duration, output size, bomb, bomb grace) limits in samples at ``rate``.

        Bombs are counted at the source rate (all channels) and at the output rate (one
        output file per input channel at most): a low source rate cannot hide a blow-up.
        """
        settings = self._settings
        channels = max(1, self._probe.channels)
        out_rate = settings.sample_rate
        bomb_budget = settings.max_samples_per_byte * self._probe.size / channels
        return (
            settings.max_duration_s * rate,
            settings.max_output_bytes // 2 * rate / out_rate,
            bomb_budget / max(rate, out_rate) * rate,
            settings.bomb_grace_s * rate,
        )

    def _refuse(self, samples: int, rate: int) -> None:
        """Raise for the first limit ``samples`` crossed (in the order they are checked)."""
        settings = self._settings
        name = self._src.name
        max_samples, out_samples_limit = self._limits(rate)[:2]
        if samples > max_samples:
            raise AudioTooLong(f"{name}: decoded past the limit of {settings.max_duration_s:.0f} s")
        if samples > out_samples_limit:
            raise OutputTooLarge(f"{name}: the output passes {settings.max_output_bytes} bytes")
        raise DecompressionBomb(
            f"{name}: more than {settings.max_samples_per_byte:.0f} decoded samples per input byte"
        )

    def _decode(self, packet: Any) -> Any:
        """The packet's frames; one that fails to decode is skipped, up to
        ``max_decode_errors`` of them."""
        try:
            return packet.decode()
        except av.error.FFmpegError as exc:
            self.decode_errors += 1
            if self.decode_errors > self._settings.max_decode_errors:
                raise CorruptAudio(
                    f"{self._src.name}: {self.decode_errors} packets failed to decode ({exc})"
                ) from exc
            return ()

    def _switch_rate(self, rate: int, samples: int) -> int:
        """The decoder runs at another rate than probed: fine before the first sample."""
        if samples:
            raise CorruptAudio(f"{self._src.name}: sample rate changes mid-stream")
        self.rate = rate
        settings = self._settings
        if not settings.min_input_rate <= rate <= settings.max_input_rate:
            raise BadSampleRate(f"{self._src.name}: the decoder runs at {rate} Hz")
        return rate

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
