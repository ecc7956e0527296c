"""Typed job payloads: each kind round-trips, an unknown ``v`` is refused with its own
code, and every payload of the golden ledger (written by the code of 2026-12-03) reads
back into its type and out again as the very JSON stored."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from media_bridge.errors import BadInput, PayloadMalformed, PayloadVersionUnknown
from media_bridge.identity.facts import SpeakerFacts
from media_bridge.jobs import JobHandler
from media_bridge.jobs.backfill import FoundConversation, backfill_jobs
from media_bridge.jobs.call_planning import recording_file_job
from media_bridge.jobs.payloads import (
    EVENT_TRAIL,
    NO_TEXT,
    ORGANIZATION,
    PAYLOAD_VERSION,
    TEXT_PROVENANCE,
    AttachmentPayload,
    ConversationPayload,
    EventMeta,
    RecordingPayload,
    TextPayload,
    TranscriptPayload,
)
from media_bridge.jobs.planning import plan_message_jobs
from media_bridge.ledger import ledger_from_url
from media_bridge.types import AttachmentRef, JobKind, JobState, NewJob, ParsedEvent, TextMessage
from media_bridge.worker.handlers.attachment import handle_attachment
from media_bridge.worker.handlers.conversation import handle_conversation
from media_bridge.worker.handlers.recording import handle_recording
from media_bridge.worker.handlers.text import handle_text
from media_bridge.worker.handlers.transcript import handle_transcript
from media_bridge.worker.loop import Worker
from tests.unit.handlers.fakes import unused_context

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "ledger" / "v1" / "jobs.json"
Payload = (
    AttachmentPayload | TextPayload | ConversationPayload | RecordingPayload | TranscriptPayload
)
READERS: dict[JobKind, Callable[[Mapping[str, Any]], Payload]] = {
    JobKind.ATTACHMENT: AttachmentPayload.from_dict,
    JobKind.TEXT: TextPayload.from_dict,
    JobKind.CONVERSATION: ConversationPayload.from_dict,
    JobKind.RECORDING: RecordingPayload.from_dict,
    JobKind.TRANSCRIPT: TranscriptPayload.from_dict,
}
HANDLERS: dict[JobKind, JobHandler] = {
    JobKind.ATTACHMENT: handle_attachment,
    JobKind.TEXT: handle_text,
    JobKind.CONVERSATION: handle_conversation,
    JobKind.RECORDING: handle_recording,
    JobKind.TRANSCRIPT: handle_transcript,
}
EVENT = EventMeta(
    org_id="org",
    event_id="ev-1",
    correlation_id="corr",
    topic="v2.detail.events.conversation.c1.customer.end",
    event_time="2026-12-03T07:55:34.153000+00:00",
    received_at="2026-12-03T09:17:57.369227+00:00",
)
CUSTOMER = SpeakerFacts(participant_id="p1", address="tel:+447700900001", platform="voice")

#: one value of each kind and variant, every optional field set somewhere
EXAMPLES: list[Payload] = [
    AttachmentPayload(
        "c1",
        "m1",
        "a1",
        "Audio",
        EVENT.found("messaging_recording"),
        mime="audio/mpeg",
        name="n.mp3",
        url="https://api-downloads.mypurecloud.ie/api/v2/downloads/x",
        size=9586,
        sha256="ab" * 32,
        participant_id="p1",
        participant_purpose="customer",
        channel="WebMessaging",
        message_time="2026-12-03T07:26:39+00:00",
        speaker_facts=CUSTOMER,
        consent_hint=True,
    ),
    TextPayload("c1", EVENT, text="hi", message_id="m1", channel="WhatsApp", direction="inbound"),
    TextPayload("c1", EVENT, message_id="m2", no_text=True, speaker_facts=CUSTOMER),
    TextPayload(
        "c1",
        EVENT,
        text="card please",
        channel="EXTERNAL",
        communication_id="comm",
        utterance_id="u1",
        organization_id="org",
        speaker="customer",
        decorated_text="Card please.",
        confidence=0.75,
        offset_ms=2983,
        duration_ms=2230,
        start_time="2026-12-03T07:55:29.983000+00:00",
        language="en-US",
        engine="Genesys",
    ),
    ConversationPayload("c1", EVENT, message_type="WHATSAPP", activity="acw", ended=True),
    RecordingPayload(
        "c1",
        EVENT,
        media_type="VOICE",
        activity="customer.end",
        participant_id="p1",
        session_id="s1",
        speaker_facts=CUSTOMER,
    ),
    RecordingPayload(
        "c1",
        EventMeta.backfill(),
        media_type="VOICE",
        activity="backfill",
        analytics_call={"customer_participant_id": "p1", "speakers": {}},
    ),
    RecordingPayload(
        "c1",
        EVENT,
        recording_id="r1",
        call={"communication_id": "s1", "speakers": {"customer": CUSTOMER.to_payload()}},
        via="batch",
        listed={"id": "r1"},
        batch_fallback="below_min",
    ),
    TranscriptPayload("c1", "comm", EVENT, speakers={"agent": {"role": "agent"}}),
    TranscriptPayload("c1", "comm", EVENT, speakers=None),
]


@pytest.mark.parametrize("payload", EXAMPLES, ids=lambda p: type(p).__name__)
def test_each_kind_round_trips_through_its_json(payload: Payload) -> None:
    stored = json.loads(json.dumps(payload.to_dict()))  # as the ledger keeps it
    assert stored["v"] == PAYLOAD_VERSION
    assert type(payload).from_dict(stored) == payload


@pytest.mark.parametrize("kind", list(JobKind))
@pytest.mark.parametrize("version", [2, 0, None, "1", True])
def test_a_version_this_release_does_not_read_is_refused_for_good(
    kind: JobKind, version: object
) -> None:
    """Every release so far wrote ``v: 1``: anything else (a newer release, no ``v``
    at all) is refused with its own code, and not retried (a ``BadInput``)."""
    stored = next(p.to_dict() for p in EXAMPLES if _kind_of(p) is kind)
    if version is None:
        del stored["v"]
    else:
        stored["v"] = version
    with pytest.raises(PayloadVersionUnknown, match=f"v={version!r}") as caught:
        READERS[kind](stored)
    assert caught.value.code == "payload_version"
    assert isinstance(caught.value, BadInput)
    assert not caught.value.retryable


def test_a_payload_that_is_no_json_object_is_refused_as_of_no_version() -> None:
    with pytest.raises(PayloadVersionUnknown, match="v=None"):
        AttachmentPayload.from_dict(["not", "a", "payload"])  # type: ignore[arg-type]


#: the fields each kind cannot be read without (the ids of its key)
REQUIRED: list[tuple[JobKind, str]] = [
    (JobKind.ATTACHMENT, "conversation_id"),
    (JobKind.ATTACHMENT, "message_id"),
    (JobKind.ATTACHMENT, "media_id"),
    (JobKind.ATTACHMENT, "media_type"),
    (JobKind.TEXT, "conversation_id"),
    (JobKind.CONVERSATION, "conversation_id"),
    (JobKind.RECORDING, "conversation_id"),
    (JobKind.TRANSCRIPT, "conversation_id"),
    (JobKind.TRANSCRIPT, "communication_id"),
]


def _stored(kind: JobKind) -> dict[str, Any]:
    return next(p.to_dict() for p in EXAMPLES if _kind_of(p) is kind)


@pytest.mark.parametrize(("kind", "field"), REQUIRED, ids=lambda v: str(v))
@pytest.mark.parametrize("damage", ["missing", "null", "number"])
def test_a_missing_or_mistyped_id_is_refused_for_good_naming_kind_and_field(
    kind: JobKind, field: str, damage: str
) -> None:
    """Not a ``KeyError`` (retried as ``Unexpected``) nor ``str(None)`` as an id: the
    same JSON fails the same way, so the job is refused with its own code at once."""
    stored = _stored(kind)
    if damage == "missing":
        del stored[field]
    else:
        stored[field] = None if damage == "null" else 42
    with pytest.raises(PayloadMalformed) as caught:
        READERS[kind](stored)
    error = caught.value
    assert (error.code, error.kind, error.field) == ("payload_malformed", kind.value, field)
    assert str(error).startswith(f"{kind.value} payload: {field} ")
    assert isinstance(error, BadInput)
    assert not error.retryable


@pytest.mark.parametrize("size", ["9586 bytes", [9586], {"n": 1}])
def test_an_attachment_size_that_is_no_number_is_refused_naming_it(size: object) -> None:
    stored = {**_stored(JobKind.ATTACHMENT), "size": size}
    with pytest.raises(PayloadMalformed, match=r"^attachment payload: size is ") as caught:
        AttachmentPayload.from_dict(stored)
    assert (caught.value.code, caught.value.field) == ("payload_malformed", "size")


def test_a_size_reads_as_int_reads_it_as_before() -> None:
    """What read before still reads the same: a numeric string, a null."""
    stored = _stored(JobKind.ATTACHMENT)
    assert AttachmentPayload.from_dict({**stored, "size": "9586"}).size == 9586
    assert AttachmentPayload.from_dict({**stored, "size": None}).size is None


def test_every_golden_payload_reads_into_its_type_and_back_as_stored() -> None:
    jobs = json.loads(GOLDEN.read_text())["jobs"]
    assert {JobKind(j["kind"]) for j in jobs} == set(JobKind)
    for job in jobs:
        typed = READERS[JobKind(job["kind"])](job["payload"])
        assert typed.to_dict() == job["payload"], job["key"]


def test_a_variant_writes_only_its_own_fields() -> None:
    """A message text read from the API never had ``_no_text``; an utterance has no
    message fields; backfill's event has three keys, and its recording job no event
    participant (the JSON today's ledgers hold)."""
    api_text = TextPayload("c1", EVENT, text="hi", message_id="m1").to_dict()
    assert NO_TEXT not in api_text
    assert TextPayload("c1", EVENT, message_id="m1", no_text=False).to_dict()[NO_TEXT] is False
    utterance = next(p for p in EXAMPLES if isinstance(p, TextPayload) and p.is_utterance)
    assert "message_id" not in utterance.to_dict()
    found = FoundConversation("c9", "voice", "2026-12-01T00:00:00Z", None)
    (job,) = backfill_jobs([found], messaging_recordings=False)
    assert job.payload == {
        "v": 1,
        "conversation_id": "c9",
        "event": {"org_id": None, "event_id": "backfill", "topic": "backfill"},
        "media_type": "VOICE",
        "activity": "backfill",
    }


def test_the_text_record_leaves_out_provenance_and_speaker_facts() -> None:
    """The NLP record carries the speaker's key, never the facts; ``_`` fields stay in the
    ledger."""
    record = TextPayload(
        "c1", EVENT, message_id="m2", no_text=True, speaker_facts=CUSTOMER
    ).record()
    assert set(record) == {
        "v",
        "conversation_id",
        "message_id",
        "text",
        "participant_id",
        "participant_purpose",
        "channel",
        "direction",
        "message_time",
    }


def test_provenance_is_the_event_under_its_delivery_names_in_the_order_asked() -> None:
    """The one mapping of ``event`` to delivery fields: ``org_id`` is delivered as
    ``organization_id``; media metadata writes the organisation and the trail apart, an
    NLP record the organisation and the event id only (the outputs of 2026-12-03)."""
    assert list(EVENT.provenance((*EVENT_TRAIL, *ORGANIZATION)).items()) == [
        ("event_id", "ev-1"),
        ("correlation_id", "corr"),
        ("event_time", "2026-12-03T07:55:34.153000+00:00"),
        ("received_at", "2026-12-03T09:17:57.369227+00:00"),
        ("organization_id", "org"),
    ]
    assert EVENT.provenance(TEXT_PROVENANCE) == {"organization_id": "org", "event_id": "ev-1"}
    assert EventMeta.backfill().provenance(ORGANIZATION) == {"organization_id": None}


def test_an_organisation_the_document_names_is_preferred_to_the_events() -> None:
    """A transcript document's ``organizationId`` wins; absent, the event's is delivered."""
    assert EVENT.provenance(TEXT_PROVENANCE, organization_id="doc-org") == {
        "organization_id": "doc-org",
        "event_id": "ev-1",
    }
    assert EVENT.provenance(TEXT_PROVENANCE, organization_id=None)["organization_id"] == "org"
    assert EVENT.provenance(EVENT_TRAIL, organization_id="doc-org") == EVENT.provenance(EVENT_TRAIL)


def test_messages_read_from_the_api_plan_with_their_read_as_the_event() -> None:
    """As before the move: the jobs' ``event`` is the read's, received when planned."""
    now = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    ref = AttachmentRef("c1", "m1", "a1", "Audio")
    event = ParsedEvent(
        "ev-1",
        "api.conversations.messages",
        org_id="org",
        attachments=[ref],
        texts=[TextMessage("c1", "m1", "hi")],
    )
    jobs = plan_message_jobs(event, None, now=now)
    assert [j.kind for j in jobs] == [JobKind.ATTACHMENT, JobKind.TEXT]
    for job in jobs:
        assert job.payload["event"] == {
            "org_id": "org",
            "event_id": "ev-1",
            "correlation_id": None,
            "topic": "api.conversations.messages",
            "event_time": None,
            "received_at": now.isoformat(),
        }


def _kind_of(payload: Payload) -> JobKind:
    kinds: dict[type[Any], JobKind] = {
        AttachmentPayload: JobKind.ATTACHMENT,
        TextPayload: JobKind.TEXT,
        ConversationPayload: JobKind.CONVERSATION,
        RecordingPayload: JobKind.RECORDING,
        TranscriptPayload: JobKind.TRANSCRIPT,
    }
    return kinds[type(payload)]


async def test_a_job_of_an_unknown_version_goes_dead_with_its_code() -> None:
    """Through the real handlers: each refuses before it reads anything else, so the
    worker records the job dead with ``payload_version`` and says why."""
    ledger = ledger_from_url("sqlite:///:memory:")
    await ledger.open()
    try:
        newer = [
            NewJob(f"{_kind_of(p)}:{i}", _kind_of(p), {**p.to_dict(), "v": 2})
            for i, p in enumerate(EXAMPLES)
        ]
        await ledger.add_jobs(newer)
        worker = Worker(ledger, HANDLERS, unused_context(), worker_id="w", concurrency=1)
        await worker.run(until_idle=True)
        for planned in newer:
            job = await ledger.get(planned.key)
            assert job is not None
            assert (job.state, job.error_code) == (JobState.DEAD, "payload_version"), job.key
            assert "v=2" in str(job.last_error)
    finally:
        await ledger.close()


async def test_a_malformed_job_goes_dead_at_once_with_its_code() -> None:
    """Through the real handlers: a job without its conversation id, and an attachment
    whose size is no number, are dead after one attempt, the message naming the field."""
    ledger = ledger_from_url("sqlite:///:memory:")
    await ledger.open()
    try:
        broken: list[tuple[NewJob, str]] = []
        for i, payload in enumerate(EXAMPLES):
            stored = payload.to_dict()
            del stored["conversation_id"]
            broken.append((NewJob(f"{_kind_of(payload)}:{i}", _kind_of(payload), stored), ""))
        sized = {**_stored(JobKind.ATTACHMENT), "size": "big"}
        broken.append((NewJob("attachment:sized", JobKind.ATTACHMENT, sized), "size"))
        await ledger.add_jobs([job for job, _ in broken])
        worker = Worker(ledger, HANDLERS, unused_context(), worker_id="w", concurrency=1)
        await worker.run(until_idle=True)
        for planned, field in broken:
            job = await ledger.get(planned.key)
            assert job is not None
            assert (job.state, job.error_code, job.attempts) == (
                JobState.DEAD,
                "payload_malformed",
                1,
            ), job.key
            assert f"payload: {field or 'conversation_id'} " in str(job.last_error), job.key
    finally:
        await ledger.close()


def test_a_recording_job_is_marked_for_the_batch_only_when_served_by_one() -> None:
    """As the recording handler wrote them: a listed recording carries no batch fields;
    one the batch found (no listing) carries ``via`` and an empty ``listed``."""
    call = {"communication_id": "s1"}
    read = recording_file_job("c1", "r1", call, EVENT).payload
    assert set(read) == {"v", "conversation_id", "recording_id", "call", "event"}
    batched = recording_file_job("c1", "r1", call, EVENT, batch_listing={}).payload
    assert (batched["via"], batched["listed"]) == ("batch", {})
    assert "batch_fallback" not in batched
