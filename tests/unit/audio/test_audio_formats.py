"""Every input format Genesys channels carry decodes to the target format."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from media_bridge.audio import AudioSettings, AudioStatus, normalize
from media_bridge.audio.pipeline import sha256_file
from tests.unit.audio.audio_signals import FORMATS

CLIP_SECONDS = 5.0
#: the synthetic clip holds 4 phrases of 0.9 s
VOICED_SECONDS = 3.6


def read_wav(path: Path) -> tuple[wave._wave_params, np.ndarray]:
    with wave.open(str(path)) as reader:
        params = reader.getparams()
        samples = np.frombuffer(reader.readframes(params.nframes), dtype="<i2")
    return params, samples


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_each_format_normalises_to_16k_mono_s16_wav(
    name: str, encoded: dict[str, Path], tmp_path: Path
) -> None:
    src = encoded[name]
    before = sha256_file(src)
    dst = tmp_path / "out.wav"

    report = normalize(src, dst, AudioSettings())

    params, samples = read_wav(dst)
    assert (params.framerate, params.nchannels, params.sampwidth) == (16000, 1, 2)
    assert params.nframes / 16000 == pytest.approx(CLIP_SECONDS, abs=0.0201)
    assert report.output.duration_s == pytest.approx(params.nframes / 16000, abs=1e-3)
    assert report.source.duration_s == pytest.approx(CLIP_SECONDS, abs=0.0201)
    assert (report.output.sample_rate, report.output.channels) == (16000, 1)
    assert report.output.sample_format == "s16"
    assert report.source.channels == 1
    assert report.source.codec
    assert report.source.container
    # the speech measure finds the voiced phrases, not the pauses
    assert 0.75 * VOICED_SECONDS <= report.speech.net_speech_s <= VOICED_SECONDS + 0.1
    assert report.status is AudioStatus.INSUFFICIENT_SPEECH  # 3.6 s < default 4 s gate
    assert -30 < report.level.rms_dbfs < -18
    assert report.level.peak_dbfs < 0
    assert np.abs(samples).max() > 3000  # real signal, not silence
    # the original is untouched and both hashes are reported
    assert src.exists()
    assert sha256_file(src) == before == report.source.sha256
    assert report.output.sha256 == sha256_file(dst)
    json.dumps(report.to_dict())


def test_codecs_are_reported(encoded: dict[str, Path], tmp_path: Path) -> None:
    codecs = {
        name: normalize(src, tmp_path / f"{name}.wav", AudioSettings()).source.codec
        for name, src in encoded.items()
    }
    assert codecs["ogg_opus"] == codecs["webm_opus"] == "opus"
    assert codecs["amr"] == "amrnb"
    assert codecs["m4a_aac"] == "aac"
    assert codecs["mp3"].startswith("mp3")
    assert codecs["wav_mulaw"] == "pcm_mulaw"


@pytest.mark.parametrize("rate", [8000, 22050, 48000])
def test_other_rates(rate: int, encoded: dict[str, Path], tmp_path: Path) -> None:
    dst = tmp_path / "out.wav"
    report = normalize(encoded["ogg_opus"], dst, AudioSettings(sample_rate=rate))
    params, _ = read_wav(dst)
    assert params.framerate == rate == report.output.sample_rate
    assert params.nframes / rate == pytest.approx(CLIP_SECONDS, abs=0.0201)
    # VAD runs at a webrtcvad rate (a 16 kHz twin stream for 22.05 kHz)
    assert report.speech.vad_sample_rate in (8000, 16000, 48000)
    assert report.speech.net_speech_s > 0.75 * VOICED_SECONDS


@pytest.mark.parametrize(("fmt", "codec"), [("flac", "flac"), ("ogg_opus", "opus")])
def test_flac_and_opus_outputs(
    fmt: str, codec: str, encoded: dict[str, Path], tmp_path: Path
) -> None:
    dst = tmp_path / f"out.{fmt}"
    settings = AudioSettings(output_format=fmt)
    report = normalize(encoded["m4a_aac"], dst, settings)
    assert report.output.codec == codec
    with av.open(str(dst)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == codec
        assert stream.codec_context.channels == 1
        decoded = sum(frame.samples for frame in container.decode(stream))
        rate = stream.codec_context.sample_rate
    if codec == "flac":
        assert rate == 16000
    assert decoded / rate == pytest.approx(CLIP_SECONDS, abs=0.03)
    assert report.output.sha256 == sha256_file(dst)
