"""One mono output channel: write, measure, then finalise (trim, gain, encode).

Samples go straight to a temporary WAV while they are measured. Leading/trailing
silence trimming and loudness gain need the whole-file measures, so they are applied
afterwards: trimming only the tail is a truncation; trimming the head, applying a gain
or encoding FLAC/OGG-Opus is one more streaming pass over the temporary WAV.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

from media_bridge.audio.analysis import (
    VAD_RATES,
    Int16Array,
    LevelMeter,
    SpeechAnalyzer,
    SpeechSpan,
    dbfs,
)
from media_bridge.audio.errors import OutputTooLarge
from media_bridge.audio.report import LevelMetrics, OutputInfo, SegmentInfo, SpeechMetrics
from media_bridge.audio.segments import plan_segments
from media_bridge.audio.settings import OPUS_RATES, AudioSettings
from media_bridge.audio.wavio import HEADER_BYTES, WavWriter, read_samples
from media_bridge.files import create_temp_beside

_CODECS = {"wav": "pcm_s16le", "flac": "flac", "ogg_opus": "opus"}


def analysis_rate(output_rate: int) -> int:
    """webrtcvad runs on the output itself when it can, else on a 16/8 kHz twin stream."""
    if output_rate in VAD_RATES:
        return output_rate
    return 16000 if output_rate >= 16000 else 8000


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class ChannelResult:
    output: OutputInfo
    speech: SpeechMetrics
    level: LevelMetrics
    segments: tuple[SegmentInfo, ...] | None = None


class ChannelPipeline:
    def __init__(self, dst: Path, label: str, settings: AudioSettings) -> None:
        self.dst = dst
        self.label = label
        self.settings = settings
        self.rate = settings.sample_rate
        dst.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, self.tmp = create_temp_beside(dst)
        self.max_samples = (settings.max_output_bytes - HEADER_BYTES) // 2
        self.meter = LevelMeter(settings.clip_level_dbfs)
        self.analyzer = SpeechAnalyzer(
            analysis_rate(self.rate),
            frame_ms=settings.vad_frame_ms,
            aggressiveness=settings.vad_aggressiveness,
            energy_floor_dbfs=settings.vad_energy_floor_dbfs,
            min_contrast=settings.vad_min_spectral_contrast,
        )
        self.writer = WavWriter(self.tmp, self.rate, fd=fd)

    def feed(self, samples: Int16Array) -> None:
        """Output samples: written, measured, and analysed when VAD runs at this rate."""
        if self.writer.samples + len(samples) > self.max_samples:
            raise OutputTooLarge(
                f"{self.dst.name}: the output passes {self.settings.max_output_bytes} bytes"
            )
        self.writer.write(samples)
        self.meter.feed(samples)
        if self.analyzer.rate == self.rate:
            self.analyzer.feed(samples)

    def feed_analysis(self, samples: Int16Array) -> None:
        """The same audio at the analysis rate, when the output rate is not a VAD rate."""
        self.analyzer.feed(samples)

    def abort(self) -> None:
        self.writer.abort()

    def finish(self) -> ChannelResult:
        self.analyzer.finish()
        speech, span, speech_ms = self.analyzer.metrics()
        level = self.meter.metrics(speech_ms)
        total = self.writer.samples
        start, end = self._trim_range(span, total)
        gain_db = self._gain_db(level)
        fmt = self.settings.output_format
        segments: tuple[SegmentInfo, ...] | None = None
        try:
            if fmt == "wav" and start == 0 and gain_db == 0.0:
                self.writer.close(keep_samples=end)
                os.replace(self.tmp, self.dst)
                source = self.dst  # the output is the measured WAV itself
            else:
                self.writer.close()
                self._write(self.dst, _with_gain(read_samples(self.tmp, start, end), gain_db))
                source = self.tmp
            segments = self._segments(source, start, end, gain_db)
        finally:
            self.tmp.unlink(missing_ok=True)
        output = OutputInfo(
            path=self.dst,
            bytes=self.dst.stat().st_size,
            sha256=sha256_file(self.dst),
            format=fmt,
            codec=_CODECS[fmt],
            sample_rate=self.rate,
            channels=1,
            sample_format="s16",
            duration_s=round((end - start) / self.rate, 4),
            channel=self.label,
            gain_db=gain_db,
            trimmed_start_s=round(start / self.rate, 4),
            trimmed_end_s=round((total - end) / self.rate, 4),
        )
        return ChannelResult(output=output, speech=speech, level=level, segments=segments)

    def _write(self, dst: Path, blocks: Iterable[Int16Array]) -> None:
        """The target format at ``dst``, through a private temporary beside it."""
        fmt = self.settings.output_format
        fd, part = create_temp_beside(dst)
        try:
            if fmt == "wav":
                with WavWriter(part, self.rate, fd=fd) as writer:
                    for block in blocks:
                        writer.write(block)
            else:
                with os.fdopen(fd, "wb") as handle:
                    _encode(handle, fmt, self.rate, blocks, self.settings.opus_bitrate)
            os.replace(part, dst)
        finally:
            part.unlink(missing_ok=True)

    def _segments(
        self, source: Path, start: int, end: int, gain_db: float
    ) -> tuple[SegmentInfo, ...] | None:
        """With ``max_segment_s``: the output cut at pauses, one file per piece beside it
        (``<dst>.segment-N``); None when off or the clip already fits. ``source`` holds the
        untrimmed samples at the output rate (the output itself when it is that WAV)."""
        max_s = self.settings.max_segment_s
        if max_s is None or (end - start) / self.rate <= max_s:
            return None
        plans = plan_segments(
            self.analyzer.speech_flags(),
            self.analyzer.frame_ms / 1000.0,
            start / self.rate,
            end / self.rate,
            max_s,
        )
        found: list[SegmentInfo] = []
        try:
            for number, plan in enumerate(plans, start=1):
                first = max(start, min(end, round(plan.start_s * self.rate)))
                last = end if number == len(plans) else max(first, round(plan.end_s * self.rate))
                role = f"segment-{number}"
                path = self.dst.with_name(f"{self.dst.name}.{role}")
                self._write(path, _with_gain(read_samples(source, first, last), gain_db))
                found.append(
                    SegmentInfo(
                        role=role,
                        path=path,
                        start_s=round(first / self.rate, 4),
                        end_s=round(last / self.rate, 4),
                        duration_s=round((last - first) / self.rate, 4),
                        net_speech_s=plan.net_speech_s,
                        bytes=path.stat().st_size,
                        sha256=sha256_file(path),
                    )
                )
        except BaseException:
            for segment in found:
                segment.path.unlink(missing_ok=True)
            raise
        return tuple(found)

    def _trim_range(self, span: SpeechSpan, total: int) -> tuple[int, int]:
        if not self.settings.trim_silence or span.first_s is None or span.last_end_s is None:
            return 0, total  # no speech found: keep everything rather than nothing
        pad = self.settings.trim_pad_ms / 1000.0
        start = max(0, round((span.first_s - pad) * self.rate))
        end = min(total, round((span.last_end_s + pad) * self.rate))
        return (start, end) if end > start else (0, total)

    def _gain_db(self, level: LevelMetrics) -> float:
        settings = self.settings
        if not settings.loudness_normalize:
            return 0.0
        reference = level.speech_rms_dbfs if level.speech_rms_dbfs is not None else level.rms_dbfs
        if reference <= dbfs(0.0):
            return 0.0  # digital silence: nothing to scale
        gain = settings.loudness_target_dbfs - reference
        gain = max(-settings.loudness_max_gain_db, min(settings.loudness_max_gain_db, gain))
        gain = min(gain, settings.loudness_peak_ceiling_dbfs - level.peak_dbfs)
        return round(gain, 2) if abs(gain) >= 0.05 else 0.0


def _with_gain(blocks: Iterable[Int16Array], gain_db: float) -> Iterator[Int16Array]:
    if gain_db == 0.0:
        yield from blocks
        return
    factor = np.float32(10.0 ** (gain_db / 20.0))
    for block in blocks:
        scaled = np.rint(block.astype(np.float32) * factor)
        yield np.clip(scaled, -32768, 32767).astype(np.int16)


def _encode(
    handle: BinaryIO, fmt: str, rate: int, blocks: Iterable[Int16Array], bitrate: int
) -> None:
    """Encode mono s16 blocks to FLAC or OGG-Opus with PyAV, into a file the caller made
    (FFmpeg would create it ``0644`` and follow a symlink at its name)."""
    codec_rate = rate if fmt == "flac" or rate in OPUS_RATES else 48000
    with av.open(handle, mode="w", format="flac" if fmt == "flac" else "ogg") as container:
        stream = container.add_stream("flac" if fmt == "flac" else "libopus", rate=codec_rate)
        stream.codec_context.layout = "mono"
        stream.codec_context.format = "s16"
        if fmt == "ogg_opus":
            stream.codec_context.bit_rate = bitrate
        resampler = av.AudioResampler(format="s16", layout="mono", rate=codec_rate)
        pts = 0
        for block in blocks:
            frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = rate
            frame.pts = pts
            frame.time_base = Fraction(1, rate)
            pts += len(block)
            for converted in resampler.resample(frame):
                for packet in stream.encode(converted):
                    container.mux(packet)
        for converted in resampler.resample(None):
            for packet in stream.encode(converted):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
