"""How long a job waits before asking again for what is not ready yet: every rule here.

- ``not_ready_delay_s``: a recording still transcoding, a transcript not found yet: a
  quarter of the job's age, at least ``voice.poll_initial_s`` and at most
  ``voice.poll_max_s``, so a fresh job asks again soon and an old one does not keep
  hammering the API.
- ``waiting_on_ledger_s``: a job waiting for another job of the ledger (a transcript for
  the recording path's speaker mapping): no API request is made while it waits, so the
  short ``voice.poll_initial_s``.
- ``waiting_for_batch_s``: a recording waiting for its batch download: a batch collects
  recordings for ``voice.recording_batch_linger_s`` before it is submitted, so asking
  sooner finds nothing; clamped to the poll bounds.
- ``next_batch_poll_s``: the batch job's own status, polled in process by the
  coordinator: doubling from ``voice.poll_initial_s`` up to ``voice.poll_max_s`` (one
  request per poll for a whole batch, which takes minutes).

A watched messaging conversation's next read is not a not-ready poll but the watch's own
backoff (``worker.conversation_poll_*``, in the conversation handler).
"""

from __future__ import annotations

from media_bridge.voice.settings import VoiceSettings


def not_ready_delay_s(voice: VoiceSettings, age_s: float) -> float:
    """Seconds until the next poll of a job planned ``age_s`` ago."""
    return min(voice.poll_max_s, max(voice.poll_initial_s, 0.25 * age_s))


def waiting_on_ledger_s(voice: VoiceSettings) -> float:
    return voice.poll_initial_s


def waiting_for_batch_s(voice: VoiceSettings) -> float:
    return min(voice.poll_max_s, max(voice.poll_initial_s, voice.recording_batch_linger_s))


def next_batch_poll_s(previous_s: float, poll_max_s: float) -> float:
    return min(poll_max_s, previous_s * 2)
