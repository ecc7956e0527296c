"""Chunks of one channel: their samples and their timeline agree at the target rate."""

from __future__ import annotations

import itertools

import numpy as np

from media_bridge.audiohook.audio_source import voice
from media_bridge.audiohook.recorder import INPUT_RATE, ChannelRecorder, FinishedChunk
from tests.unit.audiohook.alignment import lag_in_samples, tones


def record(target_rate: int, pause_at: int, pause_s: float) -> list[FinishedChunk]:
    """2 s of voice in 20 ms frames, with a pause of ``pause_s`` after frame ``pause_at``,
    cut into 0.5 s chunks."""
    rec = ChannelRecorder("external", target_rate, "audio", 0.5, 30.0, 2)
    sig = voice(2.0, 140.0, 420.0, seed=5)
    frame = INPUT_RATE // 50
    chunks: list[FinishedChunk] = []
    position = 0.0
    for n, i in enumerate(range(0, len(sig), frame)):
        if n == pause_at:
            position += pause_s
        chunk = rec.add(sig[i : i + frame], position)
        position += frame / INPUT_RATE
        if chunk is not None:
            chunks.append(chunk)
    tail = rec.flush()
    return [*chunks, tail] if tail is not None else chunks


def test_chunks_hold_every_sample_and_the_timeline_they_play() -> None:
    """The resampler's lookahead moves a few samples from each chunk into the next: the
    segments say so, so a chunk's ``start``/``end`` match its samples, and the call's
    last samples come with the final chunk."""
    chunks = record(16000, pause_at=30, pause_s=1.25)
    assert sum(len(c.samples) for c in chunks) == 2 * 16000
    for chunk in chunks:
        played = sum(s["duration"] for s in chunk.segments)
        assert abs(played - len(chunk.samples) / 16000) < 1e-6
        assert chunk.audio_seconds == len(chunk.samples) / 16000
    for before, after in itertools.pairwise(chunks):
        assert abs(before.end - after.start) < 1e-6  # the pause is inside a chunk
    assert chunks[0].start == 0.0
    assert abs(chunks[-1].end - (2.0 + 1.25)) < 1e-6
    paused = [c for c in chunks if len(c.segments) == 2]
    assert len(paused) == 1  # the chunk across the pause plays two pieces
    assert abs(paused[0].segments[1]["start"] - (0.6 + 1.25)) < 1e-6


def test_at_the_input_rate_nothing_moves() -> None:
    chunks = record(8000, pause_at=10, pause_s=0.5)
    assert [len(c.samples) for c in chunks] == [4000, 4000, 4000, 4000]
    assert [c.start for c in chunks] == [0.0, 0.5 + 0.5, 1.5, 2.0]


def test_the_whole_channel_is_sample_aligned_with_its_input() -> None:
    """The chunks of a call, joined as the full-call file joins them, line up with the
    8 kHz input to a fraction of a 16 kHz sample (they were 15.5 samples late)."""
    rec = ChannelRecorder("external", 16000, "audio", 0.3, 30.0, 2)
    sig = np.rint(tones(8000, 1.0)).astype(np.int16)
    chunks = []
    for i in range(0, len(sig), 160):
        chunk = rec.add(sig[i : i + 160], i / 8000)
        if chunk is not None:
            chunks.append(chunk)
    tail = rec.flush()
    assert tail is not None
    out = np.concatenate([c.samples for c in [*chunks, tail]]).astype(np.float64)
    ideal = tones(16000, 1.0)
    assert len(out) == len(ideal)
    assert abs(lag_in_samples(out[1600:-1600], ideal[1600:-1600])) < 0.05
