"""Who speaks in an AudioHook session, as its delivery metadata names them."""

from __future__ import annotations

from typing import Any

from media_bridge.identity import SpeakerDescriber, SpeakerFacts
from media_bridge.identity.facts import from_audiohook


def speakers_of(
    describer: SpeakerDescriber, open_params: dict[str, Any], session_id: str
) -> dict[str, dict[str, Any]]:
    """The customer (``external``: keyed by the normalised ANI) and the agent
    (``internal``: AudioHook names no user, so its key has conversation scope)."""
    conv = str(open_params.get("conversationId") or session_id)
    return {
        "external": describer.describe(from_audiohook(open_params.get("participant")), conv),
        "internal": describer.describe(SpeakerFacts(role="agent"), conv),
    }


def participant_of(describer: SpeakerDescriber, open_params: dict[str, Any]) -> Any:
    """The ``open`` message's participant, without a raw ANI when pseudonymising."""
    participant = open_params.get("participant")
    if not describer.pseudonymizing or not isinstance(participant, dict):
        return participant
    facts = from_audiohook(participant)
    return {
        "id": participant.get("id"),
        "ani": describer.address(facts.address, facts),
        "dnis": participant.get("dnis"),
    }
