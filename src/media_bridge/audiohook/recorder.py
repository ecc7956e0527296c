"""One channel of one call: resample, count speech, cut chunks, keep the timeline.

The recorder holds at most one unfinished chunk in memory (bounded by
``max_chunk_audio_seconds``); finished chunks go to the session's delivery queue,
which writes them to disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from media_bridge.audiohook.codec import Int16Array, SpeechCounter, StreamingResampler

INPUT_RATE = 8000


@dataclass
class FinishedChunk:
    channel: str
    index: int
    samples: Int16Array  # at the target rate
    #: timeline pieces covered by the chunk (a pause or discard starts a new one)
    segments: list[dict[str, float]]
    speech_seconds: float
    audio_seconds: float

    @property
    def start(self) -> float:
        return self.segments[0]["start"] if self.segments else 0.0

    @property
    def end(self) -> float:
        if not self.segments:
            return 0.0
        last = self.segments[-1]
        return last["start"] + last["duration"]


@dataclass
class _Open:
    parts: list[Int16Array] = field(default_factory=list)
    input_samples: int = 0
    speech: float = 0.0


@dataclass
class _Piece:
    """Input samples ``[stream_start, stream_start + length)`` of the channel, which
    play from ``timeline_start`` seconds of the call (a pause or discard starts a new
    piece)."""

    stream_start: int
    timeline_start: float
    length: int


class ChannelRecorder:
    def __init__(
        self,
        channel: str,
        target_rate: int,
        chunk_mode: str,
        chunk_seconds: float,
        max_chunk_audio_seconds: float,
        vad_aggressiveness: int,
    ) -> None:
        self.channel = channel
        self.target_rate = target_rate
        self.chunk_mode = chunk_mode
        self.chunk_seconds = chunk_seconds
        self.max_chunk_input = int(max_chunk_audio_seconds * INPUT_RATE)
        self.resampler = StreamingResampler(INPUT_RATE, target_rate)
        self.speech = SpeechCounter(INPUT_RATE, vad_aggressiveness)
        self.total_input_samples = 0
        self.chunks_cut = 0
        self._open = _Open()
        self._pieces: list[_Piece] = []
        #: output samples handed out in finished chunks so far
        self._emitted = 0
        #: output samples produced so far (finished chunks and the open one)
        self._produced = 0
        #: the output sample the open chunk ends at, once it is full
        self._boundary: int | None = None
        self.first_start: float | None = None
        self.last_end = 0.0

    @property
    def speech_seconds(self) -> float:
        return self.speech.speech_seconds

    @property
    def audio_seconds(self) -> float:
        return self.total_input_samples / INPUT_RATE

    def add(self, pcm: Int16Array, timeline_start: float) -> FinishedChunk | None:
        """Feed 8 kHz mono samples that start at ``timeline_start`` seconds of the call."""
        if len(pcm) == 0:
            return None
        duration = len(pcm) / INPUT_RATE
        last = self._pieces[-1] if self._pieces else None
        if (
            last is not None
            and abs(last.timeline_start + last.length / INPUT_RATE - timeline_start) < 1e-6
        ):
            last.length += len(pcm)
        else:
            self._pieces.append(_Piece(self.total_input_samples, timeline_start, len(pcm)))
        if self.first_start is None:
            self.first_start = timeline_start
        self.last_end = timeline_start + duration
        self.total_input_samples += len(pcm)
        out = self.resampler.process(pcm)
        done = None
        if self._boundary is not None:
            # the full chunk still owed the samples its lookahead waited for
            owed = max(0, self._boundary - self._produced)
            self._take(out[:owed])
            out = out[owed:]
            if self._produced >= self._boundary:
                done = self._cut()
        cur = self._open
        self._take(out)
        cur.input_samples += len(pcm)
        cur.speech += self.speech.add(pcm)
        measure = cur.speech if self.chunk_mode == "speech" else cur.input_samples / INPUT_RATE
        full = measure >= self.chunk_seconds or cur.input_samples >= self.max_chunk_input
        if full and self._boundary is None:
            # cut where the input stands now, once the resampler has produced that far
            # (with the next frame: a chunk leaves one frame later than its last input)
            self._boundary = -(-self.total_input_samples * self.target_rate // INPUT_RATE)
            if done is None and self._produced >= self._boundary:
                done = self._cut()
        return done

    def flush(self) -> FinishedChunk | None:
        """The unfinished chunk (at the end of the call) with the resampler's last
        samples, if it holds any audio."""
        self._take(self.resampler.flush())
        return self._cut() if self._open.input_samples or self._open.parts else None

    def _take(self, samples: Int16Array) -> None:
        if len(samples):
            self._open.parts.append(samples)
            self._produced += len(samples)

    def _cut(self) -> FinishedChunk:
        cur = self._open
        self._open = _Open()
        self._boundary = None
        self.chunks_cut += 1
        samples = np.concatenate(cur.parts) if cur.parts else np.zeros(0, dtype=np.int16)
        first = self._emitted
        self._emitted += len(samples)
        return FinishedChunk(
            channel=self.channel,
            index=self.chunks_cut,
            samples=samples,
            segments=self._segments(first, self._emitted),
            speech_seconds=round(cur.speech, 3),
            audio_seconds=len(samples) / self.target_rate,
        )

    def _segments(self, first: int, end: int) -> list[dict[str, float]]:
        """The timeline that output samples ``[first, end)`` play: the resampler's
        output lags its input by its lookahead, so a chunk's samples cover a slightly
        different input span than the frames fed while it was open."""
        ratio = INPUT_RATE / self.target_rate
        lo_in, hi_in = first * ratio, end * ratio
        segments: list[dict[str, float]] = []
        for piece in self._pieces:
            lo = max(lo_in, piece.stream_start)
            hi = min(hi_in, piece.stream_start + piece.length)
            if hi > lo:
                start = piece.timeline_start + (lo - piece.stream_start) / INPUT_RATE
                segments.append(
                    {"start": round(start, 6), "duration": round((hi - lo) / INPUT_RATE, 6)}
                )
        # pieces wholly before this chunk's end are needed no more
        while self._pieces and self._pieces[0].stream_start + self._pieces[0].length <= hi_in:
            if len(self._pieces) == 1:
                break
            self._pieces.pop(0)
        return segments

    def summary(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "start": round(self.first_start or 0.0, 6),
            "end": round(self.last_end, 6),
            "audioSeconds": round(self.audio_seconds, 6),
            "speechSeconds": round(self.speech_seconds, 3),
            "chunks": self.chunks_cut,
        }
