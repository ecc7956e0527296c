"""What every payload type shares: the version check, the field names, the ``event``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from media_bridge.errors import PayloadMalformed, PayloadVersionUnknown
from media_bridge.identity.facts import SpeakerFacts

#: the payload version this release writes and reads
PAYLOAD_VERSION = 1

#: the payload field of ``SpeakerFacts`` (``speaker`` is a transcript line's role string)
SPEAKER_FACTS = "speaker_facts"
#: the text-job payload field saying the event's ``messageMetadata`` shows no text
NO_TEXT = "_no_text"
#: the payload field with the consent attribute's value as the planning event showed it
CONSENT_HINT = "consent_hint"
#: the payload field of a backfilled ``recording:{conv}`` job holding ``call_facts``
ANALYTICS_CALL = "analytics_call"
#: the ``activity`` (and event ``topic``) of what backfill plans
BACKFILL = "backfill"


def check_version(data: Mapping[str, Any], kind: str) -> None:
    """Refuse a payload this release cannot read (see the module docstring); a value that
    is no JSON object reads as one without ``v``."""
    version = data.get("v") if isinstance(data, Mapping) else None
    if type(version) is not int or version != PAYLOAD_VERSION:
        raise PayloadVersionUnknown(
            f"{kind} payload has v={version!r}; this release reads v={PAYLOAD_VERSION} "
            "(written by a newer release, or not a job payload)"
        )


def opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def required_str(data: Mapping[str, Any], name: str, kind: str) -> str:
    """A field the kind cannot do without (an id its key is made of): a string, or
    ``PayloadMalformed`` naming it (not a ``KeyError`` retried as ``Unexpected``)."""
    if name not in data or data[name] is None:
        raise PayloadMalformed(kind, name, "is missing")
    value = data[name]
    if not isinstance(value, str):
        raise PayloadMalformed(kind, name, f"is a {type(value).__name__}, not a string")
    return value


def opt_int(data: Mapping[str, Any], name: str, kind: str) -> int | None:
    """An optional number (absent or null: None), read as ``int()`` reads it; one that
    is no number is ``PayloadMalformed`` naming it."""
    value = data.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise PayloadMalformed(kind, name, f"is {value!r}, not a number") from None


def as_dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def facts_json(value: SpeakerFacts | None) -> dict[str, Any] | None:
    return value.to_payload() if value is not None else None


#: the keys of an event's metadata, in the order the planner writes them
EVENT_FIELDS = ("org_id", "event_id", "correlation_id", "topic", "event_time", "received_at")
#: backfill writes only these (it has no event, correlation or receipt)
BACKFILL_EVENT_FIELDS = ("org_id", "event_id", "topic")
_EVENT_KEYS = frozenset((*EVENT_FIELDS, "found_by"))

#: a provenance field of a delivery (the metadata of media, the NLP record of a text)
ProvenanceField = Literal[
    "organization_id", "event_id", "correlation_id", "event_time", "received_at"
]
#: delivery name -> ``EventMeta`` attribute: only the organisation is renamed
_PROVENANCE: dict[ProvenanceField, str] = {
    "organization_id": "org_id",
    "event_id": "event_id",
    "correlation_id": "correlation_id",
    "event_time": "event_time",
    "received_at": "received_at",
}
#: the organisation, written near the top of media metadata
ORGANIZATION: tuple[ProvenanceField, ...] = ("organization_id",)
#: the event trail, written near the end of media metadata (attachments, recordings)
EVENT_TRAIL: tuple[ProvenanceField, ...] = (
    "event_id",
    "correlation_id",
    "event_time",
    "received_at",
)
#: what an NLP record (a message text, a transcript line) carries: no trail past the id
TEXT_PROVENANCE: tuple[ProvenanceField, ...] = ("organization_id", "event_id")


@dataclass(frozen=True, slots=True)
class EventMeta:
    """A payload's ``event``: where the job came from. ``org_id`` is a stored key (the
    golden ledger); deliveries carry the same value as ``organization_id``."""

    org_id: str | None = None
    event_id: str | None = None
    correlation_id: str | None = None
    topic: str | None = None
    event_time: str | None = None
    received_at: str | None = None
    #: set on attachment jobs a messaging recording found (``messaging_recording``)
    found_by: str | None = None
    #: the keys it is written with: an event's six (and ``found_by`` when set), backfill's
    #: three; a job copies its parent's ``event`` as it is
    shape: tuple[str, ...] = EVENT_FIELDS

    @classmethod
    def backfill(cls) -> EventMeta:
        return cls(event_id=BACKFILL, topic=BACKFILL, shape=BACKFILL_EVENT_FIELDS)

    def found(self, by: str) -> EventMeta:
        """The same event, marked as found by ``by`` (written last)."""
        shape = self.shape if "found_by" in self.shape else (*self.shape, "found_by")
        return EventMeta(
            self.org_id,
            self.event_id,
            self.correlation_id,
            self.topic,
            self.event_time,
            self.received_at,
            by,
            shape,
        )

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.shape}

    def provenance(
        self, fields: tuple[ProvenanceField, ...], *, organization_id: str | None = None
    ) -> dict[str, str | None]:
        """The delivery fields of where the job came from, in the order of ``fields``
        (each delivery kind writes its own set, at its own place: ``ORGANIZATION``,
        ``EVENT_TRAIL``, ``TEXT_PROVENANCE``). ``org_id`` is delivered as
        ``organization_id``; ``organization_id`` given (a transcript document names its
        organisation) is preferred to the event's."""
        values: dict[str, str | None] = {name: getattr(self, _PROVENANCE[name]) for name in fields}
        if organization_id and "organization_id" in values:
            values["organization_id"] = organization_id
        return values

    @classmethod
    def from_dict(cls, data: Any) -> EventMeta:
        """An absent or malformed ``event`` reads as an empty one (it is provenance only)."""
        if not isinstance(data, Mapping):
            return cls(shape=())
        return cls(
            org_id=opt_str(data.get("org_id")),
            event_id=opt_str(data.get("event_id")),
            correlation_id=opt_str(data.get("correlation_id")),
            topic=opt_str(data.get("topic")),
            event_time=opt_str(data.get("event_time")),
            received_at=opt_str(data.get("received_at")),
            found_by=opt_str(data.get("found_by")),
            shape=tuple(k for k in data if k in _EVENT_KEYS),
        )
