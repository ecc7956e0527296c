"""Watch polling backs off while a conversation is quiet, and starts over on a change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from media_bridge.config import WorkerSettings
from media_bridge.jobs.payloads import ConversationPayload, EventMeta
from media_bridge.worker.handlers.conversation import _last_change, next_poll_s

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _reads(worker: WorkerSettings, horizon_s: float) -> list[float]:
    """The waits between reads of a conversation quiet since NOW."""
    waits, at = [], NOW
    while (at - NOW).total_seconds() < horizon_s:
        wait = next_poll_s(worker, NOW, at)
        waits.append(wait)
        at += timedelta(seconds=wait)
    return waits


def test_the_wait_doubles_while_nothing_changes_up_to_the_cap() -> None:
    worker = WorkerSettings(conversation_poll_s=30, conversation_poll_max_s=300)
    assert _reads(worker, 1500) == [30, 60, 120, 240, 300, 300, 300, 300]


def test_the_backoff_can_be_configured_or_turned_off() -> None:
    fixed = WorkerSettings(conversation_poll_s=10, conversation_poll_backoff=1)
    assert _reads(fixed, 50) == [10] * 5
    slow = WorkerSettings(conversation_poll_s=10, conversation_poll_backoff=1.5)
    assert _reads(slow, 60)[:3] == [10, 15, 22.5]
    assert next_poll_s(WorkerSettings(), None, NOW) == 30


def _watch(received_at: str | None) -> ConversationPayload:
    return ConversationPayload("conv", EventMeta(received_at=received_at))


def test_a_new_message_or_a_reopening_event_starts_the_backoff_over() -> None:
    old = (NOW - timedelta(hours=1)).isoformat()
    conversation = {
        "participants": [{"messages": [{"messageTime": old}, {"messageTime": "bad"}]}, "x"]
    }
    payload = _watch(received_at=(NOW - timedelta(hours=2)).isoformat())
    assert _last_change(payload, conversation) == NOW - timedelta(hours=1)
    newer = {"participants": [{"messages": [{"messageTime": (NOW).isoformat()}]}]}
    assert _last_change(payload, newer) == NOW
    reopened = _watch(received_at=NOW.isoformat())
    assert _last_change(reopened, conversation) == NOW
    assert next_poll_s(WorkerSettings(), _last_change(reopened, conversation), NOW) == 30
    assert _last_change(_watch(received_at=None), {}) is None
