"""The shared vocabulary of the pipeline: domain events, jobs and deliveries.

Parsers produce domain events, the planner turns them into ``NewJob``s with
deterministic idempotency keys, the ledger stores ``Job``s, workers turn a job
into a ``Delivery`` that sinks receive. Everything here is plain data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from media_bridge.identity.facts import SpeakerFacts
from media_bridge.jobs.keys import attachment_key, text_key


class JobKind(StrEnum):
    ATTACHMENT = "attachment"  # one media attachment of one message
    TEXT = "text"  # one customer text message, for NLP
    CONVERSATION = "conversation"  # read a messaging conversation, plan its new messages
    RECORDING = "recording"  # call / messaging recordings of a conversation
    TRANSCRIPT = "transcript"  # Speech & Text Analytics transcript of one communication


class JobState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    RETRY = "retry"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class AttachmentRef:
    """One media attachment as an event (or the API) describes it."""

    conversation_id: str
    message_id: str
    media_id: str
    #: ``ConversationContentAttachment.mediaType`` vocabulary: Audio, Image, Video, File, Link
    media_type: str
    mime: str | None = None
    name: str | None = None
    url: str | None = None
    size: int | None = None
    sha256: str | None = None
    participant_id: str | None = None
    participant_purpose: str | None = None
    channel: str | None = None
    message_time: datetime | None = None
    #: who sent it, as far as the event (or the message read) says
    speaker: SpeakerFacts | None = None
    #: the sender's participant data (``participants[].attributes``), when given; the
    #: planner keeps only the consent attribute's value
    attributes: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        return attachment_key(self.conversation_id, self.message_id, self.media_id)


@dataclass(frozen=True, slots=True)
class TextMessage:
    """A message's text, for the NLP side."""

    conversation_id: str
    message_id: str
    text: str
    participant_id: str | None = None
    participant_purpose: str | None = None
    channel: str | None = None
    message_time: datetime | None = None
    direction: str | None = None
    speaker: SpeakerFacts | None = None

    @property
    def key(self) -> str:
        return text_key(self.conversation_id, self.message_id)


@dataclass(frozen=True, slots=True)
class ConversationActivity:
    """An analytics detail event: ids only, the conversation must be read from the API."""

    conversation_id: str
    #: the topic's last part(s): customer.start, customer.end, acw, acd.start, ...
    activity: str
    #: MESSAGE, VOICE, CHAT, EMAIL, CALLBACK, ...
    media_type: str | None = None
    #: WHATSAPP, WEBMESSAGING, OPEN, FACEBOOK, ... (messaging only)
    message_type: str | None = None
    participant_id: str | None = None
    session_id: str | None = None
    event_time: datetime | None = None
    #: the customer's ANI / external contact, when the detail event carries them
    speaker: SpeakerFacts | None = None

    @property
    def ends_conversation(self) -> bool:
        return self.activity in {"customer.end", "acw"}


@dataclass(slots=True)
class ParsedEvent:
    """What one EventBridge event says, reduced to what the bridge acts on."""

    event_id: str
    topic: str
    org_id: str | None = None
    event_time: datetime | None = None
    correlation_id: str | None = None
    attachments: list[AttachmentRef] = field(default_factory=list)
    texts: list[TextMessage] = field(default_factory=list)
    activities: list[ConversationActivity] = field(default_factory=list)
    #: message ids seen in a message topic (``participants[].messages[].message.id``),
    #: per conversation: messages whose ``media[]`` is empty may still need a look.
    message_ids: dict[str, list[str]] = field(default_factory=dict)
    #: who sent each of those messages (by message id), from the topic's participant
    message_speakers: dict[str, SpeakerFacts] = field(default_factory=dict)
    #: ids of those messages whose ``messageMetadata`` shows no text (attachments only)
    textless_messages: set[str] = field(default_factory=set)
    #: raw real-time transcription bodies (``v2.conversations.{id}.transcription``)
    transcriptions: list[dict[str, Any]] = field(default_factory=list)
    #: the EventBridge ``detail-type`` when it disagrees with ``topic`` (logged once, counted)
    detail_type_mismatch: str | None = None


@dataclass(frozen=True, slots=True)
class NewJob:
    """A job to record; ``key`` is its idempotency key."""

    key: str
    kind: JobKind
    payload: dict[str, Any]
    #: run no earlier than this (None: now)
    not_before: datetime | None = None
    #: if the key exists and is done, set it pending again with this payload
    #: (conversation watches: a new event re-reads the conversation)
    reopen: bool = False
    #: its ``priority.Priority`` class (lower runs first); None: the ledger applies
    #: ``priority.planned`` (backfill by the payload's event topic, transcripts deferred)
    priority: int | None = None


@dataclass(slots=True)
class Job:
    key: str
    kind: JobKind
    payload: dict[str, Any]
    state: JobState
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    updated_at: datetime
    last_error: str | None = None
    error_code: str | None = None
    result: dict[str, Any] | None = None
    worker_id: str | None = None
    lease_until: datetime | None = None
    #: its ``priority.Priority`` class (0 live, 1 deferred, 2 backfill)
    priority: int = 0


@dataclass(frozen=True, slots=True)
class DeliveredFile:
    """A file handed to a sink. ``role`` is original, normalized, customer, agent..."""

    role: str
    path: Path
    mime: str
    sha256: str
    size: int


@dataclass(slots=True)
class Delivery:
    """What a sink receives: metadata plus files, under the job's idempotency key."""

    key: str
    kind: JobKind
    conversation_id: str
    metadata: dict[str, Any]
    files: list[DeliveredFile] = field(default_factory=list)
