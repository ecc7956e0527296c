"""Run a transcript job ``transcript:{conversationId}:{communicationId}``.

Ask Speech & Text Analytics for the transcript's pre-signed URL (needs both
``recording:recording:view`` and ``speechAndTextAnalytics:data:view``; the client
names the missing one), fetch the JSON there without the token, and deliver one record
per utterance to the NLP sink under ``transcript:{conv}:{comm}:{index}``. A stale URL
is asked for again (bounded); a transcript not there yet (404: analytics runs after the
call) is polled for up to ``voice.transcript_max_wait_s``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from media_bridge import metrics
from media_bridge.consent import not_checked
from media_bridge.context import BridgeContext
from media_bridge.delivery_metadata import SCHEMA_VERSION
from media_bridge.errors import NotFound, Transient, UrlExpired
from media_bridge.identity import SpeakerFacts
from media_bridge.jobs import JobOutcome
from media_bridge.text_redaction import redacted_record
from media_bridge.types import Job
from media_bridge.voice.errors import TranscriptNotFound
from media_bridge.voice.polling import not_ready_delay_s
from media_bridge.voice.transcripts import utterances


async def _document(ctx: BridgeContext, conv: str, comm: str) -> Any:
    refreshes = 0
    while True:
        url = await ctx.genesys.get_transcript_url(conv, comm)
        try:
            return await ctx.fetcher.fetch_json_unauthenticated(url)
        except UrlExpired:
            if refreshes >= ctx.settings.fetch.max_url_refreshes:
                raise
            refreshes += 1
            metrics.URL_REFRESHES.inc()


async def handle_transcript(job: Job, ctx: BridgeContext) -> JobOutcome:
    conv = str(job.payload["conversation_id"])
    comm = str(job.payload["communication_id"])
    try:
        document = await _document(ctx, conv, comm)
    except NotFound as exc:
        voice = ctx.settings.voice
        age = (datetime.now(UTC) - job.created_at).total_seconds()
        if age > voice.transcript_max_wait_s:
            raise TranscriptNotFound(
                f"no transcript for communication {comm} after {age:.0f}s: is the queue in a "
                f"Speech & Text Analytics program with transcription on? ({exc})"
            ) from exc
        delay = not_ready_delay_s(voice, age)
        return JobOutcome(
            result={"waiting": "transcript not found yet"},
            run_again_at=datetime.now(UTC) + timedelta(seconds=delay),
        )
    if not isinstance(document, dict):
        raise Transient("the transcript document is not a JSON object")
    event = job.payload.get("event") or {}
    records = utterances(document, conv, comm)
    delivered_at = datetime.now(UTC).isoformat()
    speakers = job.payload.get("speakers") or {}
    # transcripts are text, not biometric: never held (consent.hold_texts covers messages)
    unchecked = not_checked().to_dict()
    for record in records:
        key = f"{job.key}:{record['index']}"
        role = str(record.get("speaker"))
        record.update(
            schema_version=SCHEMA_VERSION,
            consent=unchecked,
            speaker_key=ctx.speakers.key(
                SpeakerFacts.from_payload(speakers.get(role)), conv, role=role
            ),
            key=key,
            organization_id=record.get("organization_id") or event.get("org_id"),
            event_id=event.get("event_id"),
            delivered_at=delivered_at,
        )
        if ctx.settings.nlp.redact:
            record = redacted_record(record, ctx.settings.identity.default_region)
        await ctx.text_sink.deliver_text(key, record)
    metrics.DELIVERED.labels(kind="transcript", media_type="text").inc(len(records))
    roles = sorted({r["speaker"] for r in records})
    return JobOutcome(
        result={"sink": ctx.text_sink.name, "utterances": len(records), "speakers": roles}
    )
