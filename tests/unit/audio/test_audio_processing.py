"""Optional processing (trim, loudness) and the async process-pool front."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from media_bridge.audio import (
    AudioProcessor,
    AudioSettings,
    AudioStatus,
    NotAudio,
    normalize,
)
from tests.unit.audio.audio_signals import FORMATS, encode, speech_like

RATE = 16000
WAV = FORMATS["wav_pcm"]


def wav_samples(path: Path) -> np.ndarray:
    with wave.open(str(path)) as reader:
        return np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")


@pytest.fixture
def padded_speech(tmp_path: Path) -> Path:
    """2 s silence, 3.5 s of speech (phrases end at 3.4 s), 3 s silence."""
    signal = np.concatenate([np.zeros(2 * RATE), speech_like(3.5, RATE), np.zeros(3 * RATE)])
    return encode(tmp_path / "padded.wav", signal, WAV)


@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_trim_leading_and_trailing_silence(padded_speech: Path, tmp_path: Path, fmt: str) -> None:
    plain = normalize(padded_speech, tmp_path / "plain.wav", AudioSettings())
    settings = AudioSettings(trim_silence=True, trim_pad_ms=100, output_format=fmt)
    trimmed = normalize(padded_speech, tmp_path / f"trim.{fmt}", settings)
    assert plain.output.duration_s == pytest.approx(8.5, abs=0.02)
    assert trimmed.output.trimmed_start_s == pytest.approx(1.9, abs=0.1)
    assert trimmed.output.trimmed_end_s == pytest.approx(8.5 - 5.4 - 0.1, abs=0.15)
    assert trimmed.output.duration_s == pytest.approx(
        8.5 - trimmed.output.trimmed_start_s - trimmed.output.trimmed_end_s, abs=0.002
    )
    # the speech itself is all still there
    assert trimmed.speech.net_speech_s == plain.speech.net_speech_s
    if fmt == "wav":
        assert len(wav_samples(tmp_path / "trim.wav")) == round(trimmed.output.duration_s * RATE)


def test_trim_only_the_tail_is_a_truncation(tmp_path: Path) -> None:
    signal = np.concatenate([speech_like(3.5, RATE), np.zeros(3 * RATE)])
    src = encode(tmp_path / "tail.wav", signal, WAV)
    report = normalize(src, tmp_path / "out.wav", AudioSettings(trim_silence=True))
    assert report.output.trimmed_start_s == 0.0
    assert report.output.trimmed_end_s > 2.5
    assert len(wav_samples(tmp_path / "out.wav")) == round(report.output.duration_s * RATE)


def test_nothing_trimmed_without_speech(tmp_path: Path) -> None:
    src = encode(tmp_path / "quiet.wav", np.zeros(2 * RATE), WAV)
    report = normalize(src, tmp_path / "out.wav", AudioSettings(trim_silence=True))
    assert report.output.duration_s == pytest.approx(2.0, abs=0.001)


def test_loudness_normalisation_raises_quiet_speech(tmp_path: Path) -> None:
    quiet = 0.05 * speech_like(6.0, RATE)  # speech around -42 dBFS
    src = encode(tmp_path / "quiet.wav", quiet, WAV)
    plain = normalize(src, tmp_path / "plain.wav", AudioSettings())
    settings = AudioSettings(loudness_normalize=True, loudness_target_dbfs=-23.0)
    louder = normalize(src, tmp_path / "loud.wav", settings)
    assert plain.level.speech_rms_dbfs is not None
    assert louder.output.gain_db == pytest.approx(-23.0 - plain.level.speech_rms_dbfs, abs=0.05)
    ratio = (
        np.abs(wav_samples(tmp_path / "loud.wav")).max()
        / np.abs(wav_samples(tmp_path / "plain.wav")).max()
    )
    assert 20 * np.log10(ratio) == pytest.approx(louder.output.gain_db, abs=0.2)


def test_loudness_gain_respects_the_peak_ceiling(tmp_path: Path) -> None:
    spiky = 0.02 * speech_like(6.0, RATE)
    spiky[RATE] = 0.9  # one near-full-scale click
    src = encode(tmp_path / "spiky.wav", spiky, WAV)
    settings = AudioSettings(loudness_normalize=True, loudness_peak_ceiling_dbfs=-1.0)
    report = normalize(src, tmp_path / "out.wav", settings)
    peak = np.abs(wav_samples(tmp_path / "out.wav")).max() / 32768
    assert 20 * np.log10(peak) <= -0.95
    assert report.output.gain_db < 1.0


def test_report_is_json_ready(padded_speech: Path, tmp_path: Path) -> None:
    report = normalize(padded_speech, tmp_path / "out.wav", AudioSettings())
    data = report.to_dict()
    assert data["status"] in {"ok", "insufficient_speech"}
    assert data["output"]["path"] == str(tmp_path / "out.wav")
    assert data["source"]["sha256"] == report.source.sha256
    assert set(data["speech"]) >= {
        "net_speech_s",
        "speech_ratio",
        "vad_frame_ms",
        "vad_aggressiveness",
        "snr_db",
    }
    assert set(data["level"]) >= {"rms_dbfs", "peak_dbfs", "clipping_ratio"}


async def test_processor_runs_off_the_loop(tmp_path: Path) -> None:
    long_speech = encode(tmp_path / "s.ogg", speech_like(8.0, 48000), FORMATS["ogg_opus"])
    stereo = encode(
        tmp_path / "st.wav", np.stack([speech_like(3.0, RATE), np.zeros(3 * RATE)]), WAV, channels=2
    )
    bogus = tmp_path / "bogus.ogg"
    bogus.write_bytes(b"%PDF-1.7\n" * 50)
    async with AudioProcessor(AudioSettings(), workers=1) as processor:
        report = await processor.process(long_speech, tmp_path / "out" / "s.wav")
        assert report.status is AudioStatus.OK
        assert (tmp_path / "out" / "s.wav").exists()
        right = await processor.process(stereo, tmp_path / "out" / "r.wav", channel="right")
        assert right.output.channel == "right"
        assert right.speech.net_speech_s < 0.2
        split = await processor.split(
            stereo, tmp_path / "out" / "a.wav", tmp_path / "out" / "b.wav"
        )
        assert split.left.speech.net_speech_s > 1.0
        with pytest.raises(NotAudio) as caught:
            await processor.process(bogus, tmp_path / "out" / "bogus.wav")
        assert caught.value.code == "not_audio"
    assert processor.workers == 1


def test_processor_defaults_to_the_cores() -> None:
    assert AudioProcessor(AudioSettings()).workers >= 1
    assert AudioProcessor(AudioSettings(workers=3)).workers == 3


def test_the_original_cannot_be_overwritten(padded_speech: Path) -> None:
    before = padded_speech.read_bytes()
    with pytest.raises(ValueError, match="differ"):
        normalize(padded_speech, padded_speech, AudioSettings())
    assert padded_speech.read_bytes() == before
