"""Every key shape, built and parsed in one place.

A key names a job in the ledger and a delivery on the wire (sink file names, Kafka
message keys, HTTP ``webhook-id``, S3 object metadata), so its bytes never change: the
frozen ledger of ``tests/fixtures/ledger/v1`` holds today's keys.

==================  ==================================================  ===================
shape               key                                                 parsed as
==================  ==================================================  ===================
attachment          ``attachment:{conv}:{message}:{media}``             ``AttachmentKey``
text                ``text:{conv}:{message}``                           ``TextKey``
conversation        ``conversation:{conv}``                             ``ConversationKey``
recording           ``recording:{conv}``                                ``RecordingKey``
recording file      ``recording:{conv}:{recording}``                    ``RecordingFileKey``
transcript          ``transcript:{conv}:{communication}``               ``TranscriptKey``
utterance           ``transcript:{conv}:{communication}:{utterance}``   ``UtteranceKey``
audiohook channel   ``audiohook:{session}:{channel}``                   ``AudioHookKey``
audiohook chunk     ``audiohook:{session}:{channel}:{index}``           ``AudioHookChunkKey``
audiohook final     ``audiohook:{session}:{channel}:full``              ``AudioHookFinalKey``
erasure record      ``erasure:{24 hex of sha256(request JSON)}``        ``ErasureKey``
==================  ==================================================  ===================

The utterance's last part is the transcription event's utterance id (planned as a TEXT
job) or the utterance's index in a transcript document (a record the transcript job
delivers). Builders join the ids as given, as the code always did: an id holding ``:``
gives a key that no parser takes back. A parser takes only its own shape (the prefix,
the number of parts, none empty) and raises ``ValueError`` naming the shape otherwise.
``split_key`` is for code that must cope with any key, also one of an odd shape.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

ATTACHMENT = "attachment"
TEXT = "text"
CONVERSATION = "conversation"
RECORDING = "recording"
TRANSCRIPT = "transcript"
AUDIOHOOK = "audiohook"
ERASURE = "erasure"

#: the last part of an AudioHook channel's whole-session delivery
FINAL = "full"
_INDEX = re.compile(r"0|[1-9][0-9]*")
_DIGEST = re.compile(r"[0-9a-f]{24}")


def _ids(key: str, shape: str, prefix: str, count: int) -> list[str]:
    """The key's ids after ``prefix``, exactly ``count`` of them and none empty."""
    parts = key.split(":")
    if parts[0] != prefix or len(parts) != count + 1 or not all(parts[1:]):
        raise ValueError(f"not {shape} key: {key[:200]!r}")
    return parts[1:]


@dataclass(frozen=True, slots=True)
class KeyParts:
    """Any key split at its colons, for code that must name or route every key."""

    prefix: str
    ids: tuple[str, ...]

    @property
    def conversation_id(self) -> str | None:
        """The part after the prefix: the conversation, in every job and text key."""
        return self.ids[0] if self.ids else None


def split_key(key: str) -> KeyParts:
    prefix, *ids = key.split(":")
    return KeyParts(prefix, tuple(ids))


# ---- messaging ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttachmentKey:
    conversation_id: str
    message_id: str
    media_id: str

    @property
    def key(self) -> str:
        return attachment_key(self.conversation_id, self.message_id, self.media_id)


def attachment_key(conversation_id: str, message_id: str, media_id: str) -> str:
    return f"{ATTACHMENT}:{conversation_id}:{message_id}:{media_id}"


def parse_attachment_key(key: str) -> AttachmentKey:
    return AttachmentKey(*_ids(key, "an attachment", ATTACHMENT, 3))


@dataclass(frozen=True, slots=True)
class TextKey:
    conversation_id: str
    message_id: str

    @property
    def key(self) -> str:
        return text_key(self.conversation_id, self.message_id)


def text_key(conversation_id: str, message_id: str) -> str:
    """A message's text job; its existence marks the message as seen (conversation jobs)."""
    return f"{TEXT}:{conversation_id}:{message_id}"


def parse_text_key(key: str) -> TextKey:
    return TextKey(*_ids(key, "a text", TEXT, 2))


@dataclass(frozen=True, slots=True)
class ConversationKey:
    conversation_id: str

    @property
    def key(self) -> str:
        return conversation_key(self.conversation_id)


def conversation_key(conversation_id: str) -> str:
    return f"{CONVERSATION}:{conversation_id}"


def parse_conversation_key(key: str) -> ConversationKey:
    return ConversationKey(*_ids(key, "a conversation", CONVERSATION, 1))


# ---- recordings and transcripts -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordingKey:
    conversation_id: str

    @property
    def key(self) -> str:
        return recording_key(self.conversation_id)


def recording_key(conversation_id: str) -> str:
    """A conversation's recordings job (it plans one recording-file job per recording)."""
    return f"{RECORDING}:{conversation_id}"


def parse_recording_key(key: str) -> RecordingKey:
    return RecordingKey(*_ids(key, "a recording", RECORDING, 1))


@dataclass(frozen=True, slots=True)
class RecordingFileKey:
    conversation_id: str
    recording_id: str

    @property
    def key(self) -> str:
        return recording_file_key(self.conversation_id, self.recording_id)


def recording_file_key(conversation_id: str, recording_id: str) -> str:
    return f"{RECORDING}:{conversation_id}:{recording_id}"


def parse_recording_file_key(key: str) -> RecordingFileKey:
    return RecordingFileKey(*_ids(key, "a recording file", RECORDING, 2))


@dataclass(frozen=True, slots=True)
class TranscriptKey:
    conversation_id: str
    communication_id: str

    @property
    def key(self) -> str:
        return transcript_key(self.conversation_id, self.communication_id)


def transcript_key(conversation_id: str, communication_id: str) -> str:
    return f"{TRANSCRIPT}:{conversation_id}:{communication_id}"


def parse_transcript_key(key: str) -> TranscriptKey:
    return TranscriptKey(*_ids(key, "a transcript", TRANSCRIPT, 2))


@dataclass(frozen=True, slots=True)
class UtteranceKey:
    conversation_id: str
    communication_id: str
    #: the event's utterance id, or the utterance's index in a transcript document
    utterance: str

    @property
    def key(self) -> str:
        return utterance_key(self.conversation_id, self.communication_id, self.utterance)


def utterance_key(conversation_id: str, communication_id: str, utterance: str | int) -> str:
    """One utterance: its transcript's key and the utterance's id or index."""
    return f"{transcript_key(conversation_id, communication_id)}:{utterance}"


def parse_utterance_key(key: str) -> UtteranceKey:
    return UtteranceKey(*_ids(key, "an utterance", TRANSCRIPT, 3))


# ---- AudioHook deliveries and erasure records -----------------------------------------


@dataclass(frozen=True, slots=True)
class AudioHookKey:
    session_id: str
    #: ``external`` or ``internal``
    channel: str

    @property
    def key(self) -> str:
        return audiohook_key(self.session_id, self.channel)


def audiohook_key(session_id: str, channel: str) -> str:
    """One channel of an AudioHook session; its chunk and final keys extend it."""
    return f"{AUDIOHOOK}:{session_id}:{channel}"


def parse_audiohook_key(key: str) -> AudioHookKey:
    return AudioHookKey(*_ids(key, "an audiohook channel", AUDIOHOOK, 2))


@dataclass(frozen=True, slots=True)
class AudioHookChunkKey:
    session_id: str
    channel: str
    index: int

    @property
    def key(self) -> str:
        return audiohook_chunk_key(self.session_id, self.channel, self.index)


def audiohook_chunk_key(session_id: str, channel: str, index: int) -> str:
    return f"{audiohook_key(session_id, channel)}:{index}"


def parse_audiohook_chunk_key(key: str) -> AudioHookChunkKey:
    session_id, channel, index = _ids(key, "an audiohook chunk", AUDIOHOOK, 3)
    if not _INDEX.fullmatch(index):
        raise ValueError(f"not an audiohook chunk key (index {index[:40]!r}): {key[:200]!r}")
    return AudioHookChunkKey(session_id, channel, int(index))


@dataclass(frozen=True, slots=True)
class AudioHookFinalKey:
    session_id: str
    channel: str

    @property
    def key(self) -> str:
        return audiohook_final_key(self.session_id, self.channel)


def audiohook_final_key(session_id: str, channel: str) -> str:
    """A channel's whole-session delivery, after the socket closed."""
    return f"{audiohook_key(session_id, channel)}:{FINAL}"


def parse_audiohook_final_key(key: str) -> AudioHookFinalKey:
    session_id, channel, last = _ids(key, "an audiohook final", AUDIOHOOK, 3)
    if last != FINAL:
        raise ValueError(f"not an audiohook final key (ends {last[:40]!r}): {key[:200]!r}")
    return AudioHookFinalKey(session_id, channel)


@dataclass(frozen=True, slots=True)
class ErasureKey:
    #: 24 hex characters of the sha256 of the request's sorted JSON
    digest: str

    @property
    def key(self) -> str:
        return f"{ERASURE}:{self.digest}"


def erasure_key(request: Mapping[str, str]) -> str:
    """The erasure record's key: the same request gives the same key."""
    digest = hashlib.sha256(json.dumps(dict(request), sort_keys=True).encode()).hexdigest()
    return ErasureKey(digest[:24]).key


def parse_erasure_key(key: str) -> ErasureKey:
    (digest,) = _ids(key, "an erasure record", ERASURE, 1)
    if not _DIGEST.fullmatch(digest):
        raise ValueError(f"not an erasure record key (24 hex): {key[:200]!r}")
    return ErasureKey(digest)
