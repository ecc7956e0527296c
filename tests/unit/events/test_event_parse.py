"""Parsing of EventBridge events: envelopes, message/detail/transcription topics, rejections."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from media_bridge.errors import BadInput
from media_bridge.intake.events import (
    ParseResult,
    ParseStatus,
    Rejection,
    TopicFamily,
    parse_event,
    parse_event_result,
    parse_payload,
    parse_payload_results,
    topic_family,
)
from media_bridge.values import media_type_of, parse_time

FIXTURES = Path(__file__).parents[2] / "fixtures" / "events"
CONV = "2f7bf00a-0fc2-4d6a-9b56-92238191433e"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(fixture_bytes(name))
    return doc


def test_queue_message_topic_voice_note_and_image_of_the_customer_only() -> None:
    event = parse_event(fixture_bytes("message_queue_voice_note.json"))
    assert event.event_id == "0b9f6f52-1f6e-4c43-9a0d-2a0d1c6f0a11"
    assert event.org_id == "32aa07aa-db1b-4987-abd0-9483601ec29d"
    assert event.correlation_id == "7272d362-23b2-4c14-9d40-dc7b7683153a"
    assert [a.media_type for a in event.attachments] == ["Audio", "Image"]
    voice = event.attachments[0]
    assert voice.key == (
        f"attachment:{CONV}:6a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d:3f2a7e1c-5b9d-4c0a-8e6f-2d1b0a9c8e7f"
    )
    assert voice.mime == "audio/ogg"
    assert voice.name == "voice-note.ogg"
    assert voice.size == 18234
    assert voice.url == "https://api-downloads.mypurecloud.ie/api/v2/downloads/0a1b2c3d4e5f"
    assert voice.participant_id == "9fb2ca78-8389-4758-b76a-9b0300de1fce"
    assert voice.participant_purpose == "customer"
    assert voice.channel == "WhatsApp"
    assert voice.message_time == datetime(2026, 11, 24, 9, 12, 33, 412000, tzinfo=UTC)
    # the agent's media is not the customer's voice; the text-only message is still listed
    assert all(a.participant_purpose == "customer" for a in event.attachments)
    assert event.message_ids == {
        CONV: [
            "6a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d",
            "7b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e",
            "8c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f",
        ]
    }
    assert event.texts == []  # the message topic carries no text


def test_user_topic_webmessaging_epoch_ms_time_and_subtype_decides_generic_mime() -> None:
    event = parse_event(fixture_bytes("message_user_webmessaging.json"))
    (ref,) = event.attachments
    assert ref.channel == "WebMessaging"
    assert ref.media_type == "Audio"  # application/octet-stream + subType Audio
    assert ref.mime == "application/octet-stream"
    assert ref.size == 52000  # given as a digit string
    assert ref.message_time == datetime.fromtimestamp(1795511553.412, tz=UTC)


def test_path_traversal_names_are_kept_as_data_only() -> None:
    event = parse_event(fixture_bytes("message_path_traversal_names.json"))
    assert event.attachments[0].name == "../../etc/passwd.ogg"
    assert "/" not in event.attachments[0].key.split(":", 1)[1]


@pytest.mark.parametrize(
    ("name", "activity", "media", "message_type", "ends"),
    [
        ("detail_customer_start_message.json", "customer.start", "MESSAGE", "WHATSAPP", False),
        ("detail_customer_end_message.json", "customer.end", "MESSAGE", "WHATSAPP", True),
        ("detail_customer_end_voice.json", "customer.end", "VOICE", None, True),
        ("detail_acw_voice.json", "acw", "VOICE", None, True),
        ("detail_acd_start_message.json", "acd.start", "MESSAGE", "WHATSAPP", False),
    ],
)
def test_detail_topics(
    name: str, activity: str, media: str, message_type: str | None, ends: bool
) -> None:
    doc = fixture(name)
    event = parse_event(doc)
    (act,) = event.activities
    assert act.activity == activity
    assert act.media_type == media
    assert act.message_type == message_type
    assert act.ends_conversation is ends
    assert act.conversation_id == doc["detail"]["eventBody"]["conversationId"]
    assert act.event_time is not None
    assert event.event_time == act.event_time
    assert topic_family(event.topic) is TopicFamily.DETAIL


def test_detail_event_time_epoch_and_iso_agree() -> None:
    doc = fixture("detail_customer_end_message.json")
    ms = doc["detail"]["eventBody"]["eventTime"]
    iso = datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")
    doc["detail"]["eventBody"]["eventTime"] = iso
    assert parse_event(doc).activities[0].event_time == parse_time(ms)


def test_detail_conversation_id_falls_back_to_the_topic() -> None:
    doc = fixture("detail_customer_end_message.json")
    del doc["detail"]["eventBody"]["conversationId"]
    assert parse_event(doc).activities[0].conversation_id == CONV


def test_transcription_topic_keeps_the_body() -> None:
    event = parse_event(fixture_bytes("transcription.json"))
    (body,) = event.transcriptions
    assert body["communicationId"] == "1b2c3d4e-5f6a-4b8c-9d0e-1f2a3b4c5d6e"
    assert len(body["transcripts"]) == 3
    assert event.event_time == datetime(2026, 11, 24, 10, 0, 5, 123000, tzinfo=UTC)


def test_unknown_topic_is_counted_not_rejected() -> None:
    result = parse_event_result(fixture_bytes("unknown_topic.json"))
    assert result.status is ParseStatus.UNKNOWN_TOPIC
    assert result.family is TopicFamily.UNKNOWN
    assert result.event.attachments == []
    assert result.event.activities == []
    assert result.event.texts == []


def test_genesys_test_source_is_accepted() -> None:
    assert parse_event(fixture_bytes("message_test_source.json")).attachments


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("invalid_malformed.json", "malformed JSON"),
        ("invalid_wrong_source.json", "is not aws.partner/genesys.com"),
        ("invalid_missing_detail.json", "missing detail"),
        ("invalid_missing_event_body.json", "missing detail.eventBody"),
        ("invalid_missing_topic.json", "missing detail.topicName"),
        ("invalid_missing_media_id.json", "media[0] has no id"),
        ("invalid_missing_conversation_id.json", "missing conversation id"),
    ],
)
def test_malformed_events_raise_bad_input_with_a_reason(name: str, reason: str) -> None:
    with pytest.raises(BadInput, match=re.escape(reason)):
        parse_event(fixture_bytes(name))
    (rejection,) = parse_payload(fixture_bytes(name))
    assert isinstance(rejection, Rejection)
    assert reason in rejection.reason
    assert rejection.raw == fixture_bytes(name)


@pytest.mark.parametrize("raw", [b"[]", b"   ", b"42", b'"just a string"', b"null", b'{"id": "x"}'])
def test_odd_payloads_are_rejected_not_crashing(raw: bytes) -> None:
    results = parse_payload(raw)
    assert len(results) == 1
    assert isinstance(results[0], Rejection)


def test_sqs_body_json_string_holding_json_and_sqs_message_dict() -> None:
    envelope = fixture_bytes("detail_customer_end_message.json").decode()
    as_sqs_body = json.dumps(envelope).encode()
    assert parse_event(as_sqs_body).activities[0].activity == "customer.end"
    assert parse_event({"MessageId": "m1", "Body": envelope}).activities[0].conversation_id == CONV


def test_array_and_json_lines_give_one_result_per_event_with_partial_failure() -> None:
    good = fixture("detail_customer_end_message.json")
    bad = fixture("invalid_wrong_source.json")
    array = json.dumps([good, bad, fixture("unknown_topic.json")]).encode()
    results = parse_payload_results(array)
    assert [type(r) for r in results] == [ParseResult, Rejection, ParseResult]
    assert isinstance(results[2], ParseResult)
    assert results[2].status is ParseStatus.UNKNOWN_TOPIC
    assert isinstance(results[1], Rejection)
    assert json.loads(results[1].raw)["source"] == bad["source"]

    transcription = json.dumps(fixture("transcription.json")).encode()
    lines = b"\n".join([json.dumps(good).encode(), b"{not json", transcription])
    results_l = parse_payload(lines + b"\n")
    assert [type(r).__name__ for r in results_l] == ["ParsedEvent", "Rejection", "ParsedEvent"]
    assert isinstance(results_l[1], Rejection)
    assert results_l[1].raw == b"{not json"


def test_pretty_printed_broken_json_is_one_rejection() -> None:
    broken = json.dumps(fixture("detail_acw_voice.json"), indent=2)[:-3].encode()
    results = parse_payload(broken)
    assert len(results) == 1
    assert isinstance(results[0], Rejection)


@pytest.mark.parametrize(
    ("topic", "family"),
    [
        ("v2.routing.queues.q1.conversations.messages", TopicFamily.MESSAGE),
        ("v2.users.u1.conversations.messages", TopicFamily.MESSAGE),
        ("v2.conversations.messages.c1.messages", TopicFamily.MESSAGE),
        ("v2.conversations.c1.transcription", TopicFamily.TRANSCRIPTION),
        ("v2.detail.events.conversation.c1.user.end", TopicFamily.DETAIL),
        ("v2.detail.events.conversation.c1", TopicFamily.UNKNOWN),
        ("v2.users.u1.presence", TopicFamily.UNKNOWN),
        ("v2.routing.queues.q1.conversations.calls", TopicFamily.UNKNOWN),
    ],
)
def test_topic_families(topic: str, family: TopicFamily) -> None:
    assert topic_family(topic) is family


@pytest.mark.parametrize(
    ("mime", "sub", "expected"),
    [
        ("audio/ogg; codecs=opus", None, "Audio"),
        ("video/mp4", "Audio", "Video"),
        ("application/pdf", None, "File"),
        ("application/octet-stream", "Image", "Image"),
        ("Audio", None, "Audio"),
        (None, "Video", "Video"),
        (None, None, "File"),
    ],
)
def test_media_type_vocabulary(mime: str | None, sub: str | None, expected: str) -> None:
    assert media_type_of(mime, sub) == expected


@pytest.mark.parametrize("value", [None, "", "yesterday", True, [1], "2026-13-40T00:00:00Z"])
def test_bad_times_are_none(value: object) -> None:
    assert parse_time(value) is None
