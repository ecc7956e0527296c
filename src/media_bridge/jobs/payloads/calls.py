"""The payloads of a call's jobs: recording (a conversation's, or one) and transcript."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from media_bridge.identity.facts import SpeakerFacts
from media_bridge.jobs.payloads.common import (
    ANALYTICS_CALL,
    BACKFILL,
    PAYLOAD_VERSION,
    SPEAKER_FACTS,
    EventMeta,
    as_dict,
    check_version,
    facts_json,
    opt_str,
    required_str,
)


@dataclass(frozen=True, slots=True)
class RecordingPayload:
    """One type for both levels of ``JobKind.RECORDING``:

    - a conversation's recordings (``recording_id`` None): planned from a detail event
      (with the participant, session and speaker facts the event gave) or by backfill
      (``activity`` "backfill": none of those, a call's ``analytics_call`` facts maybe);
    - one recording (``recording_id`` set): the ``call`` its parent mapped (participant
      ids, ani, dnis, communication id, ``speakers`` by role, ``consent_hint``) and, when
      a batch download serves it, ``via`` "batch", the ``listed`` summary and maybe the
      ``batch_fallback`` its conversation's batch gave.

    ``to_dict`` writes the fields of its variant only, as the planners did."""

    conversation_id: str
    event: EventMeta
    # a conversation's recordings
    media_type: str | None = None
    activity: str | None = None
    participant_id: str | None = None
    session_id: str | None = None
    speaker_facts: SpeakerFacts | None = None
    analytics_call: dict[str, Any] | None = None
    # one recording
    recording_id: str | None = None
    call: dict[str, Any] = field(default_factory=dict)
    via: str | None = None
    listed: dict[str, Any] | None = None
    batch_fallback: str | None = None

    @property
    def is_backfill(self) -> bool:
        return self.activity == BACKFILL

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"v": PAYLOAD_VERSION, "conversation_id": self.conversation_id}
        if self.recording_id is not None:
            out.update(recording_id=self.recording_id, call=self.call, event=self.event.to_dict())
            optional = {
                "via": self.via,
                "listed": self.listed,
                "batch_fallback": self.batch_fallback,
            }
            out.update({k: v for k, v in optional.items() if v is not None})
            return out
        if self.is_backfill:
            out["event"] = self.event.to_dict()
            out.update(media_type=self.media_type, activity=self.activity)
            if self.analytics_call is not None:
                out[ANALYTICS_CALL] = self.analytics_call
            return out
        out.update(
            media_type=self.media_type,
            activity=self.activity,
            participant_id=self.participant_id,
            session_id=self.session_id,
        )
        out[SPEAKER_FACTS] = facts_json(self.speaker_facts)
        out["event"] = self.event.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecordingPayload:
        check_version(data, "recording")
        analytics, listed = data.get(ANALYTICS_CALL), data.get("listed")
        recording_id = data.get("recording_id")
        return cls(
            conversation_id=required_str(data, "conversation_id", "recording"),
            event=EventMeta.from_dict(data.get("event")),
            media_type=opt_str(data.get("media_type")),
            activity=opt_str(data.get("activity")),
            participant_id=opt_str(data.get("participant_id")),
            session_id=opt_str(data.get("session_id")),
            speaker_facts=SpeakerFacts.from_payload(data.get(SPEAKER_FACTS)),
            analytics_call=dict(analytics) if isinstance(analytics, Mapping) else None,
            recording_id=str(recording_id) if recording_id else None,
            call=as_dict(data.get("call")),
            via=opt_str(data.get("via")),
            listed=dict(listed) if isinstance(listed, Mapping) else None,
            batch_fallback=opt_str(data.get("batch_fallback")),
        )


@dataclass(frozen=True, slots=True)
class TranscriptPayload:
    """One communication's Speech & Text Analytics transcript. ``speakers`` (role ->
    speaker facts JSON) None: planned from a transcription's ``SESSION_ENDED``, whose
    event names no one; the handler maps them as the recording path does."""

    conversation_id: str
    communication_id: str
    event: EventMeta
    speakers: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": PAYLOAD_VERSION,
            "conversation_id": self.conversation_id,
            "communication_id": self.communication_id,
            "speakers": self.speakers,
            "event": self.event.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TranscriptPayload:
        check_version(data, "transcript")
        speakers = data.get("speakers")
        return cls(
            conversation_id=required_str(data, "conversation_id", "transcript"),
            communication_id=required_str(data, "communication_id", "transcript"),
            event=EventMeta.from_dict(data.get("event")),
            speakers=dict(speakers) if isinstance(speakers, Mapping) else None,
        )
