"""audio.max_segment_s: long clips cut at pauses into normalised pieces with offsets."""

from __future__ import annotations

import itertools
import wave
from pathlib import Path

import numpy as np
import pytest

from media_bridge.audio import AudioSettings, normalize
from media_bridge.audio.segments import plan_segments
from tests.unit.audio.audio_signals import FORMATS, encode, speech_like

RATE = 16000


def flags_of(pattern: str) -> np.ndarray:
    """``S`` speech, ``.`` pause, one character per 1 s frame."""
    return np.array([c == "S" for c in pattern], dtype=np.bool_)


def test_a_clip_that_fits_is_one_segment() -> None:
    (only,) = plan_segments(flags_of("SS.SS"), 1.0, 0.0, 5.0, 20.0)
    assert (only.start_s, only.end_s, only.net_speech_s) == (0.0, 5.0, 4.0)


def test_cuts_fall_in_the_middle_of_the_longest_late_pause() -> None:
    # window 10 s: pauses at 2 (short, first half) and 6-7 (long) -> cut at 7.0
    plans = plan_segments(flags_of("SS.SSS..SSSSSS"), 1.0, 0.0, 14.0, 10.0)
    assert [(p.start_s, p.end_s) for p in plans] == [(0.0, 7.0), (7.0, 14.0)]
    assert [p.net_speech_s for p in plans] == [5.0, 6.0]


def test_speech_without_a_pause_is_cut_at_the_limit() -> None:
    plans = plan_segments(flags_of("S" * 25), 1.0, 0.0, 25.0, 10.0)
    assert [(p.start_s, p.end_s) for p in plans] == [(0.0, 10.0), (10.0, 20.0), (20.0, 25.0)]
    assert sum(p.net_speech_s for p in plans) == 25.0


def test_an_early_pause_is_used_when_the_late_half_has_none() -> None:
    plans = plan_segments(flags_of("SS." + "S" * 12), 1.0, 0.0, 15.0, 10.0)
    assert plans[0].end_s == 2.5
    assert all(p.end_s - p.start_s <= 10.0 for p in plans)


def _wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as handle:
        return float(handle.getnframes() / handle.getframerate())


@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_a_long_clip_becomes_pieces_at_pauses(tmp_path: Path, fmt: str) -> None:
    src = encode(tmp_path / "in.wav", speech_like(60.0, RATE), FORMATS["wav_pcm"])
    dst = tmp_path / "out.audio"
    settings = AudioSettings(max_segment_s=20.0, output_format=fmt)
    report = normalize(src, dst, settings)
    segments = report.segments
    assert segments is not None
    assert len(segments) >= 3
    assert [s.role for s in segments] == [f"segment-{i}" for i in range(1, len(segments) + 1)]
    assert segments[0].start_s == 0.0
    assert segments[-1].end_s == pytest.approx(report.output.duration_s, abs=0.001)
    for before, after in itertools.pairwise(segments):
        assert before.end_s == after.start_s  # contiguous, nothing lost
    for segment in segments:
        assert 0.0 < segment.end_s - segment.start_s <= 20.0
        assert segment.path.exists()
        assert segment.path.name == f"out.audio.{segment.role}"
        assert segment.bytes == segment.path.stat().st_size
        if fmt == "wav":
            assert _wav_seconds(segment.path) == pytest.approx(segment.duration_s, abs=0.001)
    total = sum(s.net_speech_s for s in segments)
    assert total == pytest.approx(report.speech.net_speech_s, abs=0.031)
    meta = report.to_dict()["segments"]
    assert [m["role"] for m in meta] == [s.role for s in segments]
    assert {"start_s", "end_s", "net_speech_s"} <= set(meta[0])


def test_segmenting_is_off_by_default_and_for_clips_that_fit(tmp_path: Path) -> None:
    src = encode(tmp_path / "in.wav", speech_like(12.0, RATE), FORMATS["wav_pcm"])
    assert normalize(src, tmp_path / "a.wav", AudioSettings()).segments is None
    fits = normalize(src, tmp_path / "b.wav", AudioSettings(max_segment_s=20.0))
    assert fits.segments is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav", "b.wav", "in.wav"]


def test_trimmed_clips_give_offsets_in_the_decoded_clip(tmp_path: Path) -> None:
    signal = np.concatenate([np.zeros(3 * RATE), speech_like(40.0, RATE)])
    src = encode(tmp_path / "in.wav", signal, FORMATS["wav_pcm"])
    settings = AudioSettings(max_segment_s=15.0, trim_silence=True)
    report = normalize(src, tmp_path / "out.wav", settings)
    assert report.segments is not None
    assert report.output.trimmed_start_s > 2.0
    assert report.segments[0].start_s == pytest.approx(report.output.trimmed_start_s, abs=0.001)


def _keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_delivery_metadata_is_the_report_without_its_temporary_paths(tmp_path: Path) -> None:
    """``to_metadata`` (attachments and recordings both use it) drops the worker's file
    paths, the source's, the output's and each segment's, and nothing else."""
    src = encode(tmp_path / "in.wav", speech_like(45.0, RATE), FORMATS["wav_pcm"])
    report = normalize(src, tmp_path / "out.wav", AudioSettings(max_segment_s=20.0))
    full, meta = report.to_dict(), report.to_metadata()
    assert report.segments is not None
    assert len(meta["segments"]) == len(report.segments) >= 2
    assert "path" in _keys(full)
    assert "path" not in _keys(meta)
    assert meta["source"] == {k: v for k, v in full["source"].items() if k != "path"}
    assert meta["output"] == {k: v for k, v in full["output"].items() if k != "path"}
    assert meta["segments"] == [
        {k: v for k, v in s.items() if k != "path"} for s in full["segments"]
    ]
    rest = {k: v for k, v in full.items() if k not in ("source", "output", "segments")}
    assert {k: v for k, v in meta.items() if k not in ("source", "output", "segments")} == rest
