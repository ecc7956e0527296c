"""Audio for biometrics: decode any channel's format with PyAV, normalise to mono PCM at
a target rate, measure speech and levels, reject hostile or broken input clearly."""

from media_bridge.audio.errors import (
    AudioError,
    AudioTooLarge,
    AudioTooLong,
    BadSampleRate,
    CorruptAudio,
    DecodeTimeout,
    DecompressionBomb,
    EmptyAudio,
    NoAudioStream,
    NotAudio,
    NotStereo,
    OutputTooLarge,
    TruncatedAudio,
)
from media_bridge.audio.normalize import normalize, split_stereo
from media_bridge.audio.processor import AudioProcessor
from media_bridge.audio.report import (
    AudioQuality,
    AudioReport,
    AudioStatus,
    LevelMetrics,
    OutputInfo,
    QualityFigures,
    SourceInfo,
    SpeechMetrics,
    StereoSplitReport,
)
from media_bridge.audio.settings import AudioSettings

__all__ = [
    "AudioError",
    "AudioProcessor",
    "AudioQuality",
    "AudioReport",
    "AudioSettings",
    "AudioStatus",
    "AudioTooLarge",
    "AudioTooLong",
    "BadSampleRate",
    "CorruptAudio",
    "DecodeTimeout",
    "DecompressionBomb",
    "EmptyAudio",
    "LevelMetrics",
    "NoAudioStream",
    "NotAudio",
    "NotStereo",
    "OutputInfo",
    "OutputTooLarge",
    "QualityFigures",
    "SourceInfo",
    "SpeechMetrics",
    "StereoSplitReport",
    "TruncatedAudio",
    "normalize",
    "split_stereo",
]
