"""How long a job waits before asking Genesys again for what is not ready yet.

One rule for a recording still transcoding and a transcript not found yet: a quarter of
the job's age, at least ``voice.poll_initial_s`` and at most ``voice.poll_max_s``, so a
fresh job asks again soon and an old one does not keep hammering the API.
"""

from __future__ import annotations

from media_bridge.voice.settings import VoiceSettings


def not_ready_delay_s(voice: VoiceSettings, age_s: float) -> float:
    """Seconds until the next poll of a job planned ``age_s`` ago."""
    return min(voice.poll_max_s, max(voice.poll_initial_s, 0.25 * age_s))
