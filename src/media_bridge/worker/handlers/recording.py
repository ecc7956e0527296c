"""Run a recording job: find a call's recordings, download them, split out the customer.

Two levels, two kinds of keys (both ``JobKind.RECORDING``):

- ``recording:{conversationId}`` (planned from customer.end / acw, or by backfill): list
  the conversation's recordings (``formatId``, ``maxWaitMs``); a 202 means "still
  transcoding" and the job runs again later, up to ``voice.transcode_max_wait_s``. It
  plans one ``recording:{conversationId}:{recordingId}`` job per audio recording (screen
  recordings are skipped), the call's ``transcript:{conversationId}:{communicationId}``
  job, and, for a messaging conversation, attachment jobs from ``messagingTranscript[]``.
- ``recording:{conversationId}:{recordingId}``: read that recording; its ``fileState``
  decides (see ``voice.recordings.Readiness``): download every ``mediaUris`` file (a
  stale signed URL is re-read from the API, bounded), split the stereo file, deliver the
  customer channel (and the agent channel, role ``agent``) under the job's own key.
  With ``voice.recording_batch``, a backfill's recordings and those of a conversation with
  at least ``voice.recording_batch_min`` recordings are marked ``via: batch``: their URL
  comes from a batch download job (``voice.recording_batch``); a recording the batch does
  not serve falls back to the read above, counted by reason (nothing decided silently).
  A backfilled call's ``recording:{conversationId}`` job then lists nothing: it asks the
  batch for every recording of the conversation (``{conversationId}`` alone) and plans a
  job per result; the call's participants come from the analytics answer when they are
  all its recordings need (``voice.analytics_call.facts_suffice``), else from the
  conversation read. A conversation the batch does not answer in full is listed as before.
  The batch path lives in ``handlers.recording_via_batch``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from media_bridge import metrics
from media_bridge.consent import Verdict, not_checked, settle
from media_bridge.consent.checker import customer_attribute
from media_bridge.identity import SpeakerFacts
from media_bridge.jobs import JobOutcome
from media_bridge.jobs.call_planning import (
    messaging_attachment_jobs,
    recording_file_jobs,
    transcript_job,
)
from media_bridge.jobs.keys import transcript_key
from media_bridge.jobs.payloads import RecordingPayload
from media_bridge.types import Job, NewJob
from media_bridge.voice.errors import (
    RecordingArchived,
    RecordingDeleted,
    RecordingFailed,
    RecordingNotReady,
)
from media_bridge.voice.participants import call_info, call_speakers
from media_bridge.voice.polling import not_ready_delay_s
from media_bridge.voice.recordings import (
    Readiness,
    archived_message,
    is_audio,
    is_messaging,
    readiness,
)
from media_bridge.worker.context import HandlerContext
from media_bridge.worker.handlers.recording_batch import BatchResult, ConversationResult
from media_bridge.worker.handlers.recording_delivery import deliver_recording
from media_bridge.worker.handlers.recording_via_batch import (
    batch_holds,
    batch_instead_of_listing,
    batch_result,
    conversation_batch,
    conversation_info,
    deliver_batch_result,
    fall_back,
    list_conversation,
    plan_from_batch,
    unserved_reason,
)


def run_again(job: Job, ctx: HandlerContext, reason: str, max_wait_s: float) -> JobOutcome:
    """Hand the job back for a later poll, or give up (dead) once it has waited too long.

    The wait is counted from when the job was planned; polls back off with its age.
    """
    voice = ctx.settings.voice
    age = (datetime.now(UTC) - job.created_at).total_seconds()
    if age > max_wait_s:
        raise RecordingNotReady(f"{job.key}: {reason} after {age:.0f}s (limit {max_wait_s:g}s)")
    delay = not_ready_delay_s(voice, age)
    return JobOutcome(
        result={"waiting": reason, "age_s": round(age, 1)},
        run_again_at=datetime.now(UTC) + timedelta(seconds=delay),
    )


async def handle_recording(job: Job, ctx: HandlerContext) -> JobOutcome:
    payload = RecordingPayload.from_dict(job.payload)
    if payload.recording_id is not None:
        return await _one_recording(job, ctx, payload, payload.recording_id)
    return await _conversation_recordings(job, ctx, payload)


def _recorded(conversation: dict[str, Any]) -> bool:
    """Whether the conversation says a call leg is (being) recorded."""
    if str(conversation.get("recordingState") or "NONE").upper() != "NONE":
        return True
    for participant in conversation.get("participants") or []:
        for call in (participant or {}).get("calls") or []:
            if isinstance(call, dict) and call.get("recording"):
                return True
    return False


async def _conversation_recordings(
    job: Job, ctx: HandlerContext, payload: RecordingPayload
) -> JobOutcome:
    voice = ctx.settings.voice
    conv = payload.conversation_id
    listed_because: ConversationResult | None = None
    if batch_instead_of_listing(payload, ctx):
        found = conversation_batch(job, ctx, conv)
        if isinstance(found, JobOutcome):
            return found
        if found.fallback is None:
            return await plan_from_batch(ctx, payload, found)
        listed_because = found
        list_conversation(ctx, found)
    answer = await ctx.genesys.get_recordings(conv, voice.format_id, voice.max_wait_ms)
    if not answer.ready:
        return run_again(
            job, ctx, "recordings still transcoding (HTTP 202)", voice.transcode_max_wait_s
        )
    recordings = answer.recordings
    if not recordings:
        return await _none_listed(job, ctx, conv)
    audio = [r for r in recordings if is_audio(r) and r.get("id")]
    messaging = [r for r in recordings if is_messaging(r)]
    info = await _call_details(ctx, payload, audio) if audio else {}
    new_jobs = _recording_jobs(ctx, payload, audio, info, listed_because)
    communication = info.get("communication_id")
    if audio and voice.transcripts and communication:
        new_jobs.append(transcript_job(conv, communication, info, payload.event))
    wanted = ctx.settings.wanted_media_types
    attachments = messaging_attachment_jobs(conv, messaging, payload.event, wanted)
    new_jobs.extend(attachments)
    skipped = [
        {"id": r.get("id"), "media": r.get("media")}
        for r in recordings
        if r not in audio and r not in messaging
    ]
    return JobOutcome(
        result={
            "recordings": len(recordings),
            "audio": [r["id"] for r in audio],
            "skipped": skipped,
            "attachments_planned": len(attachments),
            "transcript": transcript_key(conv, communication) if communication else None,
        },
        new_jobs=new_jobs,
    )


async def _none_listed(job: Job, ctx: HandlerContext, conv: str) -> JobOutcome:
    """No recording listed: wait when the conversation says one is being made."""
    conversation = await conversation_info(ctx, conv)
    if conversation and _recorded(conversation):
        return run_again(
            job, ctx, "no recording listed yet", ctx.settings.voice.transcode_max_wait_s
        )
    return JobOutcome(result={"recordings": 0, "reason": "the conversation has none"})


async def _call_details(
    ctx: HandlerContext, payload: RecordingPayload, audio: list[dict[str, Any]]
) -> dict[str, Any]:
    """Who is on the call (from a conversation read and the detail event's ANI), its
    communication id, and the consent attribute when one is configured."""
    conversation = await conversation_info(ctx, payload.conversation_id)
    info = call_info(conversation)
    if not info.get("communication_id"):
        info["communication_id"] = audio[0].get("sessionId") or payload.session_id
    info["speakers"] = call_speakers(conversation, payload.speaker_facts)
    attribute = ctx.consent.planning_attribute
    if attribute is not None:  # the read was made anyway: the child needs no other
        info["consent_hint"] = customer_attribute(conversation, attribute)
    return info


def _recording_jobs(
    ctx: HandlerContext,
    payload: RecordingPayload,
    audio: list[dict[str, Any]],
    info: dict[str, Any],
    listed_because: ConversationResult | None,
) -> list[NewJob]:
    """The recording-file jobs (``jobs.call_planning``); a recording the conversation's
    batch answered without it is read on its own, with the reason."""
    conv = payload.conversation_id

    def unserved(rid: str) -> str | None:
        if listed_because is None or batch_holds(ctx, conv, rid):
            return None
        return unserved_reason(listed_because)  # the batch gave it no result

    return recording_file_jobs(payload, audio, info, ctx.settings.voice, unserved)


async def _one_recording(
    job: Job, ctx: HandlerContext, payload: RecordingPayload, rid: str
) -> JobOutcome:
    voice = ctx.settings.voice
    batch: BatchResult | None = None
    if payload.via == "batch":
        waiting = batch_result(job, ctx, payload, rid)
        if isinstance(waiting, JobOutcome):
            return waiting
        batch = waiting
    consent = await _call_consent(ctx, payload)
    held_or_refused = settle(job, consent, ctx.settings.consent)  # counted whatever the mode
    if held_or_refused is not None:
        return held_or_refused
    fell_back: str | None = None
    if batch is not None and batch.url is not None:
        served = await deliver_batch_result(job, ctx, payload, batch, consent.to_dict())
        if isinstance(served, JobOutcome):
            return served
        fell_back = served
    elif batch is not None:
        fell_back = fall_back(ctx, job, batch.fallback or "missing", batch.detail)
    answer = await ctx.genesys.get_recording(payload.conversation_id, rid, voice.format_id)
    if not answer.ready or answer.recording is None:
        return run_again(
            job, ctx, "recording still transcoding (HTTP 202)", voice.transcode_max_wait_s
        )
    recording = answer.recording
    not_deliverable = _not_deliverable(job, ctx, recording, rid)
    if not_deliverable is not None:
        return not_deliverable
    result = await deliver_recording(job, ctx, recording, consent.to_dict())
    if result.get("sink") is not None:  # None: dropped by audio.below_gate
        metrics.DELIVERED.labels(kind="recording", media_type="Audio").inc()
    if fell_back is not None:
        result["via"] = "per_recording"
        result["batch_fallback"] = fell_back
    return JobOutcome(result={**result, "consent": consent.to_dict()})


async def _call_consent(ctx: HandlerContext, payload: RecordingPayload) -> Verdict:
    """The customer's consent, before the recording is read, let alone downloaded."""
    if not ctx.consent.enabled:
        return not_checked()
    call = payload.call
    customer = (call.get("speakers") or {}).get("customer")
    return await ctx.consent.check(
        conversation_id=payload.conversation_id,
        kind="call",
        facts=SpeakerFacts.from_payload(customer),
        hint=call.get("consent_hint"),
        hint_source="conversation",
    )


def _not_deliverable(
    job: Job, ctx: HandlerContext, recording: dict[str, Any], rid: str
) -> JobOutcome | None:
    """What its ``fileState`` says when it is not ready to download: skip (not audio),
    wait (restoring, no media yet) or raise (archived, deleted, failed); None: download."""
    voice = ctx.settings.voice
    if not is_audio(recording):
        return JobOutcome(result={"skipped": f"media {recording.get('media')!r} is not audio"})
    state = readiness(recording)
    if state is Readiness.ARCHIVED:
        raise RecordingArchived(archived_message(recording))
    if state is Readiness.DELETED:
        raise RecordingDeleted(
            f"recording {rid} was deleted (deleteDate {recording.get('deleteDate')})"
        )
    if state is Readiness.ERROR:
        raise RecordingFailed(
            f"recording {rid} is in fileState ERROR "
            f"(recordingErrorStatus {recording.get('recordingErrorStatus')})"
        )
    if state is Readiness.RESTORING:
        return run_again(job, ctx, "recording is being restored", voice.restore_max_wait_s)
    if state is Readiness.NOT_READY:
        return run_again(
            job,
            ctx,
            f"fileState {recording.get('fileState')} without media yet",
            voice.transcode_max_wait_s,
        )
    return None
