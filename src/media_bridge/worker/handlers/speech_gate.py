"""What ``audio.below_gate`` does with a clip whose quality verdict is not ``ok``.

``deliver`` (the default) sends it to the configured sink with its verdict in
``metadata.audio``; ``hold_local`` writes it to the dir sink instead of a remote one;
``drop`` delivers nothing. Each diversion is logged at INFO with the job key and the
conversation id, and every settled clip is counted in ``media_bridge_clip_verdicts_total``.
A clip held while the configured sink already is the dir sink is simply delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from media_bridge import metrics
from media_bridge.audio.report import AudioQuality, AudioReport
from media_bridge.observability import get_logger
from media_bridge.sinks.base import MediaSink
from media_bridge.types import Job
from media_bridge.worker.context import HandlerContext

log = get_logger(__name__)

Action = Literal["delivered", "hold_local", "drop"]


@dataclass(frozen=True, slots=True)
class GateDecision:
    action: Action
    #: where the delivery goes; None when the clip is dropped
    sink: MediaSink | None
    kind: str
    report: AudioReport | None

    @property
    def diverted(self) -> bool:
        return self.action != "delivered"

    def verdict(self) -> dict[str, Any]:
        """The verdict for a job's result (empty without an audio report)."""
        if self.report is None:
            return {}
        return {
            "quality": self.report.quality.value,
            "quality_reasons": list(self.report.quality_reasons),
            "audio_s": round(self.report.source.duration_s, 3),
        }

    def settle(self, job: Job, conversation_id: str) -> dict[str, Any]:
        """Count (and log a diversion) once the delivery is done, or at once for ``drop``;
        returns the fields the job's result gains."""
        if self.report is None:
            return {}
        quality = self.report.quality.value
        metrics.CLIP_VERDICTS.labels(kind=self.kind, quality=quality, action=self.action).inc()
        extra = self.verdict()
        if self.diverted:
            log.info(
                "clip diverted by audio.below_gate",
                action=self.action,
                key=job.key,
                conversation_id=conversation_id,
                kind=self.kind,
                quality=quality,
                quality_reasons=list(self.report.quality_reasons),
            )
            extra["diverted"] = self.action
        return extra


def decide(ctx: HandlerContext, kind: str, report: AudioReport | None) -> GateDecision:
    """Where the clip of ``report`` goes (``report`` None: no audio verdict, delivered)."""
    if report is None or report.quality is AudioQuality.OK:
        return GateDecision("delivered", ctx.media_sink, kind, report)
    below = ctx.settings.below_gate
    if below == "drop":
        return GateDecision("drop", None, kind, report)
    if below == "hold_local" and ctx.keep_sink is not None:
        return GateDecision("hold_local", ctx.keep_sink, kind, report)
    return GateDecision("delivered", ctx.media_sink, kind, report)
