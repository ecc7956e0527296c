"""Real-time transcription topic ``v2.conversations.{id}.transcription``.

Body model ``TranscriptionTopicTranscriptionMessage``. The parser checks the ids and
shape and keeps the raw body (``ParsedEvent.transcriptions``); the planner turns the
final utterances into jobs. Empty SESSION_ONGOING keep-alives are kept too (harmless:
they have no final utterance).
"""

from __future__ import annotations

import re
from typing import Any

from media_bridge.errors import BadInput
from media_bridge.values import text_or_none

_TRANSCRIPTION_TOPIC = re.compile(r"^v2\.conversations\.([^.]+)\.transcription$")


def transcription_topic_conversation(topic: str) -> str | None:
    match = _TRANSCRIPTION_TOPIC.match(topic)
    return match.group(1) if match else None


def parse_transcription_body(topic: str, body: dict[str, Any]) -> dict[str, Any]:
    """The body, with ``conversationId`` filled from the topic when the body lacks it."""
    conversation_id = text_or_none(body.get("conversationId")) or (
        transcription_topic_conversation(topic)
    )
    if not conversation_id:
        raise BadInput("transcription topic: missing conversationId")
    transcripts = body.get("transcripts")
    if transcripts is not None and not isinstance(transcripts, list):
        raise BadInput("transcription topic: transcripts is not a list")
    if transcripts and not text_or_none(body.get("communicationId")):
        raise BadInput("transcription topic: transcripts without communicationId")
    if body.get("conversationId") == conversation_id:
        return body
    return {**body, "conversationId": conversation_id}
