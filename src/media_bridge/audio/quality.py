"""The quality verdict of one clip: ``ok``, ``short``, ``noisy`` or ``clipped``.

Pure data in, pure data out (no audio): the figures come from the speech and level
measures, the thresholds from ``AudioSettings``. Several verdicts may apply at once;
``quality`` is the first one in ``PRECEDENCE`` and ``quality_reasons`` lists them all,
in the same order:

1. ``short``: not enough net speech, whatever its sound (nothing to enrol or verify);
2. ``clipped``: distortion in the speech itself, which no engine can undo;
3. ``noisy``: the softest, an engine may still cope with it.
"""

from __future__ import annotations

from media_bridge.audio.report import AudioQuality, LevelMetrics, QualityFigures, SpeechMetrics
from media_bridge.audio.settings import AudioSettings

PRECEDENCE = (AudioQuality.SHORT, AudioQuality.CLIPPED, AudioQuality.NOISY)


def quality_figures(
    speech: SpeechMetrics, level: LevelMetrics, settings: AudioSettings
) -> QualityFigures:
    return QualityFigures(
        net_speech_s=speech.net_speech_s,
        min_net_speech_s=settings.min_net_speech_s,
        snr_db=speech.snr_db,
        min_snr_db=settings.min_snr_db,
        clipping_ratio=level.clipping_ratio,
        max_clipping_ratio=settings.max_clipping_ratio,
        clip_level_dbfs=settings.clip_level_dbfs,
    )


def verdict(figures: QualityFigures) -> tuple[AudioQuality, tuple[str, ...]]:
    """(quality, every reason that applies, in ``PRECEDENCE`` order)."""
    found: list[tuple[AudioQuality, str]] = []
    if figures.net_speech_s < figures.min_net_speech_s:
        found.append(
            (
                AudioQuality.SHORT,
                f"short: {figures.net_speech_s:g} s of net speech, "
                f"under min_net_speech_s {figures.min_net_speech_s:g} s",
            )
        )
    if figures.clipping_ratio > figures.max_clipping_ratio:
        found.append(
            (
                AudioQuality.CLIPPED,
                f"clipped: {figures.clipping_ratio:.4%} of samples at or above "
                f"{figures.clip_level_dbfs:g} dBFS, over max_clipping_ratio "
                f"{figures.max_clipping_ratio:.4%}",
            )
        )
    if figures.snr_db is not None and figures.snr_db < figures.min_snr_db:
        found.append(
            (
                AudioQuality.NOISY,
                f"noisy: speech {figures.snr_db:g} dB above the non-speech frames, "
                f"under min_snr_db {figures.min_snr_db:g} dB",
            )
        )
    if not found:
        return AudioQuality.OK, ()
    found.sort(key=lambda item: PRECEDENCE.index(item[0]))
    return found[0][0], tuple(reason for _, reason in found)
