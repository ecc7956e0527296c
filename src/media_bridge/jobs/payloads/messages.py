"""The payloads of a messaging conversation's jobs: attachment, text, conversation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from media_bridge.identity.facts import SpeakerFacts
from media_bridge.jobs.payloads.common import (
    CONSENT_HINT,
    NO_TEXT,
    PAYLOAD_VERSION,
    SPEAKER_FACTS,
    EventMeta,
    check_version,
    facts_json,
    opt_int,
    opt_str,
    required_str,
)
from media_bridge.types import AttachmentRef
from media_bridge.values import parse_time


@dataclass(frozen=True, slots=True)
class AttachmentPayload:
    """One media attachment of one message; ``url`` is only ever a plain Downloads link
    (``fetch.urls.storable_event_url``): signed and other URLs are not kept."""

    conversation_id: str
    message_id: str
    media_id: str
    media_type: str
    event: EventMeta
    mime: str | None = None
    name: str | None = None
    url: str | None = None
    size: int | None = None
    sha256: str | None = None
    participant_id: str | None = None
    participant_purpose: str | None = None
    channel: str | None = None
    message_time: str | None = None
    speaker_facts: SpeakerFacts | None = None
    #: the consent attribute's value as the planning event showed it
    consent_hint: str | bool | int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": PAYLOAD_VERSION,
            "conversation_id": self.conversation_id,
            "message_id": self.message_id,
            "media_id": self.media_id,
            "media_type": self.media_type,
            "mime": self.mime,
            "name": self.name,
            "url": self.url,
            "size": self.size,
            "sha256": self.sha256,
            "participant_id": self.participant_id,
            "participant_purpose": self.participant_purpose,
            "channel": self.channel,
            "message_time": self.message_time,
            SPEAKER_FACTS: facts_json(self.speaker_facts),
            CONSENT_HINT: self.consent_hint,
            "event": self.event.to_dict(),
        }

    def to_ref(self) -> AttachmentRef:
        """The attachment it names (the event metadata and the hint are not part of it)."""
        return AttachmentRef(
            conversation_id=self.conversation_id,
            message_id=self.message_id,
            media_id=self.media_id,
            media_type=self.media_type,
            mime=self.mime,
            name=self.name,
            url=self.url,
            size=self.size,
            sha256=self.sha256,
            participant_id=self.participant_id,
            participant_purpose=self.participant_purpose,
            channel=self.channel,
            message_time=parse_time(self.message_time),
            speaker=self.speaker_facts,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AttachmentPayload:
        kind = "attachment"
        check_version(data, kind)
        hint = data.get(CONSENT_HINT)
        return cls(
            conversation_id=required_str(data, "conversation_id", kind),
            message_id=required_str(data, "message_id", kind),
            media_id=required_str(data, "media_id", kind),
            media_type=required_str(data, "media_type", kind),
            event=EventMeta.from_dict(data.get("event")),
            mime=opt_str(data.get("mime")),
            name=opt_str(data.get("name")),
            url=opt_str(data.get("url")),
            size=opt_int(data, "size", kind),
            sha256=opt_str(data.get("sha256")),
            participant_id=opt_str(data.get("participant_id")),
            participant_purpose=opt_str(data.get("participant_purpose")),
            channel=opt_str(data.get("channel")),
            message_time=opt_str(data.get("message_time")),
            speaker_facts=SpeakerFacts.from_payload(data.get(SPEAKER_FACTS)),
            consent_hint=hint if isinstance(hint, str | bool | int) else None,
        )


#: a message text job's keys, and a transcription utterance's (``TextPayload``)
_MESSAGE_TEXT_FIELDS = (
    "conversation_id",
    "message_id",
    "text",
    NO_TEXT,
    "participant_id",
    "participant_purpose",
    "channel",
    "direction",
    "message_time",
    SPEAKER_FACTS,
)
_UTTERANCE_FIELDS = (
    "conversation_id",
    "communication_id",
    "utterance_id",
    "organization_id",
    "channel",
    "speaker",
    "text",
    "decorated_text",
    "confidence",
    "offset_ms",
    "duration_ms",
    "start_time",
    "language",
    "engine",
    "engine_id",
    "program_id",
)
_ATTRIBUTES = {NO_TEXT: "no_text", SPEAKER_FACTS: "speaker_facts"}


@dataclass(frozen=True, slots=True)
class TextPayload:
    """A text for the NLP side, one type for both variants of ``JobKind.TEXT``:

    - a message's text (``message_id`` set): ``text`` None when the topic carried none
      (read from the API), ``no_text`` when the event's metadata shows there is none
      (None: not known, the key is not written, as for texts read from the API);
    - a transcription utterance (``utterance_id`` set): the utterance fields.

    ``to_dict`` writes the fields of its variant only (the NLP record is made of them)."""

    conversation_id: str
    event: EventMeta
    text: str | None = None
    channel: str | None = None
    # a message's text
    message_id: str | None = None
    no_text: bool | None = None
    participant_id: str | None = None
    participant_purpose: str | None = None
    direction: str | None = None
    message_time: str | None = None
    speaker_facts: SpeakerFacts | None = None
    # a transcription utterance
    communication_id: str | None = None
    utterance_id: str | None = None
    organization_id: str | None = None
    #: the utterance's role string (customer, agent, unknown)
    speaker: str | None = None
    decorated_text: str | None = None
    confidence: float | None = None
    offset_ms: int | None = None
    duration_ms: int | None = None
    start_time: str | None = None
    language: str | None = None
    engine: str | None = None
    engine_id: str | None = None
    program_id: str | None = None

    @property
    def is_utterance(self) -> bool:
        return self.utterance_id is not None

    def _fields(self) -> tuple[str, ...]:
        if self.is_utterance:
            return _UTTERANCE_FIELDS
        if self.no_text is None:
            return tuple(k for k in _MESSAGE_TEXT_FIELDS if k != NO_TEXT)
        return _MESSAGE_TEXT_FIELDS

    def record(self) -> dict[str, Any]:
        """The NLP record's fields: the payload without its provenance (``event``), the
        speaker facts (the record carries their key, never raw addresses) or ``_`` fields."""
        return {
            k: v
            for k, v in self.to_dict().items()
            if k not in ("event", SPEAKER_FACTS) and not k.startswith("_")
        }

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"v": PAYLOAD_VERSION}
        for key in self._fields():
            value = getattr(self, _ATTRIBUTES.get(key, key))
            out[key] = facts_json(value) if key == SPEAKER_FACTS else value
        out["event"] = self.event.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TextPayload:
        check_version(data, "text")
        no_text = data.get(NO_TEXT)
        confidence = data.get("confidence")
        offset, duration = data.get("offset_ms"), data.get("duration_ms")
        return cls(
            conversation_id=required_str(data, "conversation_id", "text"),
            text=opt_str(data.get("text")),
            channel=opt_str(data.get("channel")),
            event=EventMeta.from_dict(data.get("event")),
            message_id=opt_str(data.get("message_id")),
            no_text=no_text if isinstance(no_text, bool) else None,
            participant_id=opt_str(data.get("participant_id")),
            participant_purpose=opt_str(data.get("participant_purpose")),
            direction=opt_str(data.get("direction")),
            message_time=opt_str(data.get("message_time")),
            speaker_facts=SpeakerFacts.from_payload(data.get(SPEAKER_FACTS)),
            communication_id=opt_str(data.get("communication_id")),
            utterance_id=opt_str(data.get("utterance_id")),
            organization_id=opt_str(data.get("organization_id")),
            speaker=opt_str(data.get("speaker")),
            decorated_text=opt_str(data.get("decorated_text")),
            confidence=confidence if isinstance(confidence, int | float) else None,
            offset_ms=offset if isinstance(offset, int) else None,
            duration_ms=duration if isinstance(duration, int) else None,
            start_time=opt_str(data.get("start_time")),
            language=opt_str(data.get("language")),
            engine=opt_str(data.get("engine")),
            engine_id=opt_str(data.get("engine_id")),
            program_id=opt_str(data.get("program_id")),
        )


@dataclass(frozen=True, slots=True)
class ConversationPayload:
    """Read a messaging conversation; ``ended``: stop watching after this read."""

    conversation_id: str
    event: EventMeta
    media_type: str | None = "MESSAGE"
    message_type: str | None = None
    #: the detail topic's activity, ``message`` (a watched message topic) or ``backfill``
    activity: str | None = None
    ended: bool = False
    participant_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": PAYLOAD_VERSION,
            "conversation_id": self.conversation_id,
            "media_type": self.media_type,
            "message_type": self.message_type,
            "activity": self.activity,
            "ended": self.ended,
            "participant_id": self.participant_id,
            "event": self.event.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConversationPayload:
        check_version(data, "conversation")
        return cls(
            conversation_id=required_str(data, "conversation_id", "conversation"),
            event=EventMeta.from_dict(data.get("event")),
            media_type=opt_str(data.get("media_type")),
            message_type=opt_str(data.get("message_type")),
            activity=opt_str(data.get("activity")),
            ended=bool(data.get("ended")),
            participant_id=opt_str(data.get("participant_id")),
        )
