"""Stereo call recordings: the chosen channel alone, or both channels split in one pass."""

from __future__ import annotations

import wave
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from media_bridge.audio import AudioSettings, NotStereo, normalize, split_stereo
from tests.unit.audio.audio_signals import FORMATS, dominant_frequency, encode, speech_like, tone

LEFT_HZ, RIGHT_HZ = 440.0, 1000.0


def samples(path: Path) -> tuple[int, np.ndarray]:
    with wave.open(str(path)) as reader:
        assert reader.getnchannels() == 1
        return reader.getframerate(), np.frombuffer(
            reader.readframes(reader.getnframes()), dtype="<i2"
        )


@pytest.fixture(scope="module", params=["wav_pcm", "ogg_opus", "m4a_aac"])
def two_tones(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Opus at low bit rates codes stereo as intensity stereo (the channels leak into
    # each other at about -20 dB): give it the bit rate a stereo recording would have.
    fmt = replace(FORMATS[request.param], bit_rate=96000 if request.param == "ogg_opus" else None)
    signal = np.stack([tone(3.0, fmt.rate, LEFT_HZ), tone(3.0, fmt.rate, RIGHT_HZ)])
    return encode(tmp_path_factory.mktemp("stereo") / f"tones{fmt.suffix}", signal, fmt, channels=2)


@pytest.mark.parametrize(("channel", "expected"), [("left", LEFT_HZ), ("right", RIGHT_HZ)])
def test_chosen_channel_alone(
    two_tones: Path, tmp_path: Path, channel: str, expected: float
) -> None:
    dst = tmp_path / "out.wav"
    report = normalize(two_tones, dst, AudioSettings(), channel=channel)  # type: ignore[arg-type]
    rate, pcm = samples(dst)
    assert rate == 16000
    assert dominant_frequency(pcm, rate) == pytest.approx(expected, abs=5)
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float64)))
    freqs = np.fft.rfftfreq(len(pcm), 1 / rate)
    other = RIGHT_HZ if expected == LEFT_HZ else LEFT_HZ
    leak = spectrum[np.abs(freqs - other) < 5].max() / spectrum[np.abs(freqs - expected) < 5].max()
    assert leak < 0.01  # the other channel is absent (< -40 dB)
    assert report.output.channel == channel
    assert report.source.channels == 2


def test_channel_from_settings_and_mix(two_tones: Path, tmp_path: Path) -> None:
    right = normalize(two_tones, tmp_path / "r.wav", AudioSettings(channel="right"))
    assert right.output.channel == "right"
    assert dominant_frequency(samples(tmp_path / "r.wav")[1], 16000) == pytest.approx(
        RIGHT_HZ, abs=5
    )
    mixed = normalize(two_tones, tmp_path / "m.wav", AudioSettings())
    assert mixed.output.channel == "mix"
    _, pcm = samples(tmp_path / "m.wav")
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float64)))
    freqs = np.fft.rfftfreq(len(pcm), 1 / 16000)
    both = [spectrum[np.abs(freqs - f) < 5].max() for f in (LEFT_HZ, RIGHT_HZ)]
    assert min(both) / max(both) > 0.5


def test_split_stereo_one_pass(two_tones: Path, tmp_path: Path) -> None:
    report = split_stereo(
        two_tones, tmp_path / "customer.wav", tmp_path / "agent.wav", AudioSettings()
    )
    assert dominant_frequency(samples(tmp_path / "customer.wav")[1], 16000) == pytest.approx(
        LEFT_HZ, abs=5
    )
    assert dominant_frequency(samples(tmp_path / "agent.wav")[1], 16000) == pytest.approx(
        RIGHT_HZ, abs=5
    )
    assert (report.left.output.channel, report.right.output.channel) == ("left", "right")
    assert report.left.source == report.right.source
    assert report.left.output.duration_s == pytest.approx(3.0, abs=0.02)
    assert set(report.to_dict()) == {"left", "right"}


def test_speech_on_one_side_only(tmp_path: Path) -> None:
    fmt = FORMATS["ogg_opus"]
    signal = np.stack([speech_like(8.0, fmt.rate), np.zeros(8 * fmt.rate)])
    src = encode(tmp_path / "call.ogg", signal, fmt, channels=2)
    report = split_stereo(src, tmp_path / "l.wav", tmp_path / "r.wav", AudioSettings())
    assert report.left.speech.net_speech_s > 4.0
    assert report.right.speech.net_speech_s < 0.2
    assert report.left.ok
    assert not report.right.ok


def test_committed_call_fixture(fixtures_dir: Path, tmp_path: Path) -> None:
    """Real speech: the customer talks first (left), the agent afterwards (right)."""
    settings = AudioSettings(trim_silence=True, min_net_speech_s=2.0)
    report = split_stereo(
        fixtures_dir / "call_stereo.ogg", tmp_path / "l.wav", tmp_path / "r.wav", settings
    )
    left, right = report.left, report.right
    assert left.speech.net_speech_s > 2.0
    assert right.speech.net_speech_s > 2.0
    # trimming shows where each side speaks: left early, right late
    assert left.output.trimmed_end_s > 4.0
    assert right.output.trimmed_start_s > 3.5
    assert left.output.trimmed_start_s < 1.0


def test_mono_cannot_be_split(encoded: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(NotStereo) as caught:
        split_stereo(encoded["ogg_opus"], tmp_path / "l.wav", tmp_path / "r.wav", AudioSettings())
    assert caught.value.code == "not_stereo"
    assert list(tmp_path.iterdir()) == []


def test_mono_input_with_channel_choice_is_used_as_is(
    encoded: dict[str, Path], tmp_path: Path
) -> None:
    report = normalize(encoded["wav_pcm"], tmp_path / "o.wav", AudioSettings(), channel="right")
    assert report.output.channel == "mono"
