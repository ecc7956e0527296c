"""Pure reading of an analytics details conversation (what a backfill finds): the call's
customer and agent, so a backfilled call's recordings need no conversation read.

``AnalyticsConversationWithoutAttributes`` has no participant attributes (the consent
attribute) and no ``calls[].id``; ``call_facts`` gives what it does have, and
``facts_suffice`` says when that is all a recording job needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from media_bridge.identity.facts import from_analytics_participant
from media_bridge.purposes import is_agent, is_customer


def _participant(item: dict[str, Any], wanted: Callable[[Any], bool]) -> dict[str, Any] | None:
    for participant in item.get("participants") or []:
        if isinstance(participant, dict) and wanted(participant):
            return participant
    return None


def _session_field(participant: dict[str, Any], name: str) -> str | None:
    for session in participant.get("sessions") or []:
        if isinstance(session, dict) and str(session.get("mediaType") or "").lower() == "voice":
            value = session.get(name)
            if isinstance(value, str) and value:
                return value
    return None


def call_facts(item: dict[str, Any]) -> dict[str, Any] | None:
    """The recording job's ``call`` (customer participant id, ani, dnis, speakers) from an
        analytics conversation; None without a customer participant (``purposes.is_customer``,
    so ``identity.customer_purposes`` applies as on the conversation read). ``communication_id`` is
        left out: only the conversation read's ``calls[].id`` is documented as it."""
    customer = _participant(item, is_customer)
    if customer is None or not customer.get("participantId"):
        return None
    speakers = {"customer": from_analytics_participant(customer).to_payload()}
    agent = _participant(item, is_agent)
    if agent is not None:
        speakers["agent"] = from_analytics_participant(agent).to_payload()
    return {
        "customer_participant_id": customer["participantId"],
        "ani": _session_field(customer, "ani"),
        "dnis": _session_field(customer, "dnis") or _session_field(customer, "sessionDnis"),
        "communication_id": None,
        "speakers": speakers,
    }


def facts_suffice(
    *, consent_attribute: str | None, customer_channel: str, transcripts: bool
) -> str | None:
    """None when the analytics facts are all a backfilled call's recordings need; else why
    the conversation is read: the consent attribute lives in ``participants[].attributes``;
    ``auto`` channels and the transcript job need the communication id (``calls[].id``)."""
    if consent_attribute is not None:
        return "consent.mode participant_attribute: the attribute is in the conversation"
    if customer_channel == "auto":
        return "voice.customer_channel auto: the transcript needs the communication id"
    if transcripts:
        return "voice.transcripts: the transcript job needs the communication id"
    return None
