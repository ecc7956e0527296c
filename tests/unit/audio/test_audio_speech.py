"""The speech measure separates speech from silence and from noise; the gate works."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from media_bridge.audio import AudioSettings, AudioStatus, normalize
from tests.unit.audio.audio_signals import (
    FORMATS,
    encode,
    pink_noise,
    speech_like,
    tone,
    white_noise,
)

RATE = 16000
WAV = FORMATS["wav_pcm"]


def measure(tmp_path: Path, signal: np.ndarray, fmt=WAV, **settings: object):  # type: ignore[no-untyped-def]
    tmp_path.mkdir(parents=True, exist_ok=True)
    src = encode(tmp_path / f"in{fmt.suffix}", signal, fmt)
    return normalize(src, tmp_path / "out.wav", AudioSettings(**settings))


def test_speech_is_counted(tmp_path: Path) -> None:
    report = measure(tmp_path, speech_like(10.0, RATE))
    assert 5.0 < report.speech.net_speech_s <= 7.3  # 8 phrases of 0.9 s
    assert report.speech.speech_ratio > 0.5
    assert report.status is AudioStatus.OK


@pytest.mark.parametrize(
    ("label", "signal"),
    [
        ("digital silence", np.zeros(10 * RATE)),
        ("dither", white_noise(10.0, RATE, level=0.0005)),
        ("white noise -20 dBFS", white_noise(10.0, RATE, level=0.1)),
        ("loud white noise", white_noise(10.0, RATE, level=0.3)),
        ("pink noise", pink_noise(10.0, RATE, level=0.1)),
        ("mains hum", tone(10.0, RATE, 50.0, level=0.3)),
    ],
)
def test_silence_and_noise_are_not_speech(tmp_path: Path, label: str, signal: np.ndarray) -> None:
    report = measure(tmp_path, signal)
    assert report.speech.net_speech_s < 0.5, label
    assert report.speech.speech_ratio < 0.05, label
    assert report.status is AudioStatus.INSUFFICIENT_SPEECH
    assert report.output.duration_s == pytest.approx(10.0, abs=0.02)  # the file is still made


def test_speech_in_noise_is_found_and_snr_tracks_the_noise(tmp_path: Path) -> None:
    voice = speech_like(10.0, RATE)
    quiet = measure(tmp_path / "a", voice + white_noise(10.0, RATE, level=0.003))
    noisy = measure(tmp_path / "b", voice + white_noise(10.0, RATE, level=0.03))
    assert quiet.speech.snr_db is not None
    assert noisy.speech.snr_db is not None
    assert quiet.speech.snr_db > noisy.speech.snr_db + 8
    assert quiet.speech.net_speech_s > 5.0


def test_levels_and_clipping(tmp_path: Path) -> None:
    clipped = np.clip(6.0 * speech_like(6.0, RATE), -1.0, 1.0)
    report = measure(tmp_path, clipped)
    assert report.level.peak_dbfs == pytest.approx(0.0, abs=0.01)
    assert report.level.clipping_ratio > 0.01
    clean = measure(tmp_path / "c", tone(6.0, RATE, 440.0, level=0.5))
    assert clean.level.clipping_ratio == 0.0
    assert clean.level.peak_dbfs == pytest.approx(-6.02, abs=0.05)
    assert clean.level.rms_dbfs == pytest.approx(-9.03, abs=0.05)


def test_gate_is_configurable(tmp_path: Path) -> None:
    signal = speech_like(10.0, RATE)
    strict = measure(tmp_path / "a", signal, min_net_speech_s=20.0)
    lenient = measure(tmp_path / "b", signal, min_net_speech_s=1.0)
    assert strict.status is AudioStatus.INSUFFICIENT_SPEECH
    assert lenient.status is AudioStatus.OK
    assert strict.min_net_speech_s == 20.0
    assert strict.output.path.exists()


def test_vad_settings_are_recorded(tmp_path: Path) -> None:
    report = measure(tmp_path, speech_like(3.0, RATE), vad_aggressiveness=3, vad_frame_ms=20)
    assert (report.speech.vad_aggressiveness, report.speech.vad_frame_ms) == (3, 20)
    assert report.speech.vad_sample_rate == 16000


@pytest.mark.parametrize(("name", "least"), [("speech_en.ogg", 4.0), ("speech_es.amr", 3.0)])
def test_real_speech_fixtures(fixtures_dir: Path, tmp_path: Path, name: str, least: float) -> None:
    report = normalize(fixtures_dir / name, tmp_path / "out.wav", AudioSettings())
    assert report.speech.net_speech_s >= least
    assert 0.4 < report.speech.speech_ratio < 0.95  # pauses between words exist
    assert report.speech.snr_db is not None
    assert report.speech.snr_db > 6


def test_real_speech_under_heavy_noise_still_beats_noise_alone(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    import av

    with av.open(str(fixtures_dir / "speech_en.ogg")) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        parts = [
            out.to_ndarray().reshape(-1)
            for frame in container.decode(audio=0)
            for out in resampler.resample(frame)
        ]
    voice = np.concatenate(parts).astype(np.float64)
    noise = white_noise(len(voice) / RATE, RATE, level=0.01)[: len(voice)]  # SNR ~20 dB
    mixed = measure(tmp_path / "mixed", voice + noise)
    alone = measure(tmp_path / "alone", noise)
    assert mixed.speech.net_speech_s > 3.0
    assert alone.speech.net_speech_s < 0.5
