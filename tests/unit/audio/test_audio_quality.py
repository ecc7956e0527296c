"""The quality verdict: ``ok``, ``short``, ``noisy``, ``clipped``, with reasons and figures."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from media_bridge.audio import AudioQuality, AudioSettings, QualityFigures, normalize
from media_bridge.audio.quality import PRECEDENCE, verdict
from tests.unit.audio.audio_signals import FORMATS, encode, speech_like, white_noise

RATE = 16000

GOOD = QualityFigures(
    net_speech_s=6.0,
    min_net_speech_s=4.0,
    snr_db=20.0,
    min_snr_db=8.0,
    clipping_ratio=0.0,
    max_clipping_ratio=0.001,
    clip_level_dbfs=-0.1,
)


def test_good_figures_are_ok_without_reasons() -> None:
    assert verdict(GOOD) == (AudioQuality.OK, ())


@pytest.mark.parametrize(
    ("change", "quality", "words"),
    [
        ({"net_speech_s": 2.4}, AudioQuality.SHORT, "2.4 s of net speech"),
        ({"snr_db": 5.5}, AudioQuality.NOISY, "5.5 dB"),
        ({"clipping_ratio": 0.02}, AudioQuality.CLIPPED, "2.0000% of samples"),
    ],
)
def test_each_threshold_gives_its_verdict_and_figure(
    change: dict[str, float], quality: AudioQuality, words: str
) -> None:
    found, reasons = verdict(replace(GOOD, **change))
    assert found is quality
    assert len(reasons) == 1
    assert reasons[0].startswith(f"{quality.value}: ")
    assert words in reasons[0]


def test_thresholds_are_inclusive_for_ok() -> None:
    exact = replace(GOOD, net_speech_s=4.0, snr_db=8.0, clipping_ratio=0.001)
    assert verdict(exact)[0] is AudioQuality.OK


def test_no_snr_estimate_is_never_noisy() -> None:
    assert verdict(replace(GOOD, snr_db=None))[0] is AudioQuality.OK


def test_precedence_short_then_clipped_then_noisy_and_every_reason_is_listed() -> None:
    assert PRECEDENCE == (AudioQuality.SHORT, AudioQuality.CLIPPED, AudioQuality.NOISY)
    everything = replace(GOOD, net_speech_s=1.0, snr_db=3.0, clipping_ratio=0.5)
    quality, reasons = verdict(everything)
    assert quality is AudioQuality.SHORT
    assert [r.split(":")[0] for r in reasons] == ["short", "clipped", "noisy"]
    quality, reasons = verdict(replace(everything, net_speech_s=9.0))
    assert quality is AudioQuality.CLIPPED
    assert [r.split(":")[0] for r in reasons] == ["clipped", "noisy"]


def _report(tmp_path: Path, signal: np.ndarray, **settings: object):  # type: ignore[no-untyped-def]
    tmp_path.mkdir(parents=True, exist_ok=True)
    src = encode(tmp_path / "in.wav", signal, FORMATS["wav_pcm"])
    return normalize(src, tmp_path / "out.wav", AudioSettings(**settings))


def test_normalised_clips_carry_the_verdict_in_their_report(tmp_path: Path) -> None:
    voice = speech_like(10.0, RATE)
    clean = _report(tmp_path / "clean", voice)
    assert clean.quality is AudioQuality.OK
    data = clean.to_dict()
    assert data["quality"] == "ok"
    assert data["quality_reasons"] == []
    assert data["quality_figures"]["net_speech_s"] == clean.speech.net_speech_s
    assert data["quality_figures"]["min_snr_db"] == 8.0
    assert data["quality_figures"]["max_clipping_ratio"] == 0.001

    short = _report(tmp_path / "short", voice, min_net_speech_s=30.0)
    assert short.quality is AudioQuality.SHORT
    assert short.to_dict()["quality_figures"]["min_net_speech_s"] == 30.0

    # noise also hides speech frames: a lower gate keeps the verdict on the noise
    noisy = _report(
        tmp_path / "noisy", voice + white_noise(10.0, RATE, level=0.05), min_net_speech_s=1.0
    )
    assert noisy.speech.snr_db is not None
    assert noisy.speech.snr_db < 8.0
    assert noisy.quality is AudioQuality.NOISY, noisy.quality_reasons

    clipped = _report(tmp_path / "clipped", np.clip(6.0 * voice, -1.0, 1.0), min_net_speech_s=1.0)
    assert clipped.quality is AudioQuality.CLIPPED, clipped.quality_reasons
    assert clipped.quality_figures.clipping_ratio > 0.001


def test_the_thresholds_are_settings(tmp_path: Path) -> None:
    voice = speech_like(10.0, RATE) + white_noise(10.0, RATE, level=0.05)
    lenient = _report(tmp_path, voice, min_snr_db=0.0, min_net_speech_s=1.0)
    assert lenient.quality is AudioQuality.OK
    clipped = np.clip(6.0 * speech_like(10.0, RATE), -1.0, 1.0)
    tolerant = _report(tmp_path / "c", clipped, max_clipping_ratio=1.0, min_net_speech_s=1.0)
    assert tolerant.quality is not AudioQuality.CLIPPED
