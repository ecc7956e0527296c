"""The output is bounded, not only the input (issue 16): duration x output rate, a byte
cap per file (``max_output_bytes``), and input rates no speech channel carries refused.

A bound on input samples alone let a 28 KB WAV at 1 Hz become 448 MB of 16 kHz output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from media_bridge.audio import (
    AudioSettings,
    BadSampleRate,
    DecompressionBomb,
    OutputTooLarge,
    normalize,
)
from media_bridge.audio.decode import LimitedDecoder, open_input
from media_bridge.audio.pipeline import ChannelPipeline
from media_bridge.audio.wavio import HEADER_BYTES
from media_bridge.errors import BadInput
from tests.unit.audio.audio_signals import FORMATS, encode, pcm_wav, speech_like


def _wav(tmp_path: Path, rate: int, samples: int | np.ndarray, name: str = "in.wav") -> Path:
    src = tmp_path / name
    src.write_bytes(pcm_wav(rate, samples))
    return src


def _refused(src: Path, tmp_path: Path, error: type[BadInput], **settings: object) -> BadInput:
    """``error`` is raised, is bad input (never retried) and leaves no file behind."""
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    with pytest.raises(error) as caught:
        normalize(src, out / "voice.wav", AudioSettings(**settings))
    assert not caught.value.retryable
    assert list(out.iterdir()) == []
    return caught.value


# -- implausible input rates -----------------------------------------------------------


@pytest.mark.parametrize("rate", [1, 8, 3999, 384_001, 2**31 - 1])
def test_input_rates_outside_4_khz_to_384_khz_are_refused(tmp_path: Path, rate: int) -> None:
    # 2^31-1 Hz used to raise MemoryError in the resampler: retried as "unexpected"
    error = _refused(_wav(tmp_path, rate, 4000), tmp_path, BadSampleRate)
    assert error.code == "bad_sample_rate"
    assert f"{rate} Hz" in str(error)


@pytest.mark.parametrize("rate", [4000, 384_000])
def test_the_edges_of_the_rate_range_are_accepted(tmp_path: Path, rate: int) -> None:
    src = _wav(tmp_path, rate, speech_like(0.5, rate))
    report = normalize(src, tmp_path / "voice.wav", AudioSettings())
    assert report.source.sample_rate == rate
    assert report.output.sample_rate == 16000
    assert report.output.duration_s == pytest.approx(0.5, abs=0.01)


def test_the_rate_range_is_a_setting(tmp_path: Path) -> None:
    src = _wav(tmp_path, 2000, speech_like(0.5, 2000))
    _refused(src, tmp_path, BadSampleRate)
    report = normalize(src, tmp_path / "voice.wav", AudioSettings(min_input_rate=1000))
    assert report.source.sample_rate == 2000
    _refused(_wav(tmp_path, 48000, 4800, "hi.wav"), tmp_path, BadSampleRate, max_input_rate=44100)


# -- the bomb ratio at the output rate -------------------------------------------------


def test_a_low_rate_bomb_is_counted_at_the_output_rate(tmp_path: Path) -> None:
    # 14,000 samples at 1 Hz: 3.9 h, 1 sample per 2 input bytes at the source rate, but
    # 8,000 output samples per byte at 16 kHz (limit 2,000)
    src = _wav(tmp_path, 1, 14_000)
    error = _refused(src, tmp_path, DecompressionBomb, min_input_rate=1)
    assert "samples per input byte" in str(error)


# -- the byte cap: duration x output rate ----------------------------------------------


def test_the_header_duration_times_the_output_rate_is_checked_before_decoding(
    tmp_path: Path,
) -> None:
    # 1 s at 16 kHz: 32,000 bytes of output, over a 16,000-byte cap
    src = _wav(tmp_path, 16000, speech_like(1.0, 16000))
    error = _refused(src, tmp_path, OutputTooLarge, max_output_bytes=16_000)
    assert error.code == "output_too_large"
    assert "header says" in str(error)


def test_the_cap_follows_the_output_rate(tmp_path: Path) -> None:
    src = _wav(tmp_path, 16000, speech_like(1.0, 16000))
    _refused(src, tmp_path, OutputTooLarge, max_output_bytes=24_000)  # 16 kHz: 32,000 bytes
    dst = tmp_path / "voice.wav"
    report = normalize(src, dst, AudioSettings(max_output_bytes=24_000, sample_rate=8000))
    assert report.output.bytes == dst.stat().st_size == HEADER_BYTES + 16_000


def test_without_a_declared_duration_the_decoder_stops_at_the_cap(tmp_path: Path) -> None:
    # raw AMR has no duration in its header (only a bit-rate guess): the header check
    # cannot see the size, counting the decoded samples at the output rate does
    amr = FORMATS["amr"]
    src = encode(tmp_path / "in.amr", speech_like(3.0, amr.rate), amr)
    error = _refused(src, tmp_path, OutputTooLarge, max_output_bytes=48_000)
    assert "header says" not in str(error)
    report = normalize(src, tmp_path / "voice.wav", AudioSettings(max_output_bytes=200_000))
    assert report.output.bytes <= 200_000


def test_the_decoder_counts_its_samples_at_the_output_rate(tmp_path: Path) -> None:
    # 3 s of 8 kHz AMR: 24,000 decoded samples, 48,000 output samples (96,000 bytes) at
    # 16 kHz; the decoder stops before the writer would have to
    amr = FORMATS["amr"]
    src = encode(tmp_path / "in.amr", speech_like(3.0, amr.rate), amr)
    settings = AudioSettings(max_output_bytes=48_000)
    container, stream, probe = open_input(src, settings)
    try:
        assert probe.declared_duration_s is None
        decoder = LimitedDecoder(src, container, stream, probe, settings)
        with pytest.raises(OutputTooLarge):
            for _ in decoder.frames():
                pass
    finally:
        container.close()
    assert 2 * decoder.samples * 16000 / decoder.rate == pytest.approx(48_000, abs=2 * 320)


def test_the_writer_refuses_the_block_that_would_pass_the_cap(tmp_path: Path) -> None:
    # the last line of defence: whatever the decoder let through, no output file grows
    # past max_output_bytes
    settings = AudioSettings(max_output_bytes=HEADER_BYTES + 2 * 16_000)
    channel = ChannelPipeline(tmp_path / "voice.wav", "mono", settings)
    channel.feed(np.zeros(10_000, dtype=np.int16))
    channel.feed(np.zeros(6_000, dtype=np.int16))  # exactly at the cap
    with pytest.raises(OutputTooLarge):
        channel.feed(np.zeros(1, dtype=np.int16))
    channel.abort()
    assert channel.writer.samples == 16_000
    assert list(tmp_path.iterdir()) == []
