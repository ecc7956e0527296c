"""What Genesys says about who spoke, gathered from events and from reads a job already makes.

Every extractor takes raw JSON (the bridge reads raw JSON, not SDK models) and never
raises: a missing or odd field is simply unknown. ``merge`` combines what two sources
know, the first one winning field by field.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

from media_bridge.purposes import is_customer_purpose

Role = Literal["customer", "agent"]


@dataclass(frozen=True, slots=True)
class SpeakerFacts:
    """Identity fields of one participant; None where Genesys did not say."""

    role: Role = "customer"
    participant_id: str | None = None
    #: the messenger or ``voice``: whatsapp, facebook, webmessaging, open, sms, voice, ...
    platform: str | None = None
    #: as Genesys gives it: a WhatsApp number, a Messenger PSID, a guest id, an ANI
    address: str | None = None
    #: ``normalizedMessage.channel.from.idType`` (Phone, Email, Opaque, ...)
    id_type: str | None = None
    display_name: str | None = None
    external_contact_id: str | None = None
    external_organization_id: str | None = None
    #: agents: the Genesys user id
    user_id: str | None = None

    def to_payload(self) -> dict[str, Any]:
        """JSON for a job payload: known fields only."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_payload(cls, value: Any) -> SpeakerFacts | None:
        if not isinstance(value, dict):
            return None
        known = {f.name for f in fields(cls)} - {"role"}
        data: dict[str, Any] = {
            k: v for k, v in value.items() if k in known and isinstance(v, str) and v
        }
        role: Role = "agent" if value.get("role") == "agent" else "customer"
        return cls(role=role, **data)


def merge(first: SpeakerFacts | None, second: SpeakerFacts | None) -> SpeakerFacts | None:
    """Field by field, ``first`` wins where it knows; None when neither is known."""
    if first is None or second is None:
        return first or second
    filled = {
        f.name: getattr(second, f.name)
        for f in fields(SpeakerFacts)
        if f.name != "role" and getattr(first, f.name) is None
    }
    return replace(first, **filled)


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _platform(value: Any) -> str | None:
    """``WhatsApp`` / ``whatsapp`` / ``WHATSAPP`` -> ``whatsapp``: one spelling for keys."""
    text = _text(value)
    if text is None or text.lower() == "unknown":
        return None
    return text.lower()


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _nested_id(value: Any) -> str | None:
    return _text(value.get("id")) if isinstance(value, dict) else None


def role_of(purpose: Any) -> Role:
    """``customer`` for a customer purpose (``purposes.is_customer_purpose``, so ``external``
    only when ``identity.customer_purposes`` says so) and for none given (a message whose
    participant is unknown stays the customer's, as it was); ``agent``, the other side
    deliveries name, for every other purpose (``agent``, ``user``, ``external``, ``acd``)."""
    if is_customer_purpose(purpose) or not (isinstance(purpose, str) and purpose.strip()):
        return "customer"
    return "agent"


def _joined(*parts: Any) -> str | None:
    words = [p.strip() for p in parts if isinstance(p, str) and p.strip()]
    return " ".join(words) or None


def from_topic_participant(participant: dict[str, Any]) -> SpeakerFacts:
    """A message-topic participant (``...EventTopicMessageMediaParticipant``)."""
    return SpeakerFacts(
        role=role_of(participant.get("purpose")),
        participant_id=_text(participant.get("id")),
        platform=_platform(participant.get("type")),
        address=_text(participant.get("address")),
        display_name=_text(participant.get("name")),
        external_contact_id=_nested_id(participant.get("externalContact")),
        external_organization_id=_nested_id(participant.get("externalOrganization")),
        user_id=_nested_id(participant.get("user")),
    )


def from_message(message: dict[str, Any]) -> SpeakerFacts | None:
    """An inbound ``MessageData``: ``normalizedMessage.channel.from`` and ``fromAddress``."""
    if str(message.get("direction") or "inbound").lower() != "inbound":
        return None
    normalized = message.get("normalizedMessage")
    channel = _mapping(normalized.get("channel") if isinstance(normalized, dict) else None)
    sender = _mapping(channel.get("from"))
    return SpeakerFacts(
        role="customer",
        platform=_platform(channel.get("platform") or message.get("messengerType")),
        address=_text(sender.get("id")) or _text(message.get("fromAddress")),
        id_type=_text(sender.get("idType")),
        display_name=_text(sender.get("nickname"))
        or _joined(sender.get("firstName"), sender.get("lastName")),
        external_contact_id=_text(sender.get("externalContactId")),
    )


def _address_of(value: Any) -> str | None:
    """``Address {addressNormalized, addressRaw, ...}`` or a plain string."""
    if isinstance(value, dict):
        return _text(value.get("addressNormalized")) or _text(value.get("addressRaw"))
    return _text(value)


def from_conversation_participant(participant: dict[str, Any]) -> SpeakerFacts:
    """``GET /api/v2/conversations/{id}`` (``Participant``) or a messaging/call
    conversation's media participant (``MessageMediaParticipant``, ``CallMediaParticipant``)."""
    calls = participant.get("calls")
    is_call = bool(participant.get("ani")) or (isinstance(calls, list) and bool(calls))
    from_address = _address_of(participant.get("fromAddress"))
    address = _text(participant.get("ani")) if is_call else None
    return SpeakerFacts(
        role=role_of(participant.get("purpose")),
        participant_id=_text(participant.get("id")),
        platform="voice" if is_call else _platform(participant.get("type")),
        address=address or from_address or _text(participant.get("address")),
        display_name=_text(participant.get("name")) or _text(participant.get("aniName")),
        external_contact_id=_text(participant.get("externalContactId"))
        or _nested_id(participant.get("externalContact")),
        external_organization_id=_text(participant.get("externalOrganizationId"))
        or _nested_id(participant.get("externalOrganization")),
        user_id=_text(participant.get("userId")) or _nested_id(participant.get("user")),
    )


def from_detail_event(body: dict[str, Any]) -> SpeakerFacts | None:
    """An analytics detail event of the customer side: ``ani``, ``externalContactId``."""
    ani = _text(body.get("ani"))
    external = _text(body.get("externalContactId"))
    contacts = body.get("conversationExternalContactIds")
    if external is None and isinstance(contacts, list) and len(contacts) == 1:
        external = _text(contacts[0])
    if ani is None and external is None:
        return None
    media = str(body.get("mediaType") or "").upper()
    return SpeakerFacts(
        role="customer",
        participant_id=_text(body.get("participantId")),
        platform="voice" if media == "VOICE" else _platform(body.get("messageType")),
        address=ani or _text(body.get("addressFrom")),
        external_contact_id=external,
        external_organization_id=_text(body.get("externalOrganizationId")),
    )


def from_audiohook(participant: Any) -> SpeakerFacts:
    """The AudioHook ``open`` message's ``participant {id, ani, aniName, dnis}``."""
    participant = participant if isinstance(participant, dict) else {}
    return SpeakerFacts(
        role="customer",
        participant_id=_text(participant.get("id")),
        platform="voice",
        address=_text(participant.get("ani")),
        display_name=_text(participant.get("aniName")),
    )


def agent(user_id: str | None, participant_id: str | None = None) -> SpeakerFacts:
    return SpeakerFacts(
        role="agent", participant_id=participant_id, platform="voice", user_id=user_id
    )


def from_analytics_participant(participant: dict[str, Any]) -> SpeakerFacts:
    """An analytics details participant (``AnalyticsParticipantWithoutAttributes``). A
    customer's address is its voice session's ``ani``, as ``ani`` is in the conversation
    read; an agent's session ``ani`` is the caller's number, so agents get none."""
    role = role_of(participant.get("purpose"))
    sessions = [s for s in participant.get("sessions") or [] if isinstance(s, dict)]
    calls = [s for s in sessions if str(s.get("mediaType") or "").lower() == "voice"]
    ani = next((_text(s.get("ani")) for s in calls if _text(s.get("ani"))), None)
    return SpeakerFacts(
        role=role,
        participant_id=_text(participant.get("participantId")),
        platform="voice" if calls else None,
        address=ani if role == "customer" else None,
        display_name=_text(participant.get("participantName")),
        external_contact_id=_text(participant.get("externalContactId")),
        external_organization_id=_text(participant.get("externalOrganizationId")),
        user_id=_text(participant.get("userId")),
    )
