"""What normalising one file found out: plain data, JSON-able through ``to_dict``."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any


class AudioStatus(StrEnum):
    OK = "ok"
    #: less net speech than ``min_net_speech_s``: the file is kept, not sent to biometrics
    INSUFFICIENT_SPEECH = "insufficient_speech"


class AudioQuality(StrEnum):
    """The clip's verdict (see ``media_bridge.audio.quality`` for the precedence)."""

    OK = "ok"
    #: less net speech than ``min_net_speech_s``
    SHORT = "short"
    #: speech-to-noise ratio under ``min_snr_db``
    NOISY = "noisy"
    #: more samples at ``clip_level_dbfs`` than ``max_clipping_ratio``
    CLIPPED = "clipped"


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """The original file as it arrived (kept beside the normalised one)."""

    path: Path
    bytes: int
    sha256: str
    #: FFmpeg demuxer name(s), e.g. ``ogg``, ``mov,mp4,m4a,3gp,3g2,mj2``, ``wav``
    container: str
    #: FFmpeg decoder name, e.g. ``opus``, ``aac``, ``amrnb``, ``pcm_mulaw``
    codec: str
    sample_rate: int
    channels: int
    #: decoded length in seconds
    duration_s: float
    #: what the header announced (None when it does not say)
    declared_duration_s: float | None
    bit_rate: int | None


@dataclass(frozen=True, slots=True)
class SpeechMetrics:
    """Voice activity (webrtcvad plus an energy floor and a spectral-flatness noise check)."""

    net_speech_s: float
    speech_ratio: float
    vad_frame_ms: int
    vad_aggressiveness: int
    vad_sample_rate: int
    #: speech-frame energy over non-speech-frame energy, dB (None: one class is empty)
    snr_db: float | None


@dataclass(frozen=True, slots=True)
class LevelMetrics:
    """Levels of the selected channel at the output rate, before any loudness gain."""

    rms_dbfs: float
    peak_dbfs: float
    #: fraction of samples at or above ``clip_level_dbfs``
    clipping_ratio: float
    #: RMS over speech frames only (None: no speech)
    speech_rms_dbfs: float | None


#: ``audio.output_format`` -> the delivered file's MIME type (the one table)
OUTPUT_MIME: dict[str, str] = {"wav": "audio/wav", "flac": "audio/flac", "ogg_opus": "audio/ogg"}


def output_mime(fmt: str) -> str:
    """The MIME type of a normalised file in ``fmt``; ``audio/wav`` (the default format)
    for a format this table does not name."""
    return OUTPUT_MIME.get(fmt, "audio/wav")


@dataclass(frozen=True, slots=True)
class OutputInfo:
    """The normalised file."""

    path: Path
    bytes: int
    sha256: str
    #: ``wav``, ``flac`` or ``ogg_opus``
    format: str
    codec: str
    sample_rate: int
    channels: int
    #: ``s16`` (16-bit signed PCM)
    sample_format: str
    duration_s: float
    #: which source channel it holds: ``left``, ``right``, ``mix`` or ``mono``
    channel: str
    gain_db: float
    trimmed_start_s: float
    trimmed_end_s: float


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """One normalised piece of a long clip (``audio.max_segment_s``), cut at a pause."""

    #: ``segment-1``, ``segment-2``, ...: the delivered file's role (a call recording
    #: prefixes its side: ``customer-segment-1``)
    role: str
    path: Path
    #: where the piece starts and ends, in seconds of the clip as decoded (the normalised
    #: file's own time plus ``output.trimmed_start_s``)
    start_s: float
    end_s: float
    duration_s: float
    net_speech_s: float
    bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class QualityFigures:
    """The measures behind the verdict, each beside its threshold."""

    net_speech_s: float
    min_net_speech_s: float
    #: None: no estimate (the clip lacks speech or non-speech frames); never ``noisy``
    snr_db: float | None
    min_snr_db: float
    clipping_ratio: float
    max_clipping_ratio: float
    clip_level_dbfs: float


@dataclass(frozen=True, slots=True)
class AudioReport:
    #: the net-speech gate alone (kept for compatibility; ``quality`` is the verdict)
    status: AudioStatus
    quality: AudioQuality
    #: every verdict that applies, most important first, with its figures in words
    quality_reasons: tuple[str, ...]
    quality_figures: QualityFigures
    source: SourceInfo
    output: OutputInfo
    speech: SpeechMetrics
    level: LevelMetrics
    min_net_speech_s: float
    elapsed_s: float
    #: the clip cut at pauses into pieces of at most ``audio.max_segment_s``; None when
    #: segmenting is off or the clip already fits
    segments: tuple[SegmentInfo, ...] | None = None

    @property
    def ok(self) -> bool:
        """Enough net speech (the old gate; ``quality`` also weighs noise and clipping)."""
        return self.status is AudioStatus.OK

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (paths as strings)."""
        result: dict[str, Any] = _jsonable(asdict(self))
        return result

    def to_metadata(self) -> dict[str, Any]:
        """What a delivery's metadata carries (``metadata.audio``, a recording's
        ``metadata.audio.<role>``): ``to_dict`` without the worker's temporary file paths
        (the source's, the output's, each segment's), which mean nothing to a receiver."""
        result: dict[str, Any] = _without_paths(self.to_dict())
        return result


@dataclass(frozen=True, slots=True)
class StereoSplitReport:
    """One decode pass, two mono outputs: ``left`` and ``right``."""

    left: AudioReport
    right: AudioReport

    def to_dict(self) -> dict[str, Any]:
        return {"left": self.left.to_dict(), "right": self.right.to_dict()}


def _without_paths(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_paths(v) for k, v in value.items() if k != "path"}
    if isinstance(value, list):  # the segments
        return [_without_paths(v) for v in value]
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, StrEnum):
        return value.value
    return value
