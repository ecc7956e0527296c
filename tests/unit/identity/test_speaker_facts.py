"""Speaker facts from what Genesys already sends: events and reads a job makes anyway."""

from __future__ import annotations

from media_bridge.identity import SpeakerFacts, merge
from media_bridge.identity.facts import (
    from_audiohook,
    from_conversation_participant,
    from_detail_event,
    from_message,
    from_topic_participant,
)


def test_a_message_topic_participant() -> None:
    facts = from_topic_participant(
        {
            "id": "p-1",
            "purpose": "customer",
            "type": "whatsapp",
            "address": "+447700900123",
            "name": "Alex",
            "externalContact": {"id": "ec-1"},
            "externalOrganization": {"id": "eo-1"},
        }
    )
    assert facts == SpeakerFacts(
        role="customer",
        participant_id="p-1",
        platform="whatsapp",
        address="+447700900123",
        display_name="Alex",
        external_contact_id="ec-1",
        external_organization_id="eo-1",
    )


def test_an_inbound_message_names_its_sender() -> None:
    message = {
        "direction": "inbound",
        "fromAddress": "ignored-when-from-has-an-id",
        "normalizedMessage": {
            "channel": {
                "platform": "Facebook",
                "from": {
                    "id": "psid-9",
                    "idType": "Opaque",
                    "firstName": "Sam",
                    "lastName": "Patel",
                    "externalContactId": "ec-2",
                },
            }
        },
    }
    facts = from_message(message)
    assert facts is not None
    assert (facts.platform, facts.address, facts.id_type) == ("facebook", "psid-9", "Opaque")
    assert (facts.display_name, facts.external_contact_id) == ("Sam Patel", "ec-2")


def test_an_outbound_message_says_nothing_about_the_customer() -> None:
    assert from_message({"direction": "outbound", "fromAddress": "integration"}) is None


def test_a_call_participant_gives_the_ani() -> None:
    facts = from_conversation_participant(
        {
            "id": "p-2",
            "purpose": "customer",
            "ani": "tel:+447700900123",
            "aniName": "Alex",
            "externalContactId": "ec-1",
            "calls": [{"id": "s-1"}],
        }
    )
    assert (facts.platform, facts.address, facts.display_name) == (
        "voice",
        "tel:+447700900123",
        "Alex",
    )
    assert facts.external_contact_id == "ec-1"


def test_an_agent_participant_gives_the_user() -> None:
    facts = from_conversation_participant({"id": "p-3", "purpose": "agent", "userId": "u-1"})
    assert (facts.role, facts.user_id) == ("agent", "u-1")


def test_detail_events_give_the_ani_and_the_only_external_contact() -> None:
    facts = from_detail_event(
        {
            "mediaType": "VOICE",
            "ani": "tel:+14155550123",
            "conversationExternalContactIds": ["ec-5"],
            "participantId": "p-4",
        }
    )
    assert facts is not None
    assert (facts.address, facts.external_contact_id, facts.platform) == (
        "tel:+14155550123",
        "ec-5",
        "voice",
    )
    assert from_detail_event({"mediaType": "VOICE"}) is None


def test_audiohook_open_participant() -> None:
    facts = from_audiohook({"id": "p-5", "ani": "+14155550123", "aniName": "Kim", "dnis": "+1800"})
    assert (facts.address, facts.display_name, facts.platform) == ("+14155550123", "Kim", "voice")
    assert from_audiohook(None) == SpeakerFacts(platform="voice")


def test_merge_keeps_the_first_source_and_fills_its_gaps() -> None:
    event = SpeakerFacts(participant_id="p-1", platform="whatsapp", address="+447700900123")
    read = SpeakerFacts(address="447700900123", external_contact_id="ec-1", display_name="A")
    merged = merge(event, read)
    assert merged == SpeakerFacts(
        participant_id="p-1",
        platform="whatsapp",
        address="+447700900123",
        external_contact_id="ec-1",
        display_name="A",
    )
    assert merge(None, read) is read
    assert merge(event, None) is event


def test_payload_round_trip_ignores_odd_values() -> None:
    facts = SpeakerFacts(role="agent", user_id="u-1", platform="voice")
    assert SpeakerFacts.from_payload(facts.to_payload()) == facts
    assert SpeakerFacts.from_payload({"address": 5, "role": "boss", "x": "y"}) == SpeakerFacts()
    assert SpeakerFacts.from_payload("nope") is None
