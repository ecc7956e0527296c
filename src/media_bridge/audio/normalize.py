"""The synchronous entry points: ``normalize`` (one mono output) and ``split_stereo``
(both channels of a call recording as two mono outputs, one decode pass).

Pure functions of files: CPU-bound, safe to run in a worker process.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import av
import numpy as np

from media_bridge.audio.analysis import Int16Array
from media_bridge.audio.decode import LimitedDecoder, Probe, open_input
from media_bridge.audio.errors import CorruptAudio, NotStereo
from media_bridge.audio.pipeline import ChannelPipeline, ChannelResult, analysis_rate, sha256_file
from media_bridge.audio.quality import quality_figures, verdict
from media_bridge.audio.report import AudioReport, AudioStatus, SourceInfo, StereoSplitReport
from media_bridge.audio.settings import AudioSettings, ChannelChoice

_CHANNELS: tuple[ChannelChoice, ...] = ("left", "right", "mix")
#: samples per channel gathered before measuring/writing (bigger = fewer numpy calls)
_BLOCK_SECONDS = 5


def normalize(
    src: Path, dst: Path, settings: AudioSettings, channel: ChannelChoice | None = None
) -> AudioReport:
    """Decode ``src`` and write the mono target format to ``dst`` (``src`` is untouched).

    ``channel`` overrides ``settings.channel`` for stereo inputs; a mono input is used
    as it is (the report says ``mono``). Raises an ``AudioError`` for unusable input.
    """
    started = time.perf_counter()
    choice = channel or settings.channel
    if choice not in _CHANNELS:
        raise ValueError(f"channel must be one of {_CHANNELS}, not {choice!r}")
    _refuse_overwrite(src, dst)
    container, stream, probe = open_input(src, settings)
    try:
        if probe.channels == 1 or choice == "mix":
            label = "mono" if probe.channels == 1 else "mix"
            pipeline = ChannelPipeline(dst, label, settings)
            decoder = _run(src, container, stream, probe, settings, "mono", [pipeline])
        else:
            pipeline = ChannelPipeline(dst, choice, settings)
            columns: list[ChannelPipeline | None] = [None, None]
            columns[0 if choice == "left" else 1] = pipeline
            decoder = _run(src, container, stream, probe, settings, "stereo", columns)
    finally:
        container.close()
    result = pipeline.finish()
    source = _source_info(src, probe, decoder)
    return _report(source, result, settings, started)


def split_stereo(
    src: Path, dst_left: Path, dst_right: Path, settings: AudioSettings
) -> StereoSplitReport:
    """Write the left and the right channel of ``src`` as two mono files, decoding once.

    Raises ``NotStereo`` for a mono input (its speakers cannot be separated).
    """
    started = time.perf_counter()
    _refuse_overwrite(src, dst_left, dst_right)
    container, stream, probe = open_input(src, settings)
    try:
        if probe.channels < 2:
            raise NotStereo(f"{src.name}: mono recording, its channels cannot be separated")
        left = ChannelPipeline(dst_left, "left", settings)
        right = ChannelPipeline(dst_right, "right", settings)
        decoder = _run(src, container, stream, probe, settings, "stereo", [left, right])
    finally:
        container.close()
    results = (left.finish(), right.finish())
    source = _source_info(src, probe, decoder)
    return StereoSplitReport(
        left=_report(source, results[0], settings, started),
        right=_report(source, results[1], settings, started),
    )


def _run(
    src: Path,
    container: Any,
    stream: Any,
    probe: Probe,
    settings: AudioSettings,
    layout: str,
    columns: Sequence[ChannelPipeline | None],
) -> LimitedDecoder:
    """Decode, resample (in C, by FFmpeg's swresample) and feed each column's pipeline."""
    pipelines = [p for p in columns if p is not None]
    decoder = LimitedDecoder(src, container, stream, probe, settings)
    rate = settings.sample_rate
    twin_rate = analysis_rate(rate)
    width = len(columns)
    out = _Resampled(layout, rate)
    twin = _Resampled(layout, twin_rate) if twin_rate != rate else None

    def dispatch(blocks: list[Int16Array], *, analysis: bool) -> None:
        for block in blocks:
            for index, channel in enumerate(_columns(block, width)):
                pipeline = columns[index]
                if pipeline is None:
                    continue
                if analysis:
                    pipeline.feed_analysis(channel)
                else:
                    pipeline.feed(channel)

    push_out = out.push
    try:
        for frame in decoder.frames():
            blocks = push_out(frame)
            if blocks:
                dispatch(blocks, analysis=False)
            if twin:
                dispatch(twin.push(frame), analysis=True)
        dispatch(out.push(None), analysis=False)
        if twin:
            dispatch(twin.push(None), analysis=True)
    except ValueError as exc:  # swresample refuses a frame whose format changed mid-stream
        for pipeline in pipelines:
            pipeline.abort()
        raise CorruptAudio(f"{src.name}: the audio format changes mid-stream ({exc})") from exc
    except BaseException:
        for pipeline in pipelines:
            pipeline.abort()
        raise
    return decoder


class _Resampled:
    """FFmpeg's resampler to packed s16, handing out blocks of ``_BLOCK_SECONDS``.

    Large output frames keep the per-frame Python work (array conversion, measures)
    off the hot path: only the per-packet decode and resample calls remain.
    """

    def __init__(self, layout: str, rate: int) -> None:
        self._resampler = av.AudioResampler(
            format="s16", layout=layout, rate=rate, frame_size=rate * _BLOCK_SECONDS
        )

    def push(self, frame: Any) -> list[Int16Array]:
        """Resample ``frame`` (None flushes); return interleaved blocks ready so far."""
        converted = self._resampler.resample(frame)
        if not converted:
            return []
        return [block.to_ndarray().reshape(-1).view(np.int16) for block in converted]


def _columns(block: Int16Array, width: int) -> list[Int16Array]:
    if width == 1:
        return [block]
    frames = block.reshape(-1, width)
    return [np.ascontiguousarray(frames[:, index]) for index in range(width)]


def _refuse_overwrite(src: Path, *outputs: Path) -> None:
    """The original is always kept: an output path must not be the input (or each other)."""
    resolved = [path.resolve() for path in (src, *outputs)]
    if len(set(resolved)) != len(resolved):
        raise ValueError(f"output paths must differ from the input and each other: {outputs}")


def _source_info(src: Path, probe: Probe, decoder: LimitedDecoder) -> SourceInfo:
    return SourceInfo(
        path=src,
        bytes=probe.size,
        sha256=sha256_file(src),
        container=probe.container,
        codec=probe.codec,
        sample_rate=decoder.rate,
        channels=probe.channels,
        duration_s=round(decoder.duration_s, 4),
        declared_duration_s=(
            None if probe.declared_duration_s is None else round(probe.declared_duration_s, 4)
        ),
        bit_rate=probe.bit_rate,
    )


def _report(
    source: SourceInfo, result: ChannelResult, settings: AudioSettings, started: float
) -> AudioReport:
    enough = result.speech.net_speech_s >= settings.min_net_speech_s
    figures = quality_figures(result.speech, result.level, settings)
    quality, reasons = verdict(figures)
    return AudioReport(
        status=AudioStatus.OK if enough else AudioStatus.INSUFFICIENT_SPEECH,
        quality=quality,
        quality_reasons=reasons,
        quality_figures=figures,
        source=source,
        output=result.output,
        speech=result.speech,
        level=result.level,
        min_net_speech_s=settings.min_net_speech_s,
        elapsed_s=round(time.perf_counter() - started, 4),
        segments=result.segments,
    )
