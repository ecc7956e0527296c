"""Whose messages are the customer's: one decision, read by every path.

Source: ``/work/shared/genesys/VOICE.md`` (a participant's purpose is ``customer | ivr |
acd | agent | ...``; ``external``/``internal`` is the phrase vocabulary) and
``/work/shared/genesys/sdk-reference.json`` (``AnalyticsParticipantWithoutAttributes``
lists ``customer`` and ``external`` as separate participant purposes).
"""

from __future__ import annotations

from typing import Any

import pytest

from media_bridge.consent.checker import customer_attribute
from media_bridge.genesys.messaging import conversation_ended, customer_message_ids
from media_bridge.intake.events.message_topic import parse_message_body
from media_bridge.purposes import is_customer, is_customer_purpose
from media_bridge.voice.participants import customer_participant


@pytest.mark.parametrize(
    ("purpose", "expected"),
    [
        ("customer", True),
        ("Customer", True),
        ("external", False),
        ("agent", False),
        ("acd", False),
        ("internal", False),
        ("", False),
        (None, False),
        (7, False),
    ],
)
def test_only_the_customer_purpose_is_the_customer(purpose: object, expected: bool) -> None:
    assert is_customer_purpose(purpose) is expected
    assert is_customer({"purpose": purpose}) is expected


def participant(pid: str, purpose: str, message_id: str) -> dict[str, Any]:
    return {
        "id": pid,
        "purpose": purpose,
        "state": "disconnected" if purpose.lower() == "customer" else "connected",
        "attributes": {"consent": pid},
        "messages": [
            {
                "messageId": message_id,
                "message": {"id": message_id},
                "media": [{"id": f"a-{pid}", "url": "u"}],
            }
        ],
    }


#: an ``external`` party beside the customer: every reader must pick the customer only
CONVERSATION: dict[str, Any] = {
    "id": "c1",
    "participants": [
        participant("p-ext", "external", "m-ext"),
        participant("p-cust", "Customer", "m-cust"),
        participant("p-agent", "agent", "m-agent"),
    ],
}


def test_every_reader_agrees_on_the_customer() -> None:
    assert [(p["id"], m) for p, m in customer_message_ids(CONVERSATION)] == [("p-cust", "m-cust")]
    assert customer_attribute(CONVERSATION, "consent") == "p-cust"
    found = customer_participant(CONVERSATION)
    assert found is not None
    assert found["id"] == "p-cust"
    contents = parse_message_body(CONVERSATION)
    assert [(a.participant_id, a.message_id) for a in contents.attachments] == [
        ("p-cust", "m-cust")
    ]
    # the external party is still connected: it does not keep the conversation open
    assert conversation_ended(CONVERSATION)


def test_the_customer_purposes_are_a_setting_for_every_reader() -> None:
    """``identity.customer_purposes``: an org whose agent-dialled calls give the called
    party purpose ``external`` can say so; every reader then agrees on it."""
    from media_bridge.identity.settings import IdentitySettings
    from media_bridge.purposes import customer_purposes, set_customer_purposes

    assert IdentitySettings().customer_purposes == ["customer"]
    before = customer_purposes()
    try:
        set_customer_purposes(
            IdentitySettings(customer_purposes=["Customer", "external"]).customer_purposes
        )
        assert is_customer({"purpose": "External"})
        assert customer_participant({"participants": [participant("p-x", "external", "m")]})
    finally:
        set_customer_purposes(before)
    assert not is_customer({"purpose": "external"})
    with pytest.raises(ValueError, match="customer_purposes"):
        IdentitySettings(customer_purposes=[])
