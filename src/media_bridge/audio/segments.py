"""Where to cut a long clip for engines with a per-request limit (``audio.max_segment_s``).

Cuts fall in pauses: the voice-activity frames the speech analysis already decided. Each
segment is at most ``max_s`` long; a cut goes in the middle of the longest pause of the
second half of the window (``max_s / 2`` to ``max_s`` after the segment's start), else of
the longest pause anywhere in the window, else (speech throughout) at ``max_s``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class SegmentPlan:
    """One piece of the clip, in seconds of the clip as decoded (before any trim)."""

    start_s: float
    end_s: float
    net_speech_s: float


def _best_pause(
    flags: npt.NDArray[np.bool_], frame_s: float, lo_s: float, hi_s: float
) -> float | None:
    """The middle of the longest run of non-speech frames inside [lo_s, hi_s] (the latest
    of equals), or None when every frame there is speech."""
    first = math.ceil(lo_s / frame_s - 1e-9)
    last = math.floor(hi_s / frame_s + 1e-9)  # exclusive
    best: tuple[int, int] | None = None  # (length, start)
    run_start: int | None = None
    for i in range(first, last + 1):
        pause = i < last and (i >= len(flags) or not bool(flags[i]))
        if pause and run_start is None:
            run_start = i
        elif not pause and run_start is not None:
            length = i - run_start
            if best is None or length >= best[0]:
                best = (length, run_start)
            run_start = None
    if best is None:
        return None
    length, start = best
    return (start + length / 2) * frame_s


def plan_segments(
    flags: npt.NDArray[np.bool_], frame_s: float, start_s: float, end_s: float, max_s: float
) -> list[SegmentPlan]:
    """Consecutive segments covering [start_s, end_s], each at most ``max_s`` long; one
    segment when the span already fits. ``flags[i]``: frame i (``i * frame_s`` on) is speech."""
    cuts = [start_s]
    position = start_s
    while end_s - position > max_s + 1e-9:
        hi = position + max_s
        cut = _best_pause(flags, frame_s, position + max_s / 2, hi)
        if cut is None:
            cut = _best_pause(flags, frame_s, position + frame_s, hi)
        if cut is None or cut <= position:
            cut = hi
        cuts.append(cut)
        position = cut
    cuts.append(end_s)
    frame_starts = np.arange(len(flags), dtype=np.float64) * frame_s
    plans: list[SegmentPlan] = []
    for seg_start, seg_end in itertools.pairwise(cuts):
        inside = (frame_starts >= seg_start - 1e-9) & (frame_starts < seg_end - 1e-9)
        speech = int(np.count_nonzero(flags & inside)) * frame_s
        plans.append(SegmentPlan(round(seg_start, 4), round(seg_end, 4), round(speech, 3)))
    return plans
