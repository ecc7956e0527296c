"""Pure reading of ``GET /api/v2/conversations/{id}``: the customer's call leg."""

from __future__ import annotations

from typing import Any

from media_bridge.identity.facts import SpeakerFacts, from_conversation_participant, merge
from media_bridge.purposes import is_agent, is_customer


def _agent_participant(conversation: dict[str, Any]) -> dict[str, Any] | None:
    participants = conversation.get("participants")
    for participant in participants if isinstance(participants, list) else []:
        if is_agent(participant):
            return participant
    return None


def customer_participant(conversation: dict[str, Any]) -> dict[str, Any] | None:
    participants = conversation.get("participants")
    for participant in participants if isinstance(participants, list) else []:
        if is_customer(participant):
            return participant
    return None


def call_speakers(
    conversation: dict[str, Any], customer_hint: SpeakerFacts | None = None
) -> dict[str, dict[str, Any]]:
    """Role -> speaker facts (payload JSON) of the call's customer and agent.

    ``customer_hint`` (the detail event's ANI and external contact) fills what the
    conversation read lacks, or stands in when the read was refused.
    """
    speakers: dict[str, dict[str, Any]] = {}
    customer = customer_participant(conversation)
    facts = merge(
        from_conversation_participant(customer) if customer is not None else None, customer_hint
    )
    if facts is not None:
        speakers["customer"] = facts.to_payload()
    agent = _agent_participant(conversation)
    if agent is not None:
        speakers["agent"] = from_conversation_participant(agent).to_payload()
    return speakers


def customer_communication_id(conversation: dict[str, Any]) -> str | None:
    """``participants[purpose=customer].calls[0].id``: the transcript's communicationId."""
    participant = customer_participant(conversation) or {}
    calls = participant.get("calls")
    if isinstance(calls, list) and calls and isinstance(calls[0], dict):
        value = calls[0].get("id")
        if isinstance(value, str) and value:
            return value
    return None


def call_info(conversation: dict[str, Any]) -> dict[str, Any]:
    """Customer participant id, ani and dnis (when the API gives them) for metadata."""
    participant = customer_participant(conversation) or {}
    return {
        "customer_participant_id": participant.get("id"),
        "ani": participant.get("ani"),
        "dnis": participant.get("dnis"),
        "communication_id": customer_communication_id(conversation),
    }
