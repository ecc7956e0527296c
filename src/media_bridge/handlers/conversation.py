"""Run a conversation job: the path for analytics detail events, which carry ids only.

Read the messaging conversation, find the customer's messages not seen before
(a message is seen once its ``text:`` job exists), read those in bulk, and plan
their attachment and text jobs. Until the conversation ends, the job runs again
every ``worker.conversation_poll_s`` (a new detail event reopens it at once).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from media_bridge.context import BridgeContext
from media_bridge.events.values import channel_name
from media_bridge.jobs import JobOutcome
from media_bridge.messaging import (
    attachments_in_message,
    conversation_ended,
    customer_message_ids,
    message_channel,
    message_text,
)
from media_bridge.planner import plan_jobs
from media_bridge.types import AttachmentRef, Job, ParsedEvent, TextMessage

#: the bulk endpoint takes a list of ids; keep requests modest
BULK_SIZE = 100


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _event_for_messages(
    conversation_id: str,
    messages: list[dict[str, Any]],
    participants: dict[str, dict[str, Any]],
    fallback_channel: str | None,
    source_event: dict[str, Any],
) -> ParsedEvent:
    """Turn MessageData entities into the same domain event a message topic gives."""
    event = ParsedEvent(
        event_id=str(source_event.get("event_id") or f"conversation:{conversation_id}"),
        topic=str(source_event.get("topic") or "api.conversations.messages"),
        org_id=source_event.get("org_id"),
        correlation_id=source_event.get("correlation_id"),
    )
    for message in messages:
        message_id = str(message.get("id") or "")
        if not message_id:
            continue
        participant = participants.get(message_id, {})
        channel = message_channel(message) or fallback_channel
        when = _parse_time(message.get("timestamp"))
        common: dict[str, Any] = {
            "participant_id": participant.get("id"),
            "participant_purpose": participant.get("purpose"),
            "channel": channel,
            "message_time": when,
        }
        event.texts.append(
            TextMessage(
                conversation_id,
                message_id,
                message_text(message),
                direction=message.get("direction"),
                **common,
            )
        )
        for attachment in attachments_in_message(message):
            media_id = attachment.get("id")
            if not media_id:
                continue
            event.attachments.append(
                AttachmentRef(
                    conversation_id=conversation_id,
                    message_id=message_id,
                    media_id=str(media_id),
                    media_type=str(attachment.get("mediaType") or "File"),
                    mime=attachment.get("mime"),
                    name=attachment.get("filename"),
                    url=attachment.get("url"),
                    size=attachment.get("contentSizeBytes"),
                    sha256=attachment.get("sha256"),
                    **common,
                )
            )
    return event


async def handle_conversation(job: Job, ctx: BridgeContext) -> JobOutcome:
    payload = job.payload
    conversation_id = str(payload["conversation_id"])
    conversation = await ctx.genesys.get_message_conversation(conversation_id)
    found = customer_message_ids(conversation)
    seen = await ctx.ledger.existing_keys(f"text:{conversation_id}:{mid}" for _, mid in found)
    new = [(p, mid) for p, mid in found if f"text:{conversation_id}:{mid}" not in seen]
    owners = {mid: p for p, mid in new}
    messages: list[dict[str, Any]] = []
    for start in range(0, len(new), BULK_SIZE):
        ids = [mid for _, mid in new[start : start + BULK_SIZE]]
        listing = await ctx.genesys.get_messages_bulk(conversation_id, ids)
        messages.extend(e for e in listing.get("entities") or [] if isinstance(e, dict))
    media_types = _wanted_media_types(ctx)
    event = _event_for_messages(
        conversation_id,
        messages,
        owners,
        channel_name(payload.get("message_type")),
        payload.get("event") or {},
    )
    new_jobs = plan_jobs(event, media_types)
    result = {"messages_seen": len(found), "messages_new": len(messages)}
    if payload.get("ended") or conversation_ended(conversation) or _watched_too_long(job, ctx):
        return JobOutcome(result=result, new_jobs=new_jobs)
    again = datetime.now(UTC) + timedelta(seconds=ctx.settings.worker.conversation_poll_s)
    return JobOutcome(result=result, new_jobs=new_jobs, run_again_at=again)


def _wanted_media_types(ctx: BridgeContext) -> set[str] | None:
    wanted = {t.lower() for t in ctx.settings.fetch.media_types}
    return None if "all" in wanted else {t.capitalize() for t in wanted}


def _watched_too_long(job: Job, ctx: BridgeContext) -> bool:
    age = datetime.now(UTC) - job.created_at
    return age.total_seconds() > ctx.settings.worker.conversation_watch_max_s
