"""Which stereo channel is the customer: a setting, or decided from the audio (``auto``).

No Genesys source says which side of a stereo call recording carries the customer.
``auto`` measures each channel's level over short frames and compares it during the
transcript's customer phrases with its level during the agent's phrases: the customer
channel is loud when the customer speaks and quiet when the agent does. The margin
between the two channels' contrasts (in dB) gives the confidence. The levels are
read from the files by ``audio.levels.frame_levels_db`` (this module does no I/O).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from media_bridge.voice.transcripts import Span

Side = Literal["left", "right"]
FloatArray = npt.NDArray[np.float64]

#: contrast margin (dB) that counts as full confidence
FULL_CONFIDENCE_DB = 20.0


@dataclass(frozen=True, slots=True)
class ChannelDecision:
    """What the delivery metadata says about the channel choice."""

    customer: Side
    #: ``setting``, ``transcript`` (auto, decided), ``fallback`` (auto, undecided),
    #: ``per_channel_files`` (mediaUris 0/1)
    method: str
    #: 0..1 (1 for a setting: the operator said so)
    confidence: float
    setting: str
    #: per channel: level during customer phrases minus level during agent phrases (dB)
    contrast_db: dict[str, float] | None = None
    reason: str | None = None

    @property
    def agent(self) -> Side:
        return "right" if self.customer == "left" else "left"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _mean_level(levels: FloatArray, spans: Sequence[Span], frame_s: float) -> float | None:
    picked: list[FloatArray] = []
    for span in spans:
        start, end = int(span.start_s / frame_s), math.ceil(span.end_s / frame_s)
        if end > start and start < len(levels):
            picked.append(levels[max(0, start) : end])
    if not picked:
        return None
    return float(np.mean(np.concatenate(picked)))


def decide_from_levels(
    left: FloatArray,
    right: FloatArray,
    spans: Sequence[Span],
    *,
    frame_s: float = 0.1,
    fallback: Side = "left",
    min_confidence: float = 0.2,
) -> ChannelDecision:
    """``auto``: the side whose level follows the customer's phrases (see module doc)."""
    customer = [s for s in spans if s.speaker == "customer"]
    agent = [s for s in spans if s.speaker == "agent"]
    contrasts: dict[str, float] = {}
    for side, levels in (("left", left), ("right", right)):
        during_customer = _mean_level(levels, customer, frame_s)
        during_agent = _mean_level(levels, agent, frame_s)
        if during_customer is None or during_agent is None:
            return ChannelDecision(
                fallback,
                "fallback",
                0.0,
                "auto",
                reason="the transcript has no customer and agent phrases inside the audio",
            )
        contrasts[side] = round(during_customer - during_agent, 2)
    margin = contrasts["left"] - contrasts["right"]
    confidence = round(min(1.0, abs(margin) / FULL_CONFIDENCE_DB), 3)
    if confidence < min_confidence:
        return ChannelDecision(
            fallback,
            "fallback",
            confidence,
            "auto",
            contrasts,
            reason=f"channels too alike ({margin:+.1f} dB)",
        )
    chosen: Side = "left" if margin > 0 else "right"
    return ChannelDecision(chosen, "transcript", confidence, "auto", contrasts)


def fixed_decision(setting: Side, method: str = "setting") -> ChannelDecision:
    return ChannelDecision(setting, method, 1.0, setting)
