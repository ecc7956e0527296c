"""ParsedEvent -> NewJobs with deterministic idempotency keys (``jobs.keys``) and typed
payloads (``jobs.payloads``).

- attachment of a wanted media type -> ATTACHMENT ``attachment:{conv}:{messageId}:{mediaId}``
- message text (message topics carry none) -> TEXT ``text:{conv}:{messageId}``
- detail activity with mediaType MESSAGE -> CONVERSATION ``conversation:{conv}``, reopen=True
- detail customer.end / acw with mediaType VOICE -> RECORDING ``recording:{conv}``,
  not_before = now + ``recording_delay_s`` (Genesys needs time to make the recording)
- final utterance of a transcription event -> TEXT
  ``transcript:{conv}:{communicationId}:{utteranceId}``

Message ids from message topics whose messages list no media produce nothing by
default: their texts are only available from the API, which a CONVERSATION job reads
(started by the detail events). ``MessageTopics.TEXTS_AND_CONVERSATIONS`` also plans a
CONVERSATION job for each conversation a message topic names, for orgs that only
stream message topics. Messages read from the API are planned by ``plan_message_jobs``
(``jobs.message_planning``): their texts are known, so no message-id planning.

Payloads carry ``event``: where the job came from (org, event id, correlation id, topic,
event and receive times), and ``speaker_facts``: who spoke, as far as the event says
(``identity.SpeakerFacts``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from media_bridge.fetch.urls import storable_event_url
from media_bridge.jobs.keys import (
    conversation_key,
    recording_key,
    text_key,
    transcript_key,
    utterance_key,
)
from media_bridge.jobs.media_types import is_wanted
from media_bridge.jobs.payloads import (
    AttachmentPayload,
    ConversationPayload,
    EventMeta,
    RecordingPayload,
    TextPayload,
    TranscriptPayload,
)
from media_bridge.types import AttachmentRef, JobKind, NewJob, ParsedEvent, TextMessage
from media_bridge.values import bcp47_case, parse_time

#: analytics ``mediaType`` of messaging conversations
MESSAGING_MEDIA_TYPES = frozenset({"MESSAGE"})
#: activities after which a call's recording is worth asking for
RECORDING_ACTIVITIES = frozenset({"customer.end", "acw"})


class MessageTopics(Enum):
    """What the message ids of a message topic plan."""

    #: a text job per message, its text read from the API (the default)
    TEXTS = "texts"
    #: also a CONVERSATION job per conversation named (for orgs that only stream
    #: message topics)
    TEXTS_AND_CONVERSATIONS = "texts_and_conversations"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def event_metadata(event: ParsedEvent, received_at: datetime) -> EventMeta:
    """A job payload's ``event``."""
    return EventMeta(
        org_id=event.org_id,
        event_id=event.event_id,
        correlation_id=event.correlation_id,
        topic=event.topic,
        event_time=_iso(event.event_time),
        received_at=_iso(received_at),
    )


def attachment_payload(
    ref: AttachmentRef, meta: EventMeta, consent_attribute: str | None = None
) -> AttachmentPayload:
    """An attachment as an event (or a message read) describes it; of its sender's
    participant data only the consent attribute's value is kept."""
    hint = (ref.attributes or {}).get(consent_attribute) if consent_attribute else None
    return AttachmentPayload(
        conversation_id=ref.conversation_id,
        message_id=ref.message_id,
        media_id=ref.media_id,
        media_type=ref.media_type,
        mime=ref.mime,
        name=ref.name,
        # only a plain Downloads link is ever used: signed and other URLs are not kept
        url=storable_event_url(ref.url),
        size=ref.size,
        sha256=ref.sha256,
        participant_id=ref.participant_id,
        participant_purpose=ref.participant_purpose,
        channel=ref.channel,
        message_time=_iso(ref.message_time),
        speaker_facts=ref.speaker,
        consent_hint=hint if isinstance(hint, str | bool | int) else None,
        event=meta,
    )


def text_payload(text: TextMessage, meta: EventMeta) -> TextPayload:
    """A message's text as an event (or a message read) gives it."""
    return TextPayload(
        conversation_id=text.conversation_id,
        message_id=text.message_id,
        text=text.text,
        participant_id=text.participant_id,
        participant_purpose=text.participant_purpose,
        channel=text.channel,
        direction=text.direction,
        message_time=_iso(text.message_time),
        speaker_facts=text.speaker,
        event=meta,
    )


def _message_text_jobs(event: ParsedEvent, meta: EventMeta) -> Iterator[NewJob]:
    """Message topics carry ids but no text: a text job per customer message reads it
    through the API (and marks the message as seen for the conversation path)."""
    known = {(t.conversation_id, t.message_id) for t in event.texts}
    by_message = {(a.conversation_id, a.message_id): a for a in event.attachments}
    for conversation_id, message_ids in event.message_ids.items():
        for message_id in message_ids:
            if (conversation_id, message_id) in known:
                continue
            ref = by_message.get((conversation_id, message_id))
            payload = TextPayload(
                conversation_id=conversation_id,
                message_id=message_id,
                text=None,  # not in the topic: read from the API
                # unless the metadata shows there is none (fetch.skip_textless_reads)
                no_text=message_id in event.textless_messages,
                participant_id=ref.participant_id if ref else None,
                participant_purpose=ref.participant_purpose if ref else "customer",
                channel=ref.channel if ref else None,
                direction="inbound",
                message_time=_iso(ref.message_time) if ref else None,
                speaker_facts=ref.speaker if ref else event.message_speakers.get(message_id),
                event=meta,
            )
            key = text_key(conversation_id, message_id)
            yield NewJob(key, JobKind.TEXT, payload.to_dict())


_SPEAKERS = {"EXTERNAL": "customer", "INTERNAL": "agent"}


def utterance_payloads(body: dict[str, Any], meta: EventMeta) -> list[TextPayload]:
    """Final utterances of one transcription event, normalised for the NLP side.

    Partials (``isFinal: false``) are skipped: the final one with the same
    ``utteranceId`` supersedes them. The first alternative is Genesys' best.
    """
    conversation_id = body.get("conversationId")
    communication_id = body.get("communicationId")
    if not isinstance(conversation_id, str) or not isinstance(communication_id, str):
        return []
    session_start = body.get("sessionStartTimeMs")
    payloads = []
    transcripts = body.get("transcripts")
    for item in transcripts if isinstance(transcripts, list) else []:
        if not isinstance(item, dict) or item.get("isFinal") is not True:
            continue
        utterance_id = item.get("utteranceId")
        alternatives = item.get("alternatives")
        if not isinstance(utterance_id, str) or not utterance_id:
            continue
        if not isinstance(alternatives, list) or not alternatives:
            continue
        best = alternatives[0] if isinstance(alternatives[0], dict) else {}
        text = best.get("transcript")
        if not isinstance(text, str) or not text.strip():
            continue
        offset_ms = best.get("offsetMs")
        start = (
            session_start + offset_ms
            if isinstance(session_start, int) and isinstance(offset_ms, int)
            else None
        )
        channel = str(item.get("channel") or "UNKNOWN").upper()
        payloads.append(
            TextPayload(
                conversation_id=conversation_id,
                communication_id=communication_id,
                utterance_id=utterance_id,
                organization_id=body.get("organizationId"),
                channel=channel,
                speaker=_SPEAKERS.get(channel, "unknown"),
                text=text,
                decorated_text=best.get("decoratedTranscript"),
                confidence=best.get("confidence"),
                offset_ms=offset_ms,
                duration_ms=best.get("durationMs"),
                start_time=_iso(parse_time(start)),
                language=bcp47_case(item.get("dialect") or item.get("language")),
                engine=item.get("engineName") or item.get("engineProvider"),
                engine_id=item.get("engineId"),
                program_id=body.get("speechTextAnalyticsProgramId"),
                event=meta,
            )
        )
    return payloads


def _content_jobs(
    event: ParsedEvent,
    wanted: frozenset[str] | None,
    meta: EventMeta,
    consent_attribute: str | None,
) -> Iterator[NewJob]:
    """The event's wanted attachments (``jobs.media_types``: the one filter) and its
    known texts."""
    for ref in event.attachments:
        if is_wanted(ref.media_type, wanted):
            payload = attachment_payload(ref, meta, consent_attribute)
            yield NewJob(ref.key, JobKind.ATTACHMENT, payload.to_dict())
    for text in event.texts:
        yield NewJob(text.key, JobKind.TEXT, text_payload(text, meta).to_dict())


def _activity_jobs(event: ParsedEvent, meta: EventMeta, not_before: datetime) -> Iterator[NewJob]:
    """A messaging activity watches its conversation (the last one of a conversation
    wins, ended once any of them ended it); a call's end asks for its recordings."""
    jobs: dict[str, NewJob] = {}
    for activity in event.activities:
        media = (activity.media_type or "").upper()
        conv = activity.conversation_id
        if media in MESSAGING_MEDIA_TYPES:
            key = conversation_key(conv)
            earlier = jobs.get(key)
            conversation = ConversationPayload(
                conversation_id=conv,
                media_type=media,
                message_type=activity.message_type,
                activity=activity.activity,
                ended=activity.ends_conversation or bool(earlier and earlier.payload["ended"]),
                participant_id=activity.participant_id,
                event=meta,
            )
            jobs[key] = NewJob(key, JobKind.CONVERSATION, conversation.to_dict(), reopen=True)
        elif media == "VOICE" and activity.activity in RECORDING_ACTIVITIES:
            recording = RecordingPayload(
                conversation_id=conv,
                media_type=media,
                activity=activity.activity,
                participant_id=activity.participant_id,
                session_id=activity.session_id,
                speaker_facts=activity.speaker,
                event=meta,
            )
            key = recording_key(conv)
            jobs.setdefault(key, NewJob(key, JobKind.RECORDING, recording.to_dict(), not_before))
    yield from jobs.values()


def _watch_jobs(event: ParsedEvent, meta: EventMeta) -> Iterator[NewJob]:
    """A CONVERSATION job per conversation a message topic names."""
    for conv in event.message_ids:
        payload = ConversationPayload(
            conversation_id=conv, media_type="MESSAGE", activity="message", event=meta
        )
        yield NewJob(conversation_key(conv), JobKind.CONVERSATION, payload.to_dict(), reopen=True)


def _transcription_jobs(
    event: ParsedEvent, meta: EventMeta, session_transcripts: bool
) -> Iterator[NewJob]:
    """Final utterances; with ``session_transcripts``, a ``SESSION_ENDED`` status plans
    the communication's TRANSCRIPT job (its speakers mapped by the handler)."""
    for body in event.transcriptions:
        for utterance in utterance_payloads(body, meta):
            assert utterance.communication_id is not None
            assert utterance.utterance_id is not None
            key = utterance_key(
                utterance.conversation_id, utterance.communication_id, utterance.utterance_id
            )
            yield NewJob(key, JobKind.TEXT, utterance.to_dict())
        status = body.get("status")
        t_conv, t_comm = body.get("conversationId"), body.get("communicationId")
        if (
            session_transcripts
            and isinstance(status, dict)
            and status.get("status") == "SESSION_ENDED"
            and isinstance(t_conv, str)
            and isinstance(t_comm, str)
            and t_comm
        ):
            # speakers None: mapped by the handler (a conversation read)
            payload = TranscriptPayload(t_conv, t_comm, event=meta, speakers=None)
            yield NewJob(transcript_key(t_conv, t_comm), JobKind.TRANSCRIPT, payload.to_dict())


def _first_of_each_key(jobs: Iterable[NewJob]) -> list[NewJob]:
    found: dict[str, NewJob] = {}
    for job in jobs:
        found.setdefault(job.key, job)
    return list(found.values())


def plan_jobs(
    event: ParsedEvent,
    wanted: frozenset[str] | None,
    *,
    received_at: datetime | None = None,
    recording_delay_s: float = 60.0,
    message_topics: MessageTopics = MessageTopics.TEXTS,
    now: datetime | None = None,
    consent_attribute: str | None = None,
    session_transcripts: bool = False,
) -> list[NewJob]:
    """Jobs for one event, each key once (the first occurrence wins). ``wanted`` is
    ``jobs.media_types.wanted_media_types`` of ``fetch.media_types`` (None: every type).

    ``session_transcripts``: a transcription event whose ``status.status`` is
    ``SESSION_ENDED`` plans the Speech & Text Analytics TRANSCRIPT job of its
    communication (key ``transcript:{conv}:{communicationId}``, as the recording
    handler plans it, so the ledger keeps one). Its ``speakers`` is None: the event
    names no one, so the transcript handler reads the conversation for the same
    speaker mapping the recording handler would have given it."""
    now = now or datetime.now(UTC)
    meta = event_metadata(event, received_at or now)
    not_before = now + timedelta(seconds=recording_delay_s)
    watch = message_topics is MessageTopics.TEXTS_AND_CONVERSATIONS
    return _first_of_each_key(
        [
            *_content_jobs(event, wanted, meta, consent_attribute),
            *_activity_jobs(event, meta, not_before),
            *_message_text_jobs(event, meta),
            *(_watch_jobs(event, meta) if watch else ()),
            *_transcription_jobs(event, meta, session_transcripts),
        ]
    )


def plan_message_jobs(
    event: ParsedEvent,
    wanted: frozenset[str] | None,
    consent_attribute: str | None = None,
    *,
    now: datetime | None = None,
) -> list[NewJob]:
    """Jobs for messages read from the API (``jobs.message_planning``): their attachments
    and texts, each key once. Their ``event`` is the read's, received now."""
    meta = event_metadata(event, now or datetime.now(UTC))
    return _first_of_each_key(_content_jobs(event, wanted, meta, consent_attribute))
