"""Why an input could not be turned into audio. Each is a ``BadInput`` (never retried:
the same bytes fail the same way) with its own stable ``code``."""

from __future__ import annotations

from media_bridge.errors import BadInput


class AudioError(BadInput):
    """Base of every audio input failure."""

    code = "audio_error"


class EmptyAudio(AudioError):
    """Zero bytes, or a container that decodes to no samples at all."""

    code = "empty_file"


class NotAudio(AudioError):
    """An image, a PDF, text...: bytes that are no audio format (whatever the name says)."""

    code = "not_audio"


class NoAudioStream(AudioError):
    """A valid media container without any audio stream (a video-only file)."""

    code = "no_audio_stream"


class CorruptAudio(AudioError):
    """An audio format is recognised but its header or packets do not decode."""

    code = "corrupt_audio"


class TruncatedAudio(AudioError):
    """The file ends before the audio its header announces."""

    code = "truncated_audio"


class AudioTooLarge(AudioError):
    """More input bytes than ``max_input_bytes``."""

    code = "too_large"


class AudioTooLong(AudioError):
    """Longer than ``max_duration_s``: said by the header or found while decoding."""

    code = "too_long"


class BadSampleRate(AudioError):
    """A sample rate outside ``min_input_rate`` .. ``max_input_rate`` (1 Hz, 2^31 Hz...)."""

    code = "bad_sample_rate"


class OutputTooLarge(AudioError):
    """The output would exceed ``max_output_bytes`` (said by the header or while writing)."""

    code = "output_too_large"


class DecompressionBomb(AudioError):
    """Far more decoded samples per input byte than any speech codec produces."""

    code = "decompression_bomb"


class DecodeTimeout(AudioError):
    """Decoding took longer than ``timeout_s`` of wall-clock time."""

    code = "decode_timeout"


class NotStereo(AudioError):
    """A stereo split was asked of a mono file: its speakers cannot be separated."""

    code = "not_stereo"
