"""Why an input could not be turned into audio: the ``AudioError`` branch of the one
error tree in ``media_bridge.errors``, re-exported here for the audio package."""

from __future__ import annotations

from media_bridge.errors import (
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

__all__ = [
    "AudioError",
    "AudioTooLarge",
    "AudioTooLong",
    "BadSampleRate",
    "CorruptAudio",
    "DecodeTimeout",
    "DecompressionBomb",
    "EmptyAudio",
    "NoAudioStream",
    "NotAudio",
    "NotStereo",
    "OutputTooLarge",
    "TruncatedAudio",
]
