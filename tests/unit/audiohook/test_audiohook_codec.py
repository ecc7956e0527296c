"""G.711 tables, frame decoding, resampling and speech counting."""

from __future__ import annotations

import numpy as np
import pytest

from media_bridge.audiohook.audio_source import dominant_frequency, voice
from media_bridge.audiohook.codec import (
    ULAW_DECODE,
    SpeechCounter,
    StreamingResampler,
    decode_frame,
    encode_frame,
    ulaw_decode,
    ulaw_encode,
)
from tests.unit.audiohook.alignment import lag_in_samples, tones


def test_ulaw_table_matches_g711() -> None:
    assert len(ULAW_DECODE) == 256
    expected = {0x00: -32124, 0x80: 32124, 0x7F: 0, 0xFF: 0, 0x0D: -18812, 0x8D: 18812}
    for code, value in expected.items():
        assert ULAW_DECODE[code] == value


def test_ulaw_round_trip_is_within_quantisation() -> None:
    x = np.arange(-32768, 32768, 7, dtype=np.int32).astype(np.int16)
    back = ulaw_decode(ulaw_encode(x)).astype(np.int32)
    err = np.abs(back - x.astype(np.int32))
    assert err.max() <= 1024
    assert np.all(err <= np.maximum(16, np.abs(x.astype(np.int32)) // 16))


@pytest.mark.parametrize("fmt", ["PCMU", "L16"])
def test_stereo_frame_deinterleaves_in_channel_order(fmt: str) -> None:
    left = np.full(160, 8000, dtype=np.int16)
    right = np.full(160, -8000, dtype=np.int16)
    data = encode_frame(np.stack([left, right], axis=1), fmt)
    assert len(data) == 160 * 2 * (1 if fmt == "PCMU" else 2)
    frame = decode_frame(data, fmt, 2)
    assert frame.shape == (160, 2)
    assert np.all(np.abs(frame[:, 0] - 8000) < 300)
    assert np.all(np.abs(frame[:, 1] + 8000) < 300)


def test_l16_is_little_endian() -> None:
    frame = decode_frame(b"\x01\x00\x00\x80", "L16", 1)
    assert frame[:, 0].tolist() == [1, -32768]


@pytest.mark.parametrize(
    ("fmt", "channels", "size"), [("PCMU", 2, 3), ("L16", 1, 5), ("L16", 2, 6)]
)
def test_partial_samples_are_rejected(fmt: str, channels: int, size: int) -> None:
    with pytest.raises(ValueError, match="whole number"):
        decode_frame(bytes(size), fmt, channels)


@pytest.mark.parametrize("rate", [16000, 8000, 11025])
def test_streaming_resampler_keeps_length_and_pitch(rate: int) -> None:
    sig = voice(3.0, 140.0, 420.0, seed=3)
    resampler = StreamingResampler(8000, rate)
    parts = [resampler.process(sig[i : i + 1234]) for i in range(0, len(sig), 1234)]
    out = np.concatenate([*parts, resampler.flush()])
    assert len(out) == 3 * rate
    assert abs(dominant_frequency(out, rate) - 420) < 15


@pytest.mark.parametrize("rate", [16000, 11025, 44100])
def test_resampled_audio_is_sample_aligned_and_keeps_its_end(rate: int) -> None:
    """AudioHook's 8 kHz audio delivered at 16 kHz was 15.5 samples (0.97 ms) late, and
    the call's last 0.97 ms was never produced: the FIR's delay was neither compensated
    nor flushed."""
    sig = np.rint(tones(8000, 1.0)).astype(np.int16)
    resampler = StreamingResampler(8000, rate)
    parts = [resampler.process(sig[i : i + 160]) for i in range(0, len(sig), 160)]
    out = np.concatenate([*parts, resampler.flush()]).astype(np.float64)
    ideal = tones(rate, 1.0)
    assert len(out) == len(ideal)
    middle = slice(rate // 10, -rate // 10)
    assert abs(lag_in_samples(out[middle], ideal[middle])) < 0.05
    tail = slice(-rate // 1000, None)  # the last millisecond
    assert np.corrcoef(out[tail], ideal[tail])[0, 1] > 0.9


def test_speech_counter_counts_voice_not_silence() -> None:
    counter = SpeechCounter(8000, 2)
    counter.add(np.zeros(8000 * 2, dtype=np.int16))
    assert counter.speech_seconds == 0
    sig = voice(3.0, 140.0, 420.0, seed=4)
    for i in range(0, len(sig), 1000):  # odd sizes: the remainder carries over
        counter.add(sig[i : i + 1000])
    assert 2.5 <= counter.speech_seconds <= 3.0
