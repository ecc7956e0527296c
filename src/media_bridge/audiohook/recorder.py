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
    segments: list[dict[str, float]] = field(default_factory=list)
    input_samples: int = 0
    speech: float = 0.0


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
        cur = self._open
        if (
            cur.segments
            and abs(cur.segments[-1]["start"] + cur.segments[-1]["duration"] - timeline_start)
            < 1e-6
        ):
            cur.segments[-1]["duration"] += duration
        else:
            cur.segments.append({"start": timeline_start, "duration": duration})
        if self.first_start is None:
            self.first_start = timeline_start
        self.last_end = timeline_start + duration
        cur.parts.append(self.resampler.process(pcm))
        cur.input_samples += len(pcm)
        cur.speech += self.speech.add(pcm)
        self.total_input_samples += len(pcm)
        measure = cur.speech if self.chunk_mode == "speech" else cur.input_samples / INPUT_RATE
        if measure >= self.chunk_seconds or cur.input_samples >= self.max_chunk_input:
            return self._cut()
        return None

    def flush(self) -> FinishedChunk | None:
        """The unfinished chunk (at the end of the call), if it holds any audio."""
        return self._cut() if self._open.input_samples else None

    def _cut(self) -> FinishedChunk:
        cur = self._open
        self._open = _Open()
        self.chunks_cut += 1
        samples = np.concatenate(cur.parts) if cur.parts else np.zeros(0, dtype=np.int16)
        for seg in cur.segments:
            seg["start"] = round(seg["start"], 6)
            seg["duration"] = round(seg["duration"], 6)
        return FinishedChunk(
            channel=self.channel,
            index=self.chunks_cut,
            samples=samples,
            segments=cur.segments,
            speech_seconds=round(cur.speech, 3),
            audio_seconds=cur.input_samples / INPUT_RATE,
        )

    def summary(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "start": round(self.first_start or 0.0, 6),
            "end": round(self.last_end, 6),
            "audioSeconds": round(self.audio_seconds, 6),
            "speechSeconds": round(self.speech_seconds, 3),
            "chunks": self.chunks_cut,
        }
