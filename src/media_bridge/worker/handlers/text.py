"""Run a text job: deliver one message's text (or one transcript utterance) to the NLP sink.

A text job planned from a message topic has no text yet (the topic carries none):
the message is read from the API. A message without text (an attachment only)
completes without a delivery; its job still marks the message as seen. When the
event's ``messageMetadata`` already showed no text (``TextPayload.no_text``), the message
is not read at all unless ``fetch.skip_textless_reads`` is off.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from media_bridge import metrics
from media_bridge.consent import not_checked, settle
from media_bridge.genesys.messaging import message_channel, message_text
from media_bridge.identity import SpeakerFacts, merge
from media_bridge.identity.facts import from_message, role_of
from media_bridge.jobs import JobOutcome
from media_bridge.jobs.message_planning import jobs_for_messages
from media_bridge.jobs.payloads import TEXT_PROVENANCE, TextPayload
from media_bridge.sinks.metadata import SCHEMA_VERSION
from media_bridge.types import Job, JobKind, NewJob
from media_bridge.worker.context import HandlerContext
from media_bridge.worker.handlers.text_redaction import redacted_record


async def handle_text(job: Job, ctx: HandlerContext) -> JobOutcome:
    payload = TextPayload.from_dict(job.payload)
    # speaker facts stay out of the record: it carries their key (raw addresses are not
    # for the NLP side, and with pseudonymisation on they must not appear at all)
    record = payload.record()
    if payload.no_text and ctx.settings.fetch.skip_textless_reads:
        return JobOutcome(result={"skipped": "no text (event metadata)"})
    facts = payload.speaker_facts
    consent = not_checked()
    if ctx.consent.enabled and ctx.settings.consent.hold_texts and payload.message_id:
        # texts are not biometric: held only when the operator says so
        consent = await ctx.consent.check(
            conversation_id=payload.conversation_id, kind="message", facts=facts
        )
        held_or_refused = settle(job, consent, ctx.settings.consent)
        if held_or_refused is not None:
            return held_or_refused
    new_jobs: list[NewJob] = []
    if record.get("text") is None and payload.message_id:
        facts, new_jobs = await _read_message(payload, payload.message_id, record, facts, ctx)
    if not record.get("text"):
        return JobOutcome(result={"skipped": "no text"}, new_jobs=new_jobs)
    record.update(
        schema_version=SCHEMA_VERSION,
        consent=consent.to_dict(),
        speaker_key=ctx.speakers.key(
            facts,
            payload.conversation_id,
            role=_role(payload),
            participant_id=payload.participant_id,
        ),
        key=job.key,
        **payload.event.provenance(TEXT_PROVENANCE),
        delivered_at=datetime.now(UTC).isoformat(),
    )
    if ctx.settings.redact_texts:
        record = redacted_record(record, ctx.settings.default_region)
    result = await ctx.text_sink.deliver_text(job.key, record)
    metrics.DELIVERED.labels(kind="text", media_type="text").inc()
    return JobOutcome(result={"sink": ctx.text_sink.name, **result}, new_jobs=new_jobs)


async def _read_message(
    payload: TextPayload,
    message_id: str,
    record: dict[str, Any],
    facts: SpeakerFacts | None,
    ctx: HandlerContext,
) -> tuple[SpeakerFacts | None, list[NewJob]]:
    """Fill ``record`` from the message itself (the topic carried no text); the speaker
    facts it adds, and the attachment jobs it lists."""
    # kept for the message's attachment jobs (a stale link needs this very read)
    # (texts of the conversation starting close together share one bulk read)
    conversation_id = payload.conversation_id
    message = await ctx.messages.read_text(conversation_id, message_id)
    record["text"] = message_text(message)
    record["channel"] = record.get("channel") or message_channel(message)
    record["direction"] = record.get("direction") or message.get("direction")
    # the topic's media[] is deprecated and may be empty: the message itself lists
    # the attachments (keys dedupe against those the topic did list)
    participant = {"id": payload.participant_id, "purpose": payload.participant_purpose}
    new_jobs = [
        job
        for job in jobs_for_messages(
            conversation_id,
            [message],
            {message_id: participant},
            record.get("channel"),
            payload.event,
            ctx.settings.wanted_media_types,
            ctx.consent.planning_attribute,
        )
        if job.kind is JobKind.ATTACHMENT
    ]
    return merge(facts, from_message(message)), new_jobs


def _role(payload: TextPayload) -> str:
    """A transcript line's ``speaker`` (customer/agent), else the participant's purpose
    (``identity.facts.role_of``: the one rule)."""
    if payload.speaker is not None:
        return payload.speaker
    return role_of(payload.participant_purpose)
