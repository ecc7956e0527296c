"""Broken and hostile inputs: each fails fast with its own error and code, no output left."""

from __future__ import annotations

import struct
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from media_bridge.audio import (
    AudioError,
    AudioSettings,
    AudioTooLarge,
    AudioTooLong,
    CorruptAudio,
    DecodeTimeout,
    DecompressionBomb,
    EmptyAudio,
    NoAudioStream,
    NotAudio,
    TruncatedAudio,
    normalize,
)
from media_bridge.errors import BadInput
from tests.unit.audio.audio_signals import FORMATS, encode, speech_like

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def fails(src: Path, tmp_path: Path, error: type[AudioError], code: str, **settings: object) -> str:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    with pytest.raises(error) as caught:
        normalize(src, out / "voice.wav", AudioSettings(**settings))
    assert type(caught.value) is error
    assert caught.value.code == code
    assert isinstance(caught.value, BadInput)
    assert not caught.value.retryable
    assert list(out.iterdir()) == []  # no output, no temporary file left behind
    assert src.exists()  # the original is never touched
    return str(caught.value)


def without_total_samples(flac: Path) -> Path:
    """Clear STREAMINFO's total-sample count: the header no longer says how long it is."""
    data = bytearray(flac.read_bytes())
    (packed,) = struct.unpack(">Q", data[18:26])
    data[18:26] = struct.pack(">Q", packed & ~((1 << 36) - 1))
    flac.write_bytes(bytes(data))
    return flac


@pytest.fixture(scope="module")
def silence_flac(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two minutes of digital silence at 48 kHz: a few KB that decode to 5.7 M samples."""
    folder = tmp_path_factory.mktemp("bomb")
    return encode(
        folder / "silence.flac", np.zeros(120 * 48000), replace(FORMATS["flac"], rate=48000)
    )


def test_zero_length(tmp_path: Path) -> None:
    src = tmp_path / "voice.ogg"
    src.write_bytes(b"")
    fails(src, tmp_path, EmptyAudio, "empty_file")


@pytest.mark.parametrize(
    ("content", "kind"), [(PNG + bytes(200), "PNG image"), (PDF * 4, "PDF document")]
)
def test_image_or_pdf_named_ogg(tmp_path: Path, content: bytes, kind: str) -> None:
    src = tmp_path / "voice.ogg"
    src.write_bytes(content)
    assert kind in fails(src, tmp_path, NotAudio, "not_audio")


@pytest.mark.parametrize(
    "content", [b"plain words, no audio at all\n" * 200, bytes(range(256)) * 40]
)
def test_text_or_random_bytes(tmp_path: Path, content: bytes) -> None:
    src = tmp_path / "voice.ogg"
    src.write_bytes(content)
    fails(src, tmp_path, NotAudio, "not_audio")


@pytest.mark.parametrize(
    "magic", [b"OggS", b"RIFF\x00\x10\x00\x00WAVEfmt ", b"ID3\x03\x00\x00\x00\x00\x00\x10"]
)
def test_audio_magic_with_garbage(tmp_path: Path, magic: bytes) -> None:
    src = tmp_path / "voice.bin"
    src.write_bytes(
        magic + np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    )
    fails(src, tmp_path, CorruptAudio, "corrupt_audio")


def test_damage_in_the_middle(encoded: dict[str, Path], tmp_path: Path) -> None:
    data = encoded["ogg_opus"].read_bytes()
    third = len(data) // 3
    noise = np.random.default_rng(1).integers(0, 256, 2000, dtype=np.uint8).tobytes()
    src = tmp_path / "voice.ogg"
    src.write_bytes(data[:third] + noise + data[third + 2000 :])
    assert "missing mid-stream" in fails(src, tmp_path, CorruptAudio, "corrupt_audio")


@pytest.mark.parametrize("name", ["ogg_opus", "m4a_aac", "mp3", "wav_pcm"])
def test_truncated(encoded: dict[str, Path], tmp_path: Path, name: str) -> None:
    data = encoded[name].read_bytes()
    src = tmp_path / f"voice{encoded[name].suffix}"
    src.write_bytes(data[: len(data) // 2])
    fails(src, tmp_path, TruncatedAudio, "truncated_audio")


def test_video_without_audio(tmp_path: Path) -> None:
    src = tmp_path / "voice.mp4"
    with av.open(str(src), mode="w") as container:
        stream = container.add_stream("mpeg4", rate=5)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        for index in range(5):
            frame = av.VideoFrame.from_ndarray(
                np.zeros((32, 32, 3), dtype=np.uint8), format="rgb24"
            )
            frame.pts = index
            frame.time_base = Fraction(1, 5)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    assert "video" in fails(src, tmp_path, NoAudioStream, "no_audio_stream")


def test_too_large(encoded: dict[str, Path], tmp_path: Path) -> None:
    fails(encoded["wav_pcm"], tmp_path, AudioTooLarge, "too_large", max_input_bytes=1000)


def test_too_long_from_header(encoded: dict[str, Path], tmp_path: Path) -> None:
    assert "header" in fails(
        encoded["ogg_opus"], tmp_path, AudioTooLong, "too_long", max_duration_s=2.0
    )


def test_too_long_while_decoding(silence_flac: Path, tmp_path: Path) -> None:
    copy = tmp_path / "nolength.flac"
    copy.write_bytes(silence_flac.read_bytes())
    without_total_samples(copy)
    assert "decoded past" in fails(copy, tmp_path, AudioTooLong, "too_long", max_duration_s=60.0)


def test_decompression_bomb_from_header(silence_flac: Path, tmp_path: Path) -> None:
    message = fails(
        silence_flac, tmp_path, DecompressionBomb, "decompression_bomb", max_samples_per_byte=50.0
    )
    assert "header" in message


def test_decompression_bomb_while_decoding(silence_flac: Path, tmp_path: Path) -> None:
    copy = tmp_path / "nolength.flac"
    copy.write_bytes(silence_flac.read_bytes())
    without_total_samples(copy)
    message = fails(
        copy, tmp_path, DecompressionBomb, "decompression_bomb", max_samples_per_byte=50.0
    )
    assert "decoded" in message


def test_default_limits_accept_compact_silence(silence_flac: Path, tmp_path: Path) -> None:
    report = normalize(silence_flac, tmp_path / "out.wav", AudioSettings())
    assert report.source.duration_s == pytest.approx(120.0, abs=0.01)


def test_timeout(encoded: dict[str, Path], tmp_path: Path) -> None:
    fails(encoded["mp3"], tmp_path, DecodeTimeout, "decode_timeout", timeout_s=1e-9)


def test_every_code_is_distinct() -> None:
    classes = [
        EmptyAudio, NotAudio, NoAudioStream, CorruptAudio, TruncatedAudio,
        AudioTooLarge, AudioTooLong, DecompressionBomb, DecodeTimeout,
    ]  # fmt: skip
    codes = [cls.code for cls in classes]
    assert len(set(codes)) == len(codes)
    assert all(issubclass(cls, AudioError) for cls in classes)


def test_speech_clip_is_unaffected_by_limits(tmp_path: Path) -> None:
    src = encode(tmp_path / "ok.ogg", speech_like(3.0, 48000), FORMATS["ogg_opus"])
    assert normalize(src, tmp_path / "out.wav", AudioSettings()).output.path.exists()
