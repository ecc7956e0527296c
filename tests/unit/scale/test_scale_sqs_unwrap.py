"""SQS bodies: the envelope raw, or wrapped the ways EventBridge targets deliver it."""

from __future__ import annotations

import json

from media_bridge.intake.sources.sqs import unwrap_body

ENVELOPE = {
    "version": "0",
    "id": "58fb5dac-f077-4eec-a25f-c638dbdd4368",
    "detail-type": "v2.detail.events.conversation.{id}.customer.end",
    "source": "aws.partner/genesys.com/cloud/32aa07aa/test-event-bus",
    "detail": {"topicName": "v2.detail.events.conversation.c1.customer.end", "eventBody": {}},
}


def test_raw_envelope_passes_through() -> None:
    assert json.loads(unwrap_body(json.dumps(ENVELOPE))) == ENVELOPE


def test_sns_notification_is_unwrapped() -> None:
    sns = {"Type": "Notification", "MessageId": "x", "Message": json.dumps(ENVELOPE)}
    assert json.loads(unwrap_body(json.dumps(sns))) == ENVELOPE


def test_input_transformer_nesting_is_unwrapped() -> None:
    assert json.loads(unwrap_body(json.dumps({"event": ENVELOPE}))) == ENVELOPE


def test_sns_around_a_nested_event() -> None:
    sns = {"Type": "Notification", "Message": json.dumps({"event": ENVELOPE})}
    assert json.loads(unwrap_body(json.dumps(sns))) == ENVELOPE


def test_unknown_shapes_are_left_for_the_parser() -> None:
    assert unwrap_body("not json") == b"not json"
    assert unwrap_body('{"a": 1, "b": 2}') == b'{"a": 1, "b": 2}'
    assert unwrap_body('"a string"') == b'"a string"'
