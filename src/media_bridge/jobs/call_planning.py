"""A call's jobs as its ``recording:{conv}`` job finds them (``handlers.recording``).

- one ``recording:{conv}:{recording}`` job per audio recording, carrying the ``call`` the
  parent mapped; a recording a batch download serves is marked ``via: batch`` with the
  listing's fields (none when the batch found it without a listing) and, when its
  conversation's batch left it out, the ``batch_fallback`` reason;
- the communication's ``transcript:{conv}:{comm}`` job, with the speakers mapped;
- the attachment jobs of a messaging recording's transcript, with the event path's keys
  (``event.found_by`` = ``messaging_recording``): the ledger keeps the first of each.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from media_bridge.jobs.keys import recording_file_key, transcript_key
from media_bridge.jobs.media_types import is_wanted
from media_bridge.jobs.payloads import EventMeta, RecordingPayload, TranscriptPayload
from media_bridge.jobs.planning import attachment_payload
from media_bridge.types import JobKind, NewJob
from media_bridge.voice.messaging import attachments_from_recording
from media_bridge.voice.recordings import recording_summary
from media_bridge.voice.settings import VoiceSettings


def recording_file_job(
    conv: str,
    recording_id: str,
    call: dict[str, Any],
    event: EventMeta,
    *,
    batch_listing: dict[str, Any] | None = None,
    batch_fallback: str | None = None,
) -> NewJob:
    """``batch_listing``: the recording is served by a batch download; these are the
    listing's fields, for the metadata the batch result lacks."""
    payload = RecordingPayload(
        conv,
        event,
        recording_id=recording_id,
        call=call,
        via=None if batch_listing is None else "batch",
        listed=batch_listing,
        batch_fallback=batch_fallback,
    )
    key = recording_file_key(conv, recording_id)
    return NewJob(key, JobKind.RECORDING, payload.to_dict())


def recording_file_jobs(
    parent: RecordingPayload,
    audio: list[dict[str, Any]],
    call: dict[str, Any],
    voice: VoiceSettings,
    unserved: Callable[[str], str | None],
) -> list[NewJob]:
    """One job per listed audio recording. They go through a batch download when
    ``voice.recording_batch`` is on and the call is backfilled or has at least
    ``voice.recording_batch_min`` recordings; ``unserved(recording_id)`` is the reason a
    recording the conversation's batch already left out is read on its own (None: the
    batch may still serve it)."""
    via_batch = voice.recording_batch and (
        parent.is_backfill or len(audio) >= voice.recording_batch_min
    )
    jobs: list[NewJob] = []
    for recording in audio:
        rid = str(recording["id"])
        listing = recording_summary(recording) if via_batch else None
        fallback = unserved(rid) if via_batch else None
        jobs.append(
            recording_file_job(
                parent.conversation_id,
                rid,
                call,
                parent.event,
                batch_listing=listing,
                batch_fallback=fallback,
            )
        )
    return jobs


def transcript_job(conv: str, communication: str, call: dict[str, Any], event: EventMeta) -> NewJob:
    """The communication's transcript, with the speakers of the ``call`` mapped."""
    payload = TranscriptPayload(conv, communication, event, speakers=call.get("speakers") or {})
    return NewJob(transcript_key(conv, communication), JobKind.TRANSCRIPT, payload.to_dict())


def messaging_attachment_jobs(
    conv: str,
    recordings: list[dict[str, Any]],
    event: EventMeta,
    wanted: frozenset[str] | None,
) -> list[NewJob]:
    """The wanted attachments of messaging recordings' transcripts, each key once."""
    meta = event.found("messaging_recording")
    jobs: dict[str, NewJob] = {}
    for recording in recordings:
        for ref in attachments_from_recording(conv, recording):
            if is_wanted(ref.media_type, wanted):
                payload = attachment_payload(ref, meta).to_dict()
                jobs.setdefault(ref.key, NewJob(ref.key, JobKind.ATTACHMENT, payload))
    return list(jobs.values())
