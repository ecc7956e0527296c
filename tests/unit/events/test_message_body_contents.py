"""``parse_message_body`` returns named contents; ``parse_event`` copies them unchanged."""

from __future__ import annotations

from typing import Any

from media_bridge.intake.events import parse_event
from media_bridge.intake.events.message_topic import MessageBodyContents, parse_message_body

CONV = "c-1"


def _body() -> dict[str, Any]:
    """A customer sending the same message id twice (a re-delivery) and an attachment-only
    message, beside an agent whose message must not appear."""
    only_media = {"content": [{"contentType": "Attachment", "subType": "Audio"}]}
    return {
        "id": CONV,
        "participants": [
            {
                "id": "p-cust",
                "purpose": "Customer",
                "type": "WhatsApp",
                "messages": [
                    {"message": {"id": "m-1"}, "text": "hello"},
                    {
                        "message": {"id": "m-2"},
                        "messageMetadata": only_media,
                        "media": [{"id": "media-1", "mediaType": "audio/ogg"}],
                    },
                    {"message": {"id": "m-1"}},
                ],
            },
            {"id": "p-agent", "purpose": "agent", "messages": [{"message": {"id": "m-a"}}]},
        ],
    }


def test_contents_name_each_part_and_keep_first_seen_order_without_duplicates() -> None:
    contents = parse_message_body(_body())
    assert contents.conversation_id == CONV
    assert contents.message_ids == ("m-1", "m-2")
    assert [a.key for a in contents.attachments] == [f"attachment:{CONV}:m-2:media-1"]
    assert [(t.message_id, t.text) for t in contents.texts] == [("m-1", "hello")]
    assert contents.textless == frozenset({"m-2"})
    assert set(contents.speakers) == {"m-1", "m-2"}
    assert contents.message_ids_by_conversation() == {CONV: ["m-1", "m-2"]}


def test_a_body_naming_no_customer_message_has_no_message_ids_entry() -> None:
    contents = parse_message_body({"id": CONV, "participants": []})
    assert contents == MessageBodyContents(conversation_id=CONV)
    assert contents.message_ids_by_conversation() == {}


def test_parse_event_copies_the_contents_onto_the_event() -> None:
    event = parse_event(
        {
            "id": "e-1",
            "detail-type": "v2.conversations.messages",
            "source": "aws.partner/genesys.com/cloud/org-1/media-bridge-bus",
            "time": "2026-11-24T09:12:34.000Z",
            "detail": {
                "topicName": "v2.conversations.messages",
                "eventBody": _body(),
            },
        }
    )
    contents = parse_message_body(_body())
    assert event.attachments == list(contents.attachments)
    assert event.texts == list(contents.texts)
    assert event.message_ids == {CONV: ["m-1", "m-2"]}
    assert event.message_speakers == dict(contents.speakers)
    assert event.textless_messages == {"m-2"}
