"""ParsedEvent -> NewJobs with deterministic idempotency keys.

- attachment of a wanted media type -> ATTACHMENT ``attachment:{conv}:{messageId}:{mediaId}``
- message text (message topics carry none) -> TEXT ``text:{conv}:{messageId}``
- detail activity with mediaType MESSAGE -> CONVERSATION ``conversation:{conv}``, reopen=True
- detail customer.end / acw with mediaType VOICE -> RECORDING ``recording:{conv}``,
  not_before = now + ``recording_delay_s`` (Genesys needs time to make the recording)
- final utterance of a transcription event -> TEXT
  ``transcript:{conv}:{communicationId}:{utteranceId}``

Message ids from message topics whose messages list no media produce nothing by
default: their texts are only available from the API, which a CONVERSATION job reads
(started by the detail events). ``watch_message_conversations=True`` also plans a
CONVERSATION job for each conversation a message topic names, for orgs that only
stream message topics.

Payloads are JSON-ready (datetimes as ISO 8601) and carry ``event``: where the job
came from (org, event id, correlation id, topic, event and receive times), and
``speaker_facts``: who spoke, as far as the event says (``identity.SpeakerFacts``).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from media_bridge.events.values import bcp47_case, parse_time
from media_bridge.fetch.urls import storable_event_url
from media_bridge.identity.facts import SpeakerFacts
from media_bridge.jobs.keys import (
    conversation_key,
    recording_key,
    text_key,
    transcript_key,
    utterance_key,
)
from media_bridge.media_types import is_wanted
from media_bridge.types import AttachmentRef, JobKind, NewJob, ParsedEvent, TextMessage

PAYLOAD_VERSION = 1
#: analytics ``mediaType`` of messaging conversations
MESSAGING_MEDIA_TYPES = frozenset({"MESSAGE"})
#: activities after which a call's recording is worth asking for
RECORDING_ACTIVITIES = frozenset({"customer.end", "acw"})


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def event_metadata(event: ParsedEvent, received_at: datetime) -> dict[str, Any]:
    """A job payload's ``event``. Its ``org_id`` is a stored key (ledger payloads, the
    golden ledger); deliveries carry the same value as ``organization_id``."""
    return {
        "org_id": event.org_id,
        "event_id": event.event_id,
        "correlation_id": event.correlation_id,
        "topic": event.topic,
        "event_time": _iso(event.event_time),
        "received_at": _iso(received_at),
    }


#: the payload field of ``SpeakerFacts`` (``speaker`` is a transcript line's role string)
SPEAKER_FACTS = "speaker_facts"


def speaker_facts(payload: dict[str, Any], field: str = SPEAKER_FACTS) -> SpeakerFacts | None:
    return SpeakerFacts.from_payload(payload.get(field))


def _facts(speaker: SpeakerFacts | None) -> dict[str, Any] | None:
    return speaker.to_payload() if speaker is not None else None


#: the text-job payload field saying the event's ``messageMetadata`` shows no text
NO_TEXT = "_no_text"

#: the payload field with the consent attribute's value as the planning event showed it
CONSENT_HINT = "consent_hint"


def attachment_payload(
    ref: AttachmentRef, meta: dict[str, Any], consent_attribute: str | None = None
) -> dict[str, Any]:
    hint = (ref.attributes or {}).get(consent_attribute) if consent_attribute else None
    return {
        "v": PAYLOAD_VERSION,
        "conversation_id": ref.conversation_id,
        "message_id": ref.message_id,
        "media_id": ref.media_id,
        "media_type": ref.media_type,
        "mime": ref.mime,
        "name": ref.name,
        # only a plain Downloads link is ever used: signed and other URLs are not kept
        "url": storable_event_url(ref.url),
        "size": ref.size,
        "sha256": ref.sha256,
        "participant_id": ref.participant_id,
        "participant_purpose": ref.participant_purpose,
        "channel": ref.channel,
        "message_time": _iso(ref.message_time),
        SPEAKER_FACTS: _facts(ref.speaker),
        CONSENT_HINT: hint if isinstance(hint, str | bool | int) else None,
        "event": meta,
    }


def payload_to_attachment(payload: dict[str, Any]) -> AttachmentRef:
    """The inverse of ``attachment_payload`` (the event metadata is not part of the ref)."""
    size = payload.get("size")
    return AttachmentRef(
        conversation_id=payload["conversation_id"],
        message_id=payload["message_id"],
        media_id=payload["media_id"],
        media_type=payload["media_type"],
        mime=payload.get("mime"),
        name=payload.get("name"),
        url=payload.get("url"),
        size=int(size) if size is not None else None,
        sha256=payload.get("sha256"),
        participant_id=payload.get("participant_id"),
        participant_purpose=payload.get("participant_purpose"),
        channel=payload.get("channel"),
        message_time=parse_time(payload.get("message_time")),
        speaker=speaker_facts(payload),
    )


def _message_text_jobs(event: ParsedEvent, meta: dict[str, Any]) -> list[NewJob]:
    known = {(t.conversation_id, t.message_id) for t in event.texts}
    by_message = {(a.conversation_id, a.message_id): a for a in event.attachments}
    jobs: list[NewJob] = []
    for conversation_id, message_ids in event.message_ids.items():
        for message_id in message_ids:
            if (conversation_id, message_id) in known:
                continue
            ref = by_message.get((conversation_id, message_id))
            payload = {
                "v": PAYLOAD_VERSION,
                "conversation_id": conversation_id,
                "message_id": message_id,
                "text": None,  # not in the topic: read from the API
                # unless the metadata shows there is none (fetch.skip_textless_reads)
                NO_TEXT: message_id in event.textless_messages,
                "participant_id": ref.participant_id if ref else None,
                "participant_purpose": ref.participant_purpose if ref else "customer",
                "channel": ref.channel if ref else None,
                "direction": "inbound",
                "message_time": _iso(ref.message_time) if ref else None,
                SPEAKER_FACTS: _facts(
                    ref.speaker if ref else event.message_speakers.get(message_id)
                ),
                "event": meta,
            }
            jobs.append(NewJob(text_key(conversation_id, message_id), JobKind.TEXT, payload))
    return jobs


def text_payload(text: TextMessage, meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "v": PAYLOAD_VERSION,
        "conversation_id": text.conversation_id,
        "message_id": text.message_id,
        "text": text.text,
        "participant_id": text.participant_id,
        "participant_purpose": text.participant_purpose,
        "channel": text.channel,
        "direction": text.direction,
        "message_time": _iso(text.message_time),
        SPEAKER_FACTS: _facts(text.speaker),
        "event": meta,
    }


_SPEAKERS = {"EXTERNAL": "customer", "INTERNAL": "agent"}


def utterance_records(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Final utterances of one transcription event, normalised for the NLP side.

    Partials (``isFinal: false``) are skipped: the final one with the same
    ``utteranceId`` supersedes them. The first alternative is Genesys' best.
    """
    conversation_id = body.get("conversationId")
    communication_id = body.get("communicationId")
    if not isinstance(conversation_id, str) or not isinstance(communication_id, str):
        return []
    session_start = body.get("sessionStartTimeMs")
    records = []
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
        records.append(
            {
                "v": PAYLOAD_VERSION,
                "conversation_id": conversation_id,
                "communication_id": communication_id,
                "utterance_id": utterance_id,
                "organization_id": body.get("organizationId"),
                "channel": channel,
                "speaker": _SPEAKERS.get(channel, "unknown"),
                "text": text,
                "decorated_text": best.get("decoratedTranscript"),
                "confidence": best.get("confidence"),
                "offset_ms": offset_ms,
                "duration_ms": best.get("durationMs"),
                "start_time": _iso(parse_time(start)),
                "language": bcp47_case(item.get("dialect") or item.get("language")),
                "engine": item.get("engineName") or item.get("engineProvider"),
                "engine_id": item.get("engineId"),
                "program_id": body.get("speechTextAnalyticsProgramId"),
            }
        )
    return records


def plan_jobs(
    event: ParsedEvent,
    media_types: Collection[str] | None,
    *,
    received_at: datetime | None = None,
    recording_delay_s: float = 60.0,
    watch_message_conversations: bool = False,
    message_texts: bool = True,
    now: datetime | None = None,
    consent_attribute: str | None = None,
    session_transcripts: bool = False,
) -> list[NewJob]:
    """Jobs for one event, each key once (the first occurrence wins).

    ``session_transcripts``: a transcription event whose ``status.status`` is
    ``SESSION_ENDED`` plans the Speech & Text Analytics TRANSCRIPT job of its
    communication (key ``transcript:{conv}:{communicationId}``, as the recording
    handler plans it, so the ledger keeps one). Its ``speakers`` is None: the event
    names no one, so the transcript handler reads the conversation for the same
    speaker mapping the recording handler would have given it."""
    now = now or datetime.now(UTC)
    meta = event_metadata(event, received_at or now)
    wanted = None if media_types is None else frozenset(t.lower() for t in media_types)
    jobs: dict[str, NewJob] = {}

    def add(job: NewJob) -> None:
        jobs.setdefault(job.key, job)

    for ref in event.attachments:
        if is_wanted(ref.media_type, wanted):
            payload = attachment_payload(ref, meta, consent_attribute)
            add(NewJob(ref.key, JobKind.ATTACHMENT, payload))
    for text in event.texts:
        add(NewJob(text.key, JobKind.TEXT, text_payload(text, meta)))
    for activity in event.activities:
        media = (activity.media_type or "").upper()
        conv = activity.conversation_id
        if media in MESSAGING_MEDIA_TYPES:
            existing = jobs.get(conversation_key(conv))
            ended = activity.ends_conversation or bool(existing and existing.payload["ended"])
            jobs[conversation_key(conv)] = NewJob(
                conversation_key(conv),
                JobKind.CONVERSATION,
                {
                    "v": PAYLOAD_VERSION,
                    "conversation_id": conv,
                    "media_type": media,
                    "message_type": activity.message_type,
                    "activity": activity.activity,
                    "ended": ended,
                    "participant_id": activity.participant_id,
                    "event": meta,
                },
                reopen=True,
            )
        elif media == "VOICE" and activity.activity in RECORDING_ACTIVITIES:
            add(
                NewJob(
                    recording_key(conv),
                    JobKind.RECORDING,
                    {
                        "v": PAYLOAD_VERSION,
                        "conversation_id": conv,
                        "media_type": media,
                        "activity": activity.activity,
                        "participant_id": activity.participant_id,
                        "session_id": activity.session_id,
                        SPEAKER_FACTS: _facts(activity.speaker),
                        "event": meta,
                    },
                    not_before=now + timedelta(seconds=recording_delay_s),
                )
            )
    if message_texts:
        # message topics carry ids but no text: a text job per customer message reads
        # it through the API (and marks the message as seen for the conversation path)
        for job in _message_text_jobs(event, meta):
            add(job)
    if watch_message_conversations:
        for conv in event.message_ids:
            add(
                NewJob(
                    conversation_key(conv),
                    JobKind.CONVERSATION,
                    {
                        "v": PAYLOAD_VERSION,
                        "conversation_id": conv,
                        "media_type": "MESSAGE",
                        "message_type": None,
                        "activity": "message",
                        "ended": False,
                        "participant_id": None,
                        "event": meta,
                    },
                    reopen=True,
                )
            )
    for body in event.transcriptions:
        for record in utterance_records(body):
            key = utterance_key(
                record["conversation_id"], record["communication_id"], record["utterance_id"]
            )
            add(NewJob(key, JobKind.TEXT, {**record, "event": meta}))
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
            payload = {
                "v": PAYLOAD_VERSION,
                "conversation_id": t_conv,
                "communication_id": t_comm,
                "speakers": None,  # mapped by the handler (a conversation read)
                "event": meta,
            }
            add(NewJob(transcript_key(t_conv, t_comm), JobKind.TRANSCRIPT, payload))
    return list(jobs.values())
