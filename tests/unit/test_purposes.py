"""Whose messages are the customer's: one decision, read by every path.

Source: ``/work/shared/genesys/VOICE.md`` (a participant's purpose is ``customer | ivr |
acd | agent | ...``; ``external``/``internal`` is the phrase vocabulary) and
``/work/shared/genesys/sdk-reference.json`` (``AnalyticsParticipantWithoutAttributes``
lists ``customer`` and ``external`` as separate participant purposes).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from media_bridge.consent.checker import customer_attribute
from media_bridge.genesys.messaging import conversation_ended, customer_message_ids
from media_bridge.identity.facts import (
    from_analytics_participant,
    from_conversation_participant,
    from_topic_participant,
)
from media_bridge.intake.events.message_topic import parse_message_body
from media_bridge.notifications.frames import classify
from media_bridge.purposes import (
    customer_purposes,
    is_customer,
    is_customer_purpose,
    set_customer_purposes,
)
from media_bridge.voice.analytics_call import call_facts
from media_bridge.voice.messaging import attachments_from_recording
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


@pytest.fixture
def external_is_customer() -> Iterator[None]:
    """``identity.customer_purposes = ["customer", "external"]`` for one test."""
    before = customer_purposes()
    set_customer_purposes(["customer", "external"])
    try:
        yield
    finally:
        set_customer_purposes(before)


_VOICE = {"mediaType": "voice", "ani": "tel:+447700900123", "dnis": "tel:+18005550100"}
#: an analytics details conversation of an agent-dialled call: the far end is ``external``
DIALLED: dict[str, Any] = {
    "conversationId": "c",
    "participants": [
        {"participantId": "p-agent", "purpose": "Agent", "userId": "u-1", "sessions": [_VOICE]},
        {"participantId": "p-ext", "purpose": "external", "sessions": [_VOICE]},
    ],
}


def test_a_backfilled_call_has_no_customer_when_external_is_not_one() -> None:
    assert call_facts(DIALLED) is None


def test_a_backfilled_calls_external_party_counts_when_set(external_is_customer: None) -> None:
    """Backfill reads ``identity.customer_purposes`` like the conversation read does."""
    facts = call_facts(DIALLED)
    assert facts is not None
    assert facts["customer_participant_id"] == "p-ext"
    assert facts["speakers"]["customer"]["role"] == "customer"
    assert facts["speakers"]["customer"]["address"] == "tel:+447700900123"
    # the agent is found whatever the purpose's case
    assert facts["speakers"]["agent"]["user_id"] == "u-1"


def test_a_backfilled_calls_customer_purpose_in_any_case() -> None:
    item = {"participants": [{"participantId": "p-c", "purpose": "CUSTOMER", "sessions": [_VOICE]}]}
    facts = call_facts(item)
    assert facts is not None
    assert facts["customer_participant_id"] == "p-c"


def _frame(*participants: dict[str, Any]) -> str:
    body = {"id": "c1", "participants": list(participants)}
    return json.dumps(
        {"topicName": "v2.routing.queues.q.conversations.messages", "eventBody": body}
    )


_GONE = {"purpose": "Customer", "state": "disconnected"}
_EXTERNAL_CONNECTED = {"purpose": "external", "state": "connected"}


def test_a_frame_ends_when_the_customer_left_whatever_the_case() -> None:
    assert classify(_frame(_GONE)).ended
    # a still connected external party is not the customer: it keeps nothing open
    assert classify(_frame(_GONE, _EXTERNAL_CONNECTED)).ended


def test_a_frame_with_a_connected_external_customer_is_not_over(
    external_is_customer: None,
) -> None:
    gone = {"purpose": "customer", "state": "disconnected"}
    assert not classify(_frame(gone, _EXTERNAL_CONNECTED)).ended


@pytest.mark.parametrize(
    ("purpose", "role"),
    [
        ("customer", "customer"),
        ("Customer", "customer"),
        (None, "customer"),  # no purpose given: the message stays the customer's
        ("external", "agent"),
        ("agent", "agent"),
        ("user", "agent"),
        ("acd", "agent"),
    ],
)
def test_a_speakers_role_follows_the_customer_purposes(purpose: str | None, role: str) -> None:
    """Every extractor labels by ``purposes``: ``external`` is not the customer by default."""
    assert from_topic_participant({"id": "p", "purpose": purpose}).role == role
    assert from_conversation_participant({"id": "p", "purpose": purpose}).role == role
    assert from_analytics_participant({"participantId": "p", "purpose": purpose}).role == role


def test_an_external_speaker_is_the_customer_when_set(external_is_customer: None) -> None:
    assert from_topic_participant({"id": "p", "purpose": "External"}).role == "customer"
    assert from_conversation_participant({"id": "p", "purpose": "external"}).role == "customer"
    assert from_analytics_participant({"participantId": "p", "purpose": "external"}).role == (
        "customer"
    )


def _transcript_entry(message_id: str, purpose: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": message_id,
        "messageMediaAttachments": [{"id": f"a-{message_id}", "mediaType": "audio/ogg"}],
    }
    if purpose is not None:
        entry["purpose"] = purpose
    return entry


#: a messaging recording's transcript: the customer's, the agent's, an external party's
#: and an entry that names no purpose
MESSAGING_RECORDING: dict[str, Any] = {
    "messagingTranscript": [
        _transcript_entry("m-cust", "Customer"),
        _transcript_entry("m-agent", "agent"),
        _transcript_entry("m-ext", "external"),
        _transcript_entry("m-none", None),
    ]
}


def test_a_messaging_recording_gives_the_customers_attachments_only() -> None:
    """The recording path takes the messages the event path takes (not the agent's)."""
    refs = attachments_from_recording("c1", MESSAGING_RECORDING)
    assert [r.message_id for r in refs] == ["m-cust", "m-none"]


def test_a_messaging_recording_takes_external_when_set(external_is_customer: None) -> None:
    refs = attachments_from_recording("c1", MESSAGING_RECORDING)
    assert [r.message_id for r in refs] == ["m-cust", "m-ext", "m-none"]
