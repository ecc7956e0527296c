"""Planning jobs from parsed events: kinds, keys, filters, payload round trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from media_bridge.intake.events import parse_event
from media_bridge.intake.events.message_topic import shows_no_text
from media_bridge.jobs.media_types import wanted_media_types
from media_bridge.jobs.payloads import NO_TEXT, AttachmentPayload, EventMeta
from media_bridge.jobs.planning import (
    MessageTopics,
    attachment_payload,
    plan_jobs,
    plan_message_jobs,
)
from media_bridge.types import ConversationActivity, JobKind, ParsedEvent

FIXTURES = Path(__file__).parents[2] / "fixtures" / "events"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def event(name: str) -> ParsedEvent:
    return parse_event((FIXTURES / name).read_bytes())


def test_attachments_filtered_by_media_type_and_payload_round_trips() -> None:
    parsed = event("message_queue_voice_note.json")
    planned = plan_jobs(parsed, wanted_media_types(["Audio"]), now=NOW)
    audio_only = [j for j in planned if j.kind is JobKind.ATTACHMENT]
    (job,) = audio_only
    assert job.key == parsed.attachments[0].key
    assert AttachmentPayload.from_dict(job.payload).to_ref() == parsed.attachments[0]
    json.dumps(job.payload)  # JSON-ready
    assert job.payload["event"]["event_id"] == parsed.event_id
    assert job.payload["event"]["org_id"] == parsed.org_id
    assert job.payload["event"]["received_at"] == NOW.isoformat()
    everything = plan_jobs(parsed, None, now=NOW)
    attachments = [j for j in everything if j.kind is JobKind.ATTACHMENT]
    assert {j.payload["media_type"] for j in attachments} == {"Audio", "Image"}
    assert plan_jobs(parsed, wanted_media_types(["audio", "image"]), now=NOW) == everything


def test_every_customer_message_id_gets_a_text_job_that_reads_the_api() -> None:
    parsed = event("message_queue_voice_note.json")
    texts = [j for j in plan_jobs(parsed, frozenset(), now=NOW) if j.kind is JobKind.TEXT]
    ids = [(c, m) for c, ms in parsed.message_ids.items() for m in ms]
    assert ids
    assert [j.key for j in texts] == [f"text:{c}:{m}" for c, m in ids]
    assert all(j.payload["text"] is None for j in texts)
    assert plan_message_jobs(parsed, frozenset(), now=NOW) == []


def test_message_ids_without_media_plan_nothing_unless_watching() -> None:
    parsed = event("message_queue_voice_note.json")
    assert all(j.kind is not JobKind.CONVERSATION for j in plan_jobs(parsed, None, now=NOW))
    watched = plan_jobs(
        parsed, frozenset(), message_topics=MessageTopics.TEXTS_AND_CONVERSATIONS, now=NOW
    )
    (conv,) = [j for j in watched if j.kind is JobKind.CONVERSATION]
    assert conv.kind is JobKind.CONVERSATION
    assert conv.reopen is True


def test_messaging_activities_watch_the_conversation() -> None:
    start = plan_jobs(event("detail_customer_start_message.json"), None, now=NOW)
    end = plan_jobs(event("detail_customer_end_message.json"), None, now=NOW)
    for jobs, ended in ((start, False), (end, True)):
        (job,) = jobs
        assert job.kind is JobKind.CONVERSATION
        assert job.key == "conversation:2f7bf00a-0fc2-4d6a-9b56-92238191433e"
        assert job.reopen is True
        assert job.payload["ended"] is ended
        assert job.payload["message_type"] == "WHATSAPP"


def test_voice_end_plans_a_delayed_recording_job_and_start_nothing() -> None:
    for name in ("detail_customer_end_voice.json", "detail_acw_voice.json"):
        (job,) = plan_jobs(event(name), None, now=NOW, recording_delay_s=90)
        assert job.kind is JobKind.RECORDING
        assert job.key == "recording:4f9b2c3d-5e6f-4a70-9b8c-7d6e5f4a3b2c"
        assert job.not_before == NOW + timedelta(seconds=90)
    voice_start = ParsedEvent(
        event_id="e",
        topic="t",
        activities=[ConversationActivity("c", "customer.start", media_type="VOICE")],
    )
    assert plan_jobs(voice_start, None, now=NOW) == []


def test_final_utterances_become_text_jobs() -> None:
    jobs = plan_jobs(event("transcription.json"), None, now=NOW)
    conv, comm = "4f9b2c3d-5e6f-4a70-9b8c-7d6e5f4a3b2c", "1b2c3d4e-5f6a-4b8c-9d0e-1f2a3b4c5d6e"
    assert [j.key for j in jobs] == [
        f"transcript:{conv}:{comm}:u-0001",
        f"transcript:{conv}:{comm}:u-0003",
    ]
    first = jobs[0].payload
    assert first["speaker"] == "customer"
    assert first["text"] == "hi I would like to check my balance"
    assert first["start_time"] == datetime.fromtimestamp(1795514001.2, tz=UTC).isoformat()
    assert jobs[1].payload["speaker"] == "agent"
    assert all(j.kind is JobKind.TEXT for j in jobs)


def test_duplicate_attachments_in_one_event_give_one_job() -> None:
    parsed = event("message_queue_voice_note.json")
    parsed.attachments.append(parsed.attachments[0])
    jobs = plan_jobs(parsed, None, now=NOW)
    keys = [j.key for j in jobs]
    assert len(keys) == len(set(keys))
    assert sum(j.kind is JobKind.ATTACHMENT for j in jobs) == 2


def test_text_jobs_of_messages_whose_metadata_shows_no_text_are_marked() -> None:
    parsed = event("message_queue_voice_note.json")
    (conversation_id, ids), *_ = parsed.message_ids.items()
    parsed.textless_messages = {ids[0]}
    texts = {j.key: j for j in plan_jobs(parsed, frozenset(), now=NOW) if j.kind is JobKind.TEXT}
    assert texts[f"text:{conversation_id}:{ids[0]}"].payload[NO_TEXT] is True
    assert all(not j.payload[NO_TEXT] for k, j in texts.items() if not k.endswith(ids[0]))


def test_shows_no_text_only_for_attachments_all_listed_in_media() -> None:
    audio = {"contentType": "Attachment", "subType": "Audio"}
    assert shows_no_text({"type": "Text", "content": [audio]}, 1)
    assert shows_no_text({"type": "Text", "content": [audio, audio]}, 2)
    # media[] (deprecated) short of the attachments: the read must find them
    assert not shows_no_text({"type": "Text", "content": [audio, audio]}, 1)
    assert not shows_no_text({"type": "Text", "content": [{"contentType": "Text"}, audio]}, 1)
    # another content type may carry text (a button response, a quick reply)
    assert not shows_no_text({"content": [{"contentType": "ButtonResponse"}, audio]}, 1)
    assert not shows_no_text({"type": "Text", "content": []}, 0)
    assert not shows_no_text({"type": "Text"}, 0)
    assert not shows_no_text(None, 1)


def test_only_a_plain_downloads_link_of_an_event_is_stored() -> None:
    """Signed and other event URLs are never used (fetch.urls.event_download_link), so a
    job payload never keeps one: fresh URLs come from the API."""
    import dataclasses

    ref = event("message_queue_voice_note.json").attachments[0]
    link = "https://api-downloads.mypurecloud.ie/api/v2/downloads/0a1b2c3d4e5f"
    for url, stored in (
        (link, link),
        ("https://bucket.s3.amazonaws.com/a.jpg?X-Amz-Signature=secret&X-Amz-Expires=60", None),
        (link + "?issueRedirect=false", None),
        ("https://api.mypurecloud.ie/api/v2/conversations/messages/m", None),
        ("https://user:pw@api-downloads.mypurecloud.ie/api/v2/downloads/x", None),
        ("http://evil\\@api.mypurecloud.ie/api/v2/downloads/x", None),
        ("not a url", None),
        (None, None),
    ):
        payload = attachment_payload(dataclasses.replace(ref, url=url), EventMeta()).to_dict()
        assert payload["url"] == stored, url
        assert "secret" not in json.dumps(payload)
