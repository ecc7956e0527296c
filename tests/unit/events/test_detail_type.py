"""Issue 24: an EventBridge ``detail-type`` that disagrees with ``detail.topicName`` is
logged once per detail-type and counted every time; one that agrees is not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import structlog

from media_bridge import metrics
from media_bridge.intake.events import parse_event_result
from media_bridge.intake.events.envelope import detail_type_agrees
from media_bridge.intake.ingest import Intake
from media_bridge.ledger import SqliteLedger

CONV = "2f7bf00a-0fc2-4d6a-9b56-92238191433e"
END = f"v2.detail.events.conversation.{CONV}.customer.end"


def _event(detail_type: str | None, n: int = 0) -> dict[str, Any]:
    event: dict[str, Any] = {
        "version": "0",
        "id": f"event-{n}",
        "source": "aws.partner/genesys.com/cloud/org-1/bus",
        "detail": {
            "topicName": END,
            "version": "2",
            "eventBody": {"conversationId": CONV, "mediaType": "VOICE", "eventTime": 1},
        },
    }
    if detail_type is not None:
        event["detail-type"] = detail_type
    return event


@pytest.mark.parametrize(
    ("detail_type", "agrees"),
    [
        ("v2.detail.events.conversation.{id}.customer.end", True),
        (END, True),
        ("v2.detail.events.conversation.{id}.customer.start", False),
        ("v2.detail.events.conversation.{id}", False),
        ("v2.detail.events.{id}.customer.end", False),  # {id} is one segment only
    ],
)
def test_detail_type_agreement(detail_type: str, agrees: bool) -> None:
    assert detail_type_agrees(detail_type, END) is agrees
    event = parse_event_result(_event(detail_type)).event
    assert (event.detail_type_mismatch is None) is agrees


def test_no_detail_type_is_no_disagreement() -> None:
    assert parse_event_result(_event(None)).event.detail_type_mismatch is None


async def test_intake_counts_each_and_logs_each_detail_type_once(tmp_path: Path) -> None:
    ledger = SqliteLedger(str(tmp_path / "ledger.db"))
    await ledger.open()
    before = metrics.counter_value(metrics.DETAIL_TYPE_MISMATCH)
    try:
        intake = Intake(ledger, media_types=None)
        wrong = "v2.detail.events.conversation.{id}.customer.start"
        lines = [_event(wrong, n) for n in range(3)] + [
            _event("v2.detail.events.conversation.{id}.customer.end", 9)
        ]
        with structlog.testing.capture_logs() as logs:
            result = await intake.accept("\n".join(map(json.dumps, lines)).encode(), "test")
    finally:
        await ledger.close()
    assert result.rejected == []
    assert result.events == 4
    assert metrics.counter_value(metrics.DETAIL_TYPE_MISMATCH) - before == 3
    logged = [e for e in logs if e["event"] == "event.detail_type_mismatch"]
    assert len(logged) == 1
    assert logged[0]["detail_type"] == wrong
    assert logged[0]["topic"] == END
