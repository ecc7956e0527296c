"""Audio normalisation settings: the biometrics engine's wanted format, the speech
measure, the gate, and the limits that keep hostile inputs from hanging a worker."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

OutputFormat = Literal["wav", "flac", "ogg_opus"]
BelowGate = Literal["deliver", "hold_local", "drop"]
ChannelChoice = Literal["left", "right", "mix"]

#: sample rates libopus accepts; other rates are resampled to 48 kHz for OGG-Opus output
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


class AudioSettings(BaseModel):
    """``MEDIA_BRIDGE_AUDIO__*``. Defaults: 16 kHz mono 16-bit PCM WAV, mixed channels."""

    #: normalise audio for biometrics; ``false`` delivers the downloaded file as it is
    enabled: bool = True

    # -- target format --------------------------------------------------------------
    #: output sample rate (Hz)
    sample_rate: int = Field(default=16000, ge=4000, le=192000)
    #: output container and codec
    output_format: OutputFormat = "wav"
    #: which channel of a stereo input becomes the mono output (a call recording's
    #: customer side is ``left`` or ``right``; Genesys does not document which)
    channel: ChannelChoice = "mix"
    #: OGG-Opus output bit rate (bits per second)
    opus_bitrate: int = Field(default=32000, ge=6000, le=510000)

    # -- optional processing ----------------------------------------------------------
    #: scale the output so that speech frames' RMS reaches ``loudness_target_dbfs``
    loudness_normalize: bool = False
    #: target RMS of speech frames (dBFS) for ``loudness_normalize``
    loudness_target_dbfs: float = Field(default=-23.0, le=0.0)
    #: most gain ``loudness_normalize`` adds
    loudness_max_gain_db: float = Field(default=30.0, ge=0.0)
    #: gain is lowered so the peak stays at or under this level (no clipping added)
    loudness_peak_ceiling_dbfs: float = Field(default=-1.0, le=0.0)
    #: cut leading and trailing non-speech, keeping ``trim_pad_ms`` around the speech
    trim_silence: bool = False
    #: non-speech kept around the speech by ``trim_silence`` (ms)
    trim_pad_ms: int = Field(default=200, ge=0, le=5000)

    # -- speech measure -------------------------------------------------------------
    #: webrtcvad aggressiveness, 0 (lenient) .. 3 (strict)
    vad_aggressiveness: int = Field(default=2, ge=0, le=3)
    #: frame length of the speech detector (ms)
    vad_frame_ms: Literal[10, 20, 30] = 30
    #: frames quieter than this are never speech
    vad_energy_floor_dbfs: float = Field(default=-50.0, le=0.0)
    #: frames whose smoothed log spectrum deviates less than this from a power law are
    #: noise (white/pink/brown noise: ~0.55; speech: 1-3); 0 disables the check
    vad_min_spectral_contrast: float = Field(default=1.0, ge=0.0)
    #: samples at or above this level count as clipped
    clip_level_dbfs: float = Field(default=-0.1, le=0.0)

    # -- gate: the quality verdict (``ok`` | ``short`` | ``noisy`` | ``clipped``) ----------
    #: below this net speech a clip is ``short`` (status ``insufficient_speech``).
    #: Published needs: about 4 s to verify, 20 s to enrol.
    min_net_speech_s: float = Field(default=4.0, ge=0.0)
    #: speech frames less than this many dB above the non-speech frames: ``noisy``
    #: (a clip without both kinds of frames has no estimate and is never ``noisy``).
    #: The estimate is coarse (word edges count as non-speech): clean speech measures
    #: 12-25 dB, speech as loud as white noise behind it about 5 dB
    min_snr_db: float = 8.0
    #: more than this fraction of samples at or above ``clip_level_dbfs``: ``clipped``
    max_clipping_ratio: float = Field(default=0.001, ge=0.0, le=1.0)
    #: what happens to a clip whose verdict is not ``ok``: ``deliver`` (to the configured
    #: sink, with its verdict), ``hold_local`` (to the dir sink instead of a remote one) or
    #: ``drop`` (not delivered; the job is ``done`` with the verdict in its result)
    below_gate: BelowGate = "deliver"

    # -- enrolment progress and segmenting ------------------------------------------------
    #: a person-scope speaker whose delivered clips add up to this much net speech is
    #: ``enrolment_ready`` (about 20 s of speech make a voiceprint for most engines)
    enrolment_min_speech_s: float = Field(default=20.0, ge=0.0)
    #: cut clips longer than this at pauses into several normalised files of the same
    #: delivery (roles ``segment-1``, ``segment-2``, ... beside the whole ``normalized``
    #: file; offsets in ``metadata.audio.segments``), for engines with a per-request
    #: limit. None: off
    max_segment_s: float | None = Field(default=None, gt=0.0)

    # -- limits (hostile or broken input) ---------------------------------------------
    #: a file to decode larger than this is refused before it is opened
    max_input_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    #: longest accepted recording, checked from the header and again while decoding
    max_duration_s: float = Field(default=4 * 3600.0, gt=0.0)
    #: decoded samples per input byte above which the input is treated as a decompression
    #: bomb; counted both at the source rate (all channels) and at the output rate (every
    #: output file). Legit low-bitrate speech stays under ~400
    max_samples_per_byte: float = Field(default=2000.0, gt=0.0)
    #: input sample rates outside this range are refused (``bad_sample_rate``): below it
    #: a few bytes resample into hours of output, above it the resampler's buffers blow up
    min_input_rate: int = Field(default=4000, ge=1)
    #: the highest input sample rate accepted (see ``min_input_rate``)
    max_input_rate: int = Field(default=384000, ge=1)
    #: largest output file (bytes of PCM per channel written), checked from the header and
    #: again while writing; the default holds 4 h of 16 kHz 16-bit mono
    max_output_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    #: the ratio is only enforced once this much audio is decoded (tiny files have
    #: header overhead that makes any ratio meaningless)
    bomb_grace_s: float = Field(default=30.0, ge=0.0)
    #: packets that fail to decode before the file is declared corrupt
    max_decode_errors: int = Field(default=8, ge=0)
    #: decoded duration shorter than the header's by more than this is a truncated file
    truncation_tolerance_s: float = Field(default=0.5, ge=0.0)
    #: ... or by more than this share of the header's duration, whichever is larger
    truncation_tolerance_ratio: float = Field(default=0.02, ge=0.0)
    #: wall-clock budget for one file
    timeout_s: float = Field(default=600.0, gt=0.0)

    # -- execution --------------------------------------------------------------------
    #: worker processes for ``AudioProcessor``; None = one per CPU core
    workers: int | None = Field(default=None, ge=1)
