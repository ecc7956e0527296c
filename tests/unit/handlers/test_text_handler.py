"""The text handler through the ``JobHandler`` contract, with fakes: what reaches the NLP
sink, when the message is read, which attachment jobs the read plans."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from media_bridge.config import Settings
from media_bridge.jobs import JobHandler
from media_bridge.jobs.keys import attachment_key, text_key
from media_bridge.jobs.payloads import NO_TEXT, EventMeta
from media_bridge.jobs.planning import text_payload
from media_bridge.types import JobKind, TextMessage
from media_bridge.worker.handlers.text import handle_text
from tests.unit.handlers.fakes import handler_context, job

CONV, MID = "conv-1", "msg-1"
EVENT = {"org_id": "org-1", "event_id": "ev-1", "received_at": "2026-01-01T00:00:00+00:00"}
META = EventMeta.from_dict(EVENT)
#: the handler as the worker holds it
HANDLER: JobHandler = handle_text


def _topic_payload(**extra: Any) -> dict[str, Any]:
    """A text job planned from a message topic, which carries no text."""
    message = TextMessage(CONV, MID, "", participant_id="p-cust")
    payload = text_payload(message, META).to_dict()
    payload.update(text=None, participant_purpose="customer", **extra)
    return payload


def _message(text: str, *attachments: dict[str, Any]) -> dict[str, Any]:
    content = [{"contentType": "Attachment", "attachment": a} for a in attachments]
    return {
        "id": MID,
        "direction": "inbound",
        "normalizedMessage": {
            "text": text,
            "channel": {"platform": "Whatsapp"},
            "content": content,
        },
    }


async def test_a_text_in_the_payload_is_delivered_without_a_read(tmp_path: Path) -> None:
    fakes = handler_context(tmp_path)
    payload = text_payload(
        TextMessage(CONV, MID, "hello there", channel="whatsapp"), META
    ).to_dict()
    outcome = await HANDLER(job(text_key(CONV, MID), JobKind.TEXT, payload), fakes.ctx)
    record = fakes.texts.records[text_key(CONV, MID)]
    assert record["text"] == "hello there"
    assert record["key"] == text_key(CONV, MID)
    assert record["organization_id"] == "org-1"
    assert record["event_id"] == "ev-1"
    assert record["consent"]["verdict"] == "not_checked"
    assert "event" not in record
    assert fakes.genesys.calls == []
    assert outcome.result["sink"] == "kept-texts"
    assert outcome.new_jobs == []


async def test_a_topic_text_is_read_and_the_message_plans_its_wanted_attachments(
    tmp_path: Path,
) -> None:
    """The read lists the attachments (the topic's media[] may be empty); only the wanted
    media types become jobs, decided by the context's one filter."""
    fakes = handler_context(tmp_path, Settings(fetch={"media_types": ["Audio"]}))
    fakes.genesys.messages[(CONV, MID)] = _message(
        "my card is lost",
        {"id": "a1", "mediaType": "Audio", "url": "https://example.invalid/a1"},
        {"id": "i1", "mediaType": "Image", "url": "https://example.invalid/i1"},
    )
    outcome = await HANDLER(job(text_key(CONV, MID), JobKind.TEXT, _topic_payload()), fakes.ctx)
    assert fakes.genesys.calls == [("get_message", CONV, MID)]
    record = fakes.texts.records[text_key(CONV, MID)]
    assert record["text"] == "my card is lost"
    assert record["channel"] == "WhatsApp"
    assert [(j.key, j.kind) for j in outcome.new_jobs] == [
        (attachment_key(CONV, MID, "a1"), JobKind.ATTACHMENT)
    ]


async def test_every_media_type_is_planned_with_a_star(tmp_path: Path) -> None:
    fakes = handler_context(tmp_path, Settings(fetch={"media_types": ["*"]}))
    fakes.genesys.messages[(CONV, MID)] = _message(
        "", {"id": "a1", "mediaType": "Audio"}, {"id": "i1", "mediaType": "Image"}
    )
    outcome = await HANDLER(job(text_key(CONV, MID), JobKind.TEXT, _topic_payload()), fakes.ctx)
    # no text: nothing delivered, but the attachments the read found are planned
    assert outcome.result == {"skipped": "no text"}
    assert fakes.texts.records == {}
    assert sorted(j.key for j in outcome.new_jobs) == [
        attachment_key(CONV, MID, "a1"),
        attachment_key(CONV, MID, "i1"),
    ]


async def test_metadata_without_text_skips_the_read(tmp_path: Path) -> None:
    fakes = handler_context(tmp_path)
    payload = _topic_payload(**{NO_TEXT: True})
    outcome = await HANDLER(job(text_key(CONV, MID), JobKind.TEXT, payload), fakes.ctx)
    assert outcome.result == {"skipped": "no text (event metadata)"}
    assert fakes.genesys.calls == []


async def test_metadata_without_text_is_read_when_skipping_is_off(tmp_path: Path) -> None:
    fakes = handler_context(tmp_path, Settings(fetch={"skip_textless_reads": False}))
    fakes.genesys.messages[(CONV, MID)] = _message("there was text after all")
    payload = _topic_payload(**{NO_TEXT: True})
    await HANDLER(job(text_key(CONV, MID), JobKind.TEXT, payload), fakes.ctx)
    assert fakes.texts.records[text_key(CONV, MID)]["text"] == "there was text after all"


async def test_redaction_masks_the_text_before_the_sink(tmp_path: Path) -> None:
    fakes = handler_context(tmp_path, Settings(nlp={"redact": True}))
    payload = text_payload(TextMessage(CONV, MID, "mail me at jane@example.com"), META).to_dict()
    await HANDLER(job(text_key(CONV, MID), JobKind.TEXT, payload), fakes.ctx)
    text = fakes.texts.records[text_key(CONV, MID)]["text"]
    assert "jane@example.com" not in text
    assert text.startswith("mail me at ")
