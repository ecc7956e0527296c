"""Pure reading of ``GET /api/v2/conversations/{id}``: the customer's call leg."""

from __future__ import annotations

from typing import Any


def customer_participant(conversation: dict[str, Any]) -> dict[str, Any] | None:
    participants = conversation.get("participants")
    for participant in participants if isinstance(participants, list) else []:
        if isinstance(participant, dict) and participant.get("purpose") == "customer":
            return participant
    return None


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
