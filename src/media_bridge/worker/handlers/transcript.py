"""Run a transcript job ``transcript:{conversationId}:{communicationId}``.

Ask Speech & Text Analytics for the transcript's pre-signed URL (needs both
``recording:recording:view`` and ``speechAndTextAnalytics:data:view``; the client
names the missing one), fetch the JSON there without the token, and deliver one record
per utterance to the NLP sink under ``transcript:{conv}:{comm}:{index}``. A stale URL
is asked for again (bounded); a transcript not there yet (404: analytics runs after the
call) is polled for up to ``voice.transcript_max_wait_s``. A job planned from a
transcription's ``SESSION_ENDED`` (``speakers`` None) takes the speakers the recording path
maps (its ``recording:{conv}`` jobs), waiting for them a while, else reads the conversation.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from media_bridge import metrics
from media_bridge.consent import not_checked
from media_bridge.errors import MalformedAnswer, NotFound, PermissionMissing
from media_bridge.fetch.refresh import with_fresh_url
from media_bridge.identity import SpeakerFacts
from media_bridge.jobs import JobOutcome
from media_bridge.jobs.keys import recording_file_key, recording_key, utterance_key
from media_bridge.jobs.payloads import TEXT_PROVENANCE, RecordingPayload, TranscriptPayload
from media_bridge.ledger.base import TOMBSTONE
from media_bridge.sinks.metadata import SCHEMA_VERSION
from media_bridge.types import Job, JobState
from media_bridge.voice.errors import TranscriptNotFound
from media_bridge.voice.participants import call_speakers
from media_bridge.voice.polling import not_ready_delay_s, waiting_on_ledger_s
from media_bridge.voice.transcripts import utterances
from media_bridge.worker.context import HandlerContext
from media_bridge.worker.handlers.text_redaction import redacted_record


async def _document(ctx: HandlerContext, conv: str, comm: str) -> object:
    """The transcript document (its signed URL asked again when it has gone stale)."""

    async def url() -> str:
        return await ctx.genesys.get_transcript_url(conv, comm)

    document, _ = await with_fresh_url(
        await url(),
        ctx.fetcher.fetch_json_unauthenticated,
        url,
        ctx.settings.fetch.max_url_refreshes,
    )
    return document


#: how long past ``voice.recording_delay_s`` a transcript job planned from SESSION_ENDED
#: waits for the call's recording job to map the speakers (then it reads the conversation)
RECORDING_PATH_WAIT_S = 600.0


async def _recording_path_speakers(ctx: HandlerContext, conv: str) -> dict[str, Any] | None:
    """The speakers the recording path mapped (``recording:{conv}``'s children carry them);
    None: not there (yet)."""
    parent = await ctx.ledger.get(recording_key(conv))
    if parent is None or parent.state is not JobState.DONE:
        return None
    for recording_id in (parent.result or {}).get("audio") or []:
        child = await ctx.ledger.get(recording_file_key(conv, recording_id))
        if child is None or child.payload == TOMBSTONE:  # a tombstone keeps no payload
            continue
        speakers = RecordingPayload.from_dict(child.payload).call.get("speakers")
        if isinstance(speakers, dict) and speakers:
            return speakers
    return None


async def _recording_path_busy(job: Job, ctx: HandlerContext, conv: str) -> bool:
    """The call's recording job is still to run (and has not had its time yet)."""
    parent = await ctx.ledger.get(recording_key(conv))
    if parent is None or parent.state in (JobState.DONE, JobState.DEAD):
        return False
    age = (datetime.now(UTC) - job.created_at).total_seconds()
    return age < ctx.settings.voice.recording_delay_s + RECORDING_PATH_WAIT_S


async def _read_speakers(ctx: HandlerContext, conv: str) -> dict[str, Any]:
    """The call's customer and agent from one conversation read (none if refused), as the
    recording handler maps them."""
    try:
        conversation = await ctx.genesys.get_conversation(conv)
    except (NotFound, PermissionMissing):
        return {}
    return call_speakers(conversation)


def _not_found_yet(job: Job, ctx: HandlerContext, comm: str, exc: NotFound) -> JobOutcome:
    """Ask again later (STA transcribes after the call), or give up past the wait limit."""
    voice = ctx.settings.voice
    age = (datetime.now(UTC) - job.created_at).total_seconds()
    if age > voice.transcript_max_wait_s:
        raise TranscriptNotFound(
            f"no transcript for communication {comm} after {age:.0f}s: is the queue in a "
            f"Speech & Text Analytics program with transcription on? ({exc})"
        ) from exc
    return JobOutcome(
        result={"waiting": "transcript not found yet"},
        run_again_at=datetime.now(UTC) + timedelta(seconds=not_ready_delay_s(voice, age)),
    )


async def handle_transcript(job: Job, ctx: HandlerContext) -> JobOutcome:
    payload = TranscriptPayload.from_dict(job.payload)
    conv, comm = payload.conversation_id, payload.communication_id
    # planned from SESSION_ENDED (speakers None): take the speakers the recording path maps,
    # waiting for it a while; without it, one conversation read once the document is there
    unmapped = payload.speakers is None
    mapped = await _recording_path_speakers(ctx, conv) if unmapped else None
    if unmapped and mapped is None and await _recording_path_busy(job, ctx, conv):
        return JobOutcome(
            result={"waiting": "the recording path maps the speakers"},
            run_again_at=datetime.now(UTC)
            + timedelta(seconds=waiting_on_ledger_s(ctx.settings.voice)),
        )
    try:
        document = await _document(ctx, conv, comm)
    except NotFound as exc:
        return _not_found_yet(job, ctx, comm, exc)
    if not isinstance(document, dict):
        raise MalformedAnswer("the transcript document is not a JSON object")
    event = payload.event
    records = utterances(document, conv, comm)
    delivered_at = datetime.now(UTC).isoformat()
    if unmapped:
        speakers = mapped if mapped is not None else await _read_speakers(ctx, conv)
    else:
        speakers = payload.speakers or {}
    # transcripts are text, not biometric: never held (consent.hold_texts covers messages)
    unchecked = not_checked().to_dict()
    for record in records:
        key = utterance_key(conv, comm, record["index"])
        role = str(record.get("speaker"))
        record.update(
            schema_version=SCHEMA_VERSION,
            consent=unchecked,
            speaker_key=ctx.speakers.key(
                SpeakerFacts.from_payload(speakers.get(role)), conv, role=role
            ),
            key=key,
            # the document names its organisation; the event's is the fallback
            **event.provenance(TEXT_PROVENANCE, organization_id=record.get("organization_id")),
            delivered_at=delivered_at,
        )
        if ctx.settings.redact_texts:
            record = redacted_record(record, ctx.settings.default_region)
        await ctx.text_sink.deliver_text(key, record)
    metrics.DELIVERED.labels(kind="transcript", media_type="text").inc(len(records))
    roles = sorted({r["speaker"] for r in records})
    return JobOutcome(
        result={"sink": ctx.text_sink.name, "utterances": len(records), "speakers": roles}
    )
