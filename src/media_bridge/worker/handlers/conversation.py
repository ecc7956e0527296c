"""Run a conversation job: the path for analytics detail events, which carry ids only.

Read the messaging conversation, find the customer's messages not seen before
(a message is seen once its ``text:`` job exists), read those in bulk, and plan
their attachment and text jobs. Until the conversation ends, the job runs again: after
``worker.conversation_poll_s`` at first, then, while nothing changes, at intervals that
grow by ``worker.conversation_poll_backoff`` up to ``worker.conversation_poll_max_s``
(each read is a Platform API request; GENESYS.md section 8). A new detail event reopens
the job at once. The backoff keeps no state: the quiet time is counted from the latest
of the reopening event's receipt and the conversation's newest message, so a new message
or a new event starts it over, and a restart or another worker computes the same.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from media_bridge.config import WorkerSettings
from media_bridge.errors import BulkReadShortfall
from media_bridge.genesys.messaging import conversation_ended, customer_message_ids
from media_bridge.jobs import JobOutcome
from media_bridge.jobs.keys import text_key
from media_bridge.jobs.message_planning import jobs_for_messages
from media_bridge.jobs.payloads import ConversationPayload
from media_bridge.types import Job
from media_bridge.values import channel_name, parse_time
from media_bridge.worker.context import HandlerContext

#: the bulk endpoint takes a list of ids; keep requests modest
BULK_SIZE = 100


async def handle_conversation(job: Job, ctx: HandlerContext) -> JobOutcome:
    payload = ConversationPayload.from_dict(job.payload)
    conversation_id = payload.conversation_id
    conversation = await ctx.genesys.get_message_conversation(conversation_id)
    found = customer_message_ids(conversation)
    # a message is seen once its text job exists: the key TextMessage.key gives it
    seen = await ctx.ledger.existing_keys(text_key(conversation_id, mid) for _, mid in found)
    new = [(p, mid) for p, mid in found if text_key(conversation_id, mid) not in seen]
    owners = {mid: p for p, mid in new}
    messages: list[dict[str, Any]] = []
    for start in range(0, len(new), BULK_SIZE):
        ids = [mid for _, mid in new[start : start + BULK_SIZE]]
        listing = await ctx.genesys.get_messages_bulk(conversation_id, ids)
        messages.extend(e for e in listing.get("entities") or [] if isinstance(e, dict))
    new_jobs = jobs_for_messages(
        conversation_id,
        messages,
        owners,
        channel_name(payload.message_type),
        payload.event,
        ctx.settings.wanted_media_types,
        ctx.consent.planning_attribute,
    )
    result = {"messages_seen": len(found), "messages_new": len(messages)}
    ended = payload.ended or conversation_ended(conversation)
    if ended and len(messages) < len(new):
        # the last read must not lose a message: try again rather than finish without it
        raise BulkReadShortfall(f"bulk read returned {len(messages)} of {len(new)} messages")
    if ended or _watched_too_long(job, ctx):
        return JobOutcome(result=result, new_jobs=new_jobs)
    now = datetime.now(UTC)
    again = now + timedelta(
        seconds=next_poll_s(ctx.settings.worker, _last_change(payload, conversation), now)
    )
    return JobOutcome(result=result, new_jobs=new_jobs, run_again_at=again)


def next_poll_s(worker: WorkerSettings, last_change: datetime | None, now: datetime) -> float:
    """The wait before the next read: ``poll_s`` right after a change, then growing.

    With backoff factor f the reads come at poll, poll*f, poll*f^2... after the change:
    the next wait is poll + quiet*(f - 1), quiet being the time since the change.
    """
    poll = worker.conversation_poll_s
    if last_change is None or worker.conversation_poll_backoff <= 1.0:
        return poll
    quiet = max(0.0, (now - last_change).total_seconds())
    wait = poll + quiet * (worker.conversation_poll_backoff - 1.0)
    return min(max(poll, worker.conversation_poll_max_s), wait)


def _last_change(payload: ConversationPayload, conversation: dict[str, Any]) -> datetime | None:
    """The latest of the reopening event's receipt and any message's ``messageTime``."""
    times = [parse_time(payload.event.received_at)]
    for participant in conversation.get("participants") or []:
        if not isinstance(participant, dict):
            continue
        for details in participant.get("messages") or []:
            if isinstance(details, dict):
                times.append(parse_time(details.get("messageTime")))
    known = [t for t in times if t is not None]
    return max(known) if known else None


def _watched_too_long(job: Job, ctx: HandlerContext) -> bool:
    age = datetime.now(UTC) - job.created_at
    return age.total_seconds() > ctx.settings.worker.conversation_watch_max_s
