"""The conversation handler through the ``JobHandler`` contract, with fakes: which messages
it reads (only those not seen), which jobs it plans, when it runs again, and that a short
bulk answer on the last read is retried rather than finished without a message."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from media_bridge.config import Settings
from media_bridge.errors import BulkReadShortfall, Transient
from media_bridge.jobs import JobHandler
from media_bridge.jobs.keys import attachment_key, conversation_key, text_key
from media_bridge.types import JobKind
from media_bridge.worker.handlers.conversation import handle_conversation
from tests.unit.handlers.fakes import handler_context, job

CONV = "conv-1"
HANDLER: JobHandler = handle_conversation


def _payload(*, ended: bool = False) -> dict[str, Any]:
    """A conversation job as the planner records it for an analytics detail event."""
    return {
        "v": 1,
        "conversation_id": CONV,
        "media_type": "MESSAGE",
        "message_type": "webmessaging",
        "activity": "customer.start",
        "ended": ended,
        "participant_id": None,
        "event": {"event_id": "ev-1", "org_id": "org-1"},
    }


def _conversation(*message_ids: str, ended: bool = False) -> dict[str, Any]:
    customer: dict[str, Any] = {
        "id": "p-cust",
        "purpose": "customer",
        "messages": [{"messageId": m} for m in message_ids],
    }
    if ended:
        customer["state"] = "disconnected"
    agent = {"id": "p-agent", "purpose": "agent", "messages": [{"messageId": "agent-m"}]}
    return {"id": CONV, "participants": [customer, agent]}


def _message(mid: str, text: str, *attachments: dict[str, Any]) -> dict[str, Any]:
    content = [{"contentType": "Attachment", "attachment": a} for a in attachments]
    return {"id": mid, "normalizedMessage": {"text": text, "content": content}}


async def test_only_unseen_customer_messages_are_read_and_planned(tmp_path: Path) -> None:
    fakes = handler_context(tmp_path)
    fakes.ledger.keys.add(text_key(CONV, "m1"))  # m1's text job exists: seen
    fakes.genesys.message_conversations[CONV] = _conversation("m1", "m2")
    fakes.genesys.messages[(CONV, "m2")] = _message("m2", "hi", {"id": "a1", "mediaType": "Audio"})
    now = datetime.now(UTC)
    outcome = await HANDLER(
        job(conversation_key(CONV), JobKind.CONVERSATION, _payload()), fakes.ctx
    )
    assert fakes.genesys.calls == [
        ("get_message_conversation", CONV),
        ("get_messages_bulk", CONV, "m2"),  # neither m1 (seen) nor the agent's message
    ]
    assert sorted((j.key, j.kind) for j in outcome.new_jobs) == [
        (attachment_key(CONV, "m2", "a1"), JobKind.ATTACHMENT),
        (text_key(CONV, "m2"), JobKind.TEXT),
    ]
    assert outcome.result == {"messages_seen": 2, "messages_new": 1}
    # not ended: read again after worker.conversation_poll_s
    assert outcome.run_again_at is not None
    wait = (outcome.run_again_at - now).total_seconds()
    assert wait == pytest.approx(Settings().worker.conversation_poll_s, abs=1.0)


async def test_the_media_type_filter_applies_to_the_planned_attachments(tmp_path: Path) -> None:
    fakes = handler_context(tmp_path, Settings(fetch={"media_types": ["Image"]}))
    fakes.genesys.message_conversations[CONV] = _conversation("m1")
    fakes.genesys.messages[(CONV, "m1")] = _message(
        "m1", "", {"id": "a1", "mediaType": "Image"}, {"id": "a2", "mediaType": "Audio"}
    )
    outcome = await HANDLER(
        job(conversation_key(CONV), JobKind.CONVERSATION, _payload()), fakes.ctx
    )
    attachments = [j.key for j in outcome.new_jobs if j.kind is JobKind.ATTACHMENT]
    assert attachments == [attachment_key(CONV, "m1", "a1")]


async def test_an_ended_conversation_finishes(tmp_path: Path) -> None:
    fakes = handler_context(tmp_path)
    fakes.genesys.message_conversations[CONV] = _conversation("m1", ended=True)
    fakes.genesys.messages[(CONV, "m1")] = _message("m1", "bye")
    outcome = await HANDLER(
        job(conversation_key(CONV), JobKind.CONVERSATION, _payload()), fakes.ctx
    )
    assert outcome.run_again_at is None
    assert [j.key for j in outcome.new_jobs] == [text_key(CONV, "m1")]


async def test_a_short_bulk_answer_on_the_last_read_is_retried(tmp_path: Path) -> None:
    """The bulk read left m2 out: finishing now would lose it for good."""
    fakes = handler_context(tmp_path)
    fakes.genesys.message_conversations[CONV] = _conversation("m1", "m2")
    fakes.genesys.messages[(CONV, "m1")] = _message("m1", "one")
    ended = job(conversation_key(CONV), JobKind.CONVERSATION, _payload(ended=True))
    with pytest.raises(BulkReadShortfall, match="1 of 2 messages") as info:
        await HANDLER(ended, fakes.ctx)
    assert isinstance(info.value, Transient)  # retried, not finished without m2
    assert info.value.code == "bulk_read_shortfall"


async def test_a_conversation_watched_too_long_finishes(tmp_path: Path) -> None:
    settings = Settings(worker={"conversation_watch_max_s": 60})
    fakes = handler_context(tmp_path, settings)
    fakes.genesys.message_conversations[CONV] = _conversation()
    old = job(conversation_key(CONV), JobKind.CONVERSATION, _payload(), age_s=120)
    outcome = await HANDLER(old, fakes.ctx)
    assert outcome.run_again_at is None
    assert outcome.new_jobs == []
