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
from media_bridge.errors import Transient
from media_bridge.events.values import channel_name
from media_bridge.handlers.message_jobs import jobs_for_messages
from media_bridge.jobs import JobOutcome
from media_bridge.messaging import conversation_ended, customer_message_ids
from media_bridge.planner import media_types_from_settings
from media_bridge.types import Job

#: the bulk endpoint takes a list of ids; keep requests modest
BULK_SIZE = 100


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
    new_jobs = jobs_for_messages(
        conversation_id,
        messages,
        owners,
        channel_name(payload.get("message_type")),
        payload.get("event") or {},
        media_types_from_settings(ctx.settings.fetch.media_types),
        ctx.consent.planning_attribute,
    )
    result = {"messages_seen": len(found), "messages_new": len(messages)}
    ended = payload.get("ended") or conversation_ended(conversation)
    if ended and len(messages) < len(new):
        # the last read must not lose a message: try again rather than finish without it
        raise Transient(f"bulk read returned {len(messages)} of {len(new)} messages")
    if ended or _watched_too_long(job, ctx):
        return JobOutcome(result=result, new_jobs=new_jobs)
    again = datetime.now(UTC) + timedelta(seconds=ctx.settings.worker.conversation_poll_s)
    return JobOutcome(result=result, new_jobs=new_jobs, run_again_at=again)


def _watched_too_long(job: Job, ctx: BridgeContext) -> bool:
    age = datetime.now(UTC) - job.created_at
    return age.total_seconds() > ctx.settings.worker.conversation_watch_max_s
