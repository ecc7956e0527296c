"""Run a text job: deliver one message's text (or one transcript utterance) to the NLP sink.

A text job planned from a message topic has no text yet (the topic carries none):
the message is read from the API. A message without text (an attachment only)
completes without a delivery; its job still marks the message as seen.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from media_bridge import metrics
from media_bridge.context import BridgeContext
from media_bridge.jobs import JobOutcome
from media_bridge.messaging import message_channel, message_text
from media_bridge.types import Job


async def handle_text(job: Job, ctx: BridgeContext) -> JobOutcome:
    payload = job.payload
    record: dict[str, Any] = {
        k: v for k, v in payload.items() if k != "event" and not k.startswith("_")
    }
    if record.get("text") is None and payload.get("message_id"):
        message = await ctx.genesys.get_message(payload["conversation_id"], payload["message_id"])
        record["text"] = message_text(message)
        record["channel"] = record.get("channel") or message_channel(message)
        record["direction"] = record.get("direction") or message.get("direction")
    if not record.get("text"):
        return JobOutcome(result={"skipped": "no text"})
    event = payload.get("event") or {}
    record.update(
        key=job.key,
        organization_id=event.get("org_id"),
        event_id=event.get("event_id"),
        delivered_at=datetime.now(UTC).isoformat(),
    )
    result = await ctx.text_sink.deliver_text(job.key, record)
    metrics.DELIVERED.labels(kind="text", media_type="text").inc()
    return JobOutcome(result={"sink": ctx.text_sink.name, **result})
