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
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from media_bridge import metrics
from media_bridge.consent import not_checked, settle
from media_bridge.consent.checker import customer_attribute
from media_bridge.context import HandlerContext
from media_bridge.errors import BatchNotAudio, NotFound, PermissionMissing, UrlExpired
from media_bridge.identity import SpeakerFacts
from media_bridge.identity.facts import merge
from media_bridge.jobs import JobOutcome
from media_bridge.jobs.call_planning import (
    messaging_attachment_jobs,
    recording_file_job,
    transcript_job,
)
from media_bridge.jobs.keys import transcript_key
from media_bridge.jobs.payloads import RecordingPayload
from media_bridge.observability import get_logger
from media_bridge.types import Job, NewJob
from media_bridge.voice.analytics_call import facts_suffice
from media_bridge.voice.errors import (
    RecordingArchived,
    RecordingDeleted,
    RecordingFailed,
    RecordingNotReady,
)
from media_bridge.voice.participants import call_info, call_speakers
from media_bridge.voice.polling import not_ready_delay_s
from media_bridge.voice.recording_batch import (
    PENDING,
    BatchResult,
    ConversationResult,
    planned_fallback,
)
from media_bridge.voice.recording_delivery import deliver_recording
from media_bridge.voice.recordings import (
    Readiness,
    archived_message,
    is_audio,
    is_messaging,
    readiness,
    recording_summary,
)

log = get_logger(__name__)


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


async def _conversation_info(ctx: HandlerContext, conversation_id: str) -> dict[str, Any]:
    try:
        return await ctx.genesys.get_conversation(conversation_id)
    except (NotFound, PermissionMissing):
        return {}


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
    if _batch_instead_of_listing(payload, ctx):
        found = _conversation_batch(job, ctx, conv)
        if isinstance(found, JobOutcome):
            return found
        if found.fallback is None:
            return await _plan_from_batch(ctx, payload, found)
        listed_because = found
        _list_conversation(ctx, found)
    answer = await ctx.genesys.get_recordings(conv, voice.format_id, voice.max_wait_ms)
    if not answer.ready:
        return run_again(
            job, ctx, "recordings still transcoding (HTTP 202)", voice.transcode_max_wait_s
        )
    recordings = answer.recordings
    audio = [r for r in recordings if is_audio(r) and r.get("id")]
    messaging = [r for r in recordings if is_messaging(r)]
    skipped = [
        {"id": r.get("id"), "media": r.get("media")}
        for r in recordings
        if r not in audio and r not in messaging
    ]
    event = payload.event
    new_jobs: list[NewJob] = []
    info: dict[str, Any] = {}
    if audio or not recordings:
        conversation = await _conversation_info(ctx, conv)
        if not recordings:
            if conversation and _recorded(conversation):
                return run_again(job, ctx, "no recording listed yet", voice.transcode_max_wait_s)
            return JobOutcome(result={"recordings": 0, "reason": "the conversation has none"})
        info = call_info(conversation)
        if not info.get("communication_id"):
            info["communication_id"] = audio[0].get("sessionId") or payload.session_id
        # who is on the call: from the read just made, and the detail event's ANI
        info["speakers"] = call_speakers(conversation, payload.speaker_facts)
        attribute = ctx.consent.planning_attribute
        if attribute is not None:  # the read was made anyway: the child needs no other
            info["consent_hint"] = customer_attribute(conversation, attribute)
    via_batch = voice.recording_batch and (
        payload.is_backfill or len(audio) >= voice.recording_batch_min
    )
    for recording in audio:
        rid = str(recording["id"])
        fallback = None
        if via_batch and listed_because is not None and not _batch_holds(ctx, conv, rid):
            # the conversation's batch gave it no result: read it, not batched again
            fallback = _unserved_reason(listed_because)
        listing = recording_summary(recording) if via_batch else None
        new_jobs.append(
            recording_file_job(
                conv, rid, info, event, batch_listing=listing, batch_fallback=fallback
            )
        )
    communication = info.get("communication_id")
    if audio and voice.transcripts and communication:
        new_jobs.append(transcript_job(conv, communication, info, event))
    wanted = ctx.settings.wanted_media_types
    attachments = messaging_attachment_jobs(conv, messaging, event, wanted)
    new_jobs.extend(attachments)
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


def _batch_instead_of_listing(payload: RecordingPayload, ctx: HandlerContext) -> bool:
    """A backfilled call's recordings come from one ``{conversationId}`` batch entry."""
    return (
        ctx.recording_batches is not None
        and ctx.settings.voice.recording_batch
        and payload.is_backfill
        and (payload.media_type or "").upper() == "VOICE"
    )


def _batch_holds(ctx: HandlerContext, conv: str, rid: str) -> bool:
    return ctx.recording_batches is not None and ctx.recording_batches.holds(conv, rid)


def _unserved_reason(listed_because: ConversationResult) -> str:
    """Why a listed recording without a batch result is read on its own: the batch never
    ran for it (below_min, failed, timeout), or ran and left it out (missing)."""
    reason = listed_because.fallback
    return reason if reason in ("below_min", "failed", "timeout") else "missing"


def _conversation_batch(
    job: Job, ctx: HandlerContext, conv: str
) -> ConversationResult | JobOutcome:
    """The conversation entry's outcome, or the outcome "ask again" while its batch runs."""
    batches = ctx.recording_batches
    assert batches is not None
    found = batches.take_conversation(conv)
    if isinstance(found, ConversationResult):
        return found
    age = (datetime.now(UTC) - job.created_at).total_seconds()
    if age > ctx.settings.voice.recording_batch_max_wait_s:
        return ConversationResult(fallback="timeout", detail=f"waited {age:.0f}s for a batch")
    if found != PENDING:
        batches.ask_conversation(conv)
    return _waiting_for_batch(ctx, age)


def _waiting_for_batch(ctx: HandlerContext, age: float) -> JobOutcome:
    voice = ctx.settings.voice
    delay = min(voice.poll_max_s, max(voice.poll_initial_s, voice.recording_batch_linger_s))
    return JobOutcome(
        result={"waiting": "recording batch", "age_s": round(age, 1)},
        run_again_at=datetime.now(UTC) + timedelta(seconds=delay),
    )


def _list_conversation(ctx: HandlerContext, found: ConversationResult) -> None:
    """Count and log a conversation the batch did not answer in full: it is listed now."""
    assert ctx.recording_batches is not None
    ctx.recording_batches.count(f"conversations_listed_{found.fallback}")
    log.info(
        "recording_batch.conversation_listed",
        reason=found.fallback,
        detail=found.detail,
        served=len(found.recording_ids),
        outcome="listing",
    )


async def _plan_from_batch(
    ctx: HandlerContext, payload: RecordingPayload, found: ConversationResult
) -> JobOutcome:
    """One job per recording the conversation's batch results name (each takes its own
    result); no listing. Their metadata lacks the listing's fields (session id, times)."""
    assert ctx.recording_batches is not None
    ctx.recording_batches.count("conversations_resolved")
    conv, event = payload.conversation_id, payload.event
    info, source = await _call_for_batch(ctx, payload)
    new_jobs = [
        recording_file_job(conv, rid, info, event, batch_listing={}) for rid in found.recording_ids
    ]
    communication = info.get("communication_id")
    if ctx.settings.voice.transcripts and communication:
        new_jobs.append(transcript_job(conv, communication, info, event))
    return JobOutcome(
        result={
            "recordings": len(found.recording_ids),
            "found_by": "recording_batch",
            "batch_results": list(found.recording_ids),
            "call_from": source,
            "transcript": transcript_key(conv, communication) if communication else None,
        },
        new_jobs=new_jobs,
    )


async def _call_for_batch(
    ctx: HandlerContext, payload: RecordingPayload
) -> tuple[dict[str, Any], str]:
    """The call's participants: the backfill's analytics facts when they are all the
    recordings need, else the conversation read (filled from those facts where refused)."""
    voice = ctx.settings.voice
    batches = ctx.recording_batches
    assert batches is not None
    conv, facts = payload.conversation_id, payload.analytics_call
    why = (
        facts_suffice(
            consent_attribute=ctx.consent.planning_attribute,
            customer_channel=voice.customer_channel,
            transcripts=voice.transcripts,
        )
        if isinstance(facts, dict)
        else "the job has no analytics participants"
    )
    if why is None and isinstance(facts, dict):
        batches.count("calls_from_analytics")
        return dict(facts), "analytics"
    batches.count("calls_read")
    batches.note_once("recording_batch.conversation_read", reason=why)
    known = facts if isinstance(facts, dict) else {}
    conversation = await _conversation_info(ctx, conv)
    info = call_info(conversation)
    for field in ("customer_participant_id", "ani", "dnis"):
        info[field] = info.get(field) or known.get(field)
    analytics_customer = SpeakerFacts.from_payload((known.get("speakers") or {}).get("customer"))
    hint = merge(payload.speaker_facts, analytics_customer)
    info["speakers"] = call_speakers(conversation, hint)
    attribute = ctx.consent.planning_attribute
    if attribute is not None:
        info["consent_hint"] = customer_attribute(conversation, attribute)
    return info, "conversation"


async def _one_recording(
    job: Job, ctx: HandlerContext, payload: RecordingPayload, rid: str
) -> JobOutcome:
    voice = ctx.settings.voice
    conv, call = payload.conversation_id, payload.call
    batch: BatchResult | None = None
    if payload.via == "batch":
        waiting = _batch_result(job, ctx, payload, rid)
        if isinstance(waiting, JobOutcome):
            return waiting
        batch = waiting
    consent = not_checked()
    if ctx.consent.enabled:  # before the recording is read, let alone downloaded
        customer = (call.get("speakers") or {}).get("customer")
        consent = await ctx.consent.check(
            conversation_id=conv,
            kind="call",
            facts=SpeakerFacts.from_payload(customer),
            hint=call.get("consent_hint"),
            hint_source="conversation",
        )
    held_or_refused = settle(job, consent, ctx.settings.consent)  # counted whatever the mode
    if held_or_refused is not None:
        return held_or_refused
    fell_back: str | None = None
    if batch is not None and batch.url is not None:
        served = await _deliver_batch_result(job, ctx, payload, batch, consent.to_dict())
        if isinstance(served, JobOutcome):
            return served
        fell_back = served
    elif batch is not None:
        fell_back = _fall_back(ctx, job, batch.fallback or "missing", batch.detail)
    answer = await ctx.genesys.get_recording(conv, rid, voice.format_id)
    if not answer.ready or answer.recording is None:
        return run_again(
            job, ctx, "recording still transcoding (HTTP 202)", voice.transcode_max_wait_s
        )
    recording = answer.recording
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
    result = await deliver_recording(job, ctx, recording, consent.to_dict())
    if result.get("sink") is not None:  # None: dropped by audio.below_gate
        metrics.DELIVERED.labels(kind="recording", media_type="Audio").inc()
    if fell_back is not None:
        result["via"] = "per_recording"
        result["batch_fallback"] = fell_back
    return JobOutcome(result={**result, "consent": consent.to_dict()})


def _batch_result(
    job: Job, ctx: HandlerContext, payload: RecordingPayload, rid: str
) -> BatchResult | JobOutcome:
    """The recording's batch result, or the outcome "ask again" while its batch runs."""
    voice, conv = ctx.settings.voice, payload.conversation_id
    batches = ctx.recording_batches
    if batches is None:  # voice.recording_batch was turned off after the job was planned
        return BatchResult(None, fallback="failed", detail="voice.recording_batch is off")
    found = batches.take(conv, rid)
    if isinstance(found, BatchResult):
        return found
    planned_reason = payload.batch_fallback
    if found is None and planned_reason is not None:  # its conversation's batch said
        return planned_fallback(planned_reason)
    age = (datetime.now(UTC) - job.created_at).total_seconds()
    if age > voice.recording_batch_max_wait_s:
        return BatchResult(None, fallback="timeout", detail=f"waited {age:.0f}s for a batch")
    if found != PENDING:
        batches.ask(conv, rid)
    return _waiting_for_batch(ctx, age)


async def _deliver_batch_result(
    job: Job,
    ctx: HandlerContext,
    payload: RecordingPayload,
    batch: BatchResult,
    consent: dict[str, Any],
) -> JobOutcome | str:
    """Deliver from the batch's ``resultUrl``; a stale URL or bytes that are not audio
    give the fallback reason instead (the job then reads the recording on its own)."""
    recording = {
        **(payload.listed or {}),
        "id": payload.recording_id,
        "conversationId": payload.conversation_id,
        "mediaUris": {"S": {"mediaUri": batch.url}},
    }
    try:
        result = await deliver_recording(job, ctx, recording, consent, via="batch")
    except UrlExpired as exc:
        return _fall_back(ctx, job, "stale", exc.code)
    except BatchNotAudio as exc:
        return _fall_back(ctx, job, "format", str(exc))
    assert ctx.recording_batches is not None
    ctx.recording_batches.count("served")
    if result.get("sink") is not None:
        metrics.DELIVERED.labels(kind="recording", media_type="Audio").inc()
    return JobOutcome(result={**result, "via": "batch", "consent": consent})


def _fall_back(ctx: HandlerContext, job: Job, reason: str, detail: str | None) -> str:
    """Count and log a recording the batch did not serve; it is read on its own now."""
    if ctx.recording_batches is not None:
        ctx.recording_batches.count(f"fallback_{reason}")
    else:
        metrics.RECORDING_BATCH.labels(outcome=f"fallback_{reason}").inc()
    log.info("recording_batch.fallback", reason=reason, detail=detail, outcome="per_recording")
    return reason
