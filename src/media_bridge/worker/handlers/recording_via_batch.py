"""The recording handler's batch path (``voice.recording_batch``): a backfilled call's
recordings from one ``{conversationId}`` batch entry, a recording's URL from its batch
result, and the fallbacks (counted by reason) to the per-recording read.

Kept apart from ``handlers.recording`` so each path reads on its own; both share
``conversation_info``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from media_bridge import metrics
from media_bridge.consent.checker import customer_attribute
from media_bridge.errors import BatchNotAudio, NotFound, PermissionMissing, UrlExpired
from media_bridge.identity import SpeakerFacts
from media_bridge.identity.facts import merge
from media_bridge.jobs import JobOutcome
from media_bridge.jobs.call_planning import recording_file_job, transcript_job
from media_bridge.jobs.keys import transcript_key
from media_bridge.jobs.payloads import RecordingPayload
from media_bridge.observability import get_logger
from media_bridge.types import Job
from media_bridge.voice.analytics_call import facts_suffice
from media_bridge.voice.participants import call_info, call_speakers
from media_bridge.voice.polling import waiting_for_batch_s
from media_bridge.worker.context import HandlerContext
from media_bridge.worker.handlers.recording_batch import (
    PENDING,
    BatchResult,
    ConversationResult,
    planned_fallback,
)
from media_bridge.worker.handlers.recording_delivery import deliver_recording

log = get_logger(__name__)


async def conversation_info(ctx: HandlerContext, conversation_id: str) -> dict[str, Any]:
    """The conversation read; empty when it is gone or the client may not read it."""
    try:
        return await ctx.genesys.get_conversation(conversation_id)
    except (NotFound, PermissionMissing):
        return {}


def batch_instead_of_listing(payload: RecordingPayload, ctx: HandlerContext) -> bool:
    """A backfilled call's recordings come from one ``{conversationId}`` batch entry."""
    return (
        ctx.recording_batches is not None
        and ctx.settings.voice.recording_batch
        and payload.is_backfill
        and (payload.media_type or "").upper() == "VOICE"
    )


def batch_holds(ctx: HandlerContext, conv: str, rid: str) -> bool:
    return ctx.recording_batches is not None and ctx.recording_batches.holds(conv, rid)


def unserved_reason(listed_because: ConversationResult) -> str:
    """Why a listed recording without a batch result is read on its own: the batch never
    ran for it (below_min, failed, timeout), or ran and left it out (missing)."""
    reason = listed_because.fallback
    return reason if reason in ("below_min", "failed", "timeout") else "missing"


def conversation_batch(job: Job, ctx: HandlerContext, conv: str) -> ConversationResult | JobOutcome:
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
    delay = waiting_for_batch_s(ctx.settings.voice)
    return JobOutcome(
        result={"waiting": "recording batch", "age_s": round(age, 1)},
        run_again_at=datetime.now(UTC) + timedelta(seconds=delay),
    )


def list_conversation(ctx: HandlerContext, found: ConversationResult) -> None:
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


async def plan_from_batch(
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
    conversation = await conversation_info(ctx, conv)
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


def batch_result(
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


async def deliver_batch_result(
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
        return fall_back(ctx, job, "stale", exc.code)
    except BatchNotAudio as exc:
        return fall_back(ctx, job, "format", str(exc))
    assert ctx.recording_batches is not None
    ctx.recording_batches.count("served")
    if result.get("sink") is not None:
        metrics.DELIVERED.labels(kind="recording", media_type="Audio").inc()
    return JobOutcome(result={**result, "via": "batch", "consent": consent})


def fall_back(ctx: HandlerContext, job: Job, reason: str, detail: str | None) -> str:
    """Count and log a recording the batch did not serve; it is read on its own now."""
    if ctx.recording_batches is not None:
        ctx.recording_batches.count(f"fallback_{reason}")
    else:
        metrics.RECORDING_BATCH.labels(outcome=f"fallback_{reason}").inc()
    log.info("recording_batch.fallback", reason=reason, detail=detail, outcome="per_recording")
    return reason
