"""The speaker key: one string per person across conversations and channels."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from pydantic import SecretStr, ValidationError

from media_bridge.identity import IdentitySettings, SpeakerDescriber, SpeakerFacts
from media_bridge.identity.keys import e164, speaker_key
from media_bridge.identity.settings import DEFAULT_KEY_ORDER

CONV = "c0ffee00-0000-4000-8000-000000000001"


def key_of(facts: SpeakerFacts, **settings: object) -> tuple[str, str]:
    found = speaker_key(
        facts,
        settings.get("order", DEFAULT_KEY_ORDER),  # type: ignore[arg-type]
        settings.get("region"),  # type: ignore[arg-type]
        CONV,
    )
    return found.key, found.scope


def test_the_external_contact_wins_by_default() -> None:
    facts = SpeakerFacts(platform="whatsapp", address="447700900123", external_contact_id="ec-1")
    assert key_of(facts) == ("ext:ec-1", "person")


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        # WhatsApp ids are E.164 digits without the '+'
        (SpeakerFacts(platform="whatsapp", address="447700900123"), "tel:+447700900123"),
        (SpeakerFacts(platform="whatsapp", address="+44 7700 900123"), "tel:+447700900123"),
        # a call's ANI is a tel: URI
        (SpeakerFacts(platform="voice", address="tel:+447700900123"), "tel:+447700900123"),
        (
            SpeakerFacts(platform="voice", address="sip:+447700900123@carrier.example"),
            "tel:+447700900123",
        ),
        (SpeakerFacts(platform="sms", address="+14155550123"), "tel:+14155550123"),
        # an open messaging id declared as a phone number
        (SpeakerFacts(platform="open", address="14155550123", id_type="Phone"), "tel:+14155550123"),
    ],
)
def test_phone_numbers_become_one_e164_key_whatever_the_channel(
    facts: SpeakerFacts, expected: str
) -> None:
    assert key_of(facts) == (expected, "person")


def test_the_same_number_on_whatsapp_and_on_a_call_is_one_key() -> None:
    whatsapp = SpeakerFacts(platform="whatsapp", address="447700900123")
    call = SpeakerFacts(platform="voice", address="tel:+447700900123")
    assert key_of(whatsapp)[0] == key_of(call)[0]


@pytest.mark.parametrize(
    ("platform", "address", "expected"),
    [
        ("facebook", "6472f1a3psid", "facebook:6472f1a3psid"),
        ("webmessaging", "guest-1", "webmessaging:guest-1"),
        ("open", "user@example", "open:user@example"),
    ],
)
def test_other_messengers_are_keyed_by_platform_and_address(
    platform: str, address: str, expected: str
) -> None:
    assert key_of(SpeakerFacts(platform=platform, address=address)) == (expected, "person")


def test_without_an_identity_the_participant_key_has_conversation_scope() -> None:
    assert key_of(SpeakerFacts(participant_id="p-1")) == ("participant:p-1", "conversation")
    assert key_of(SpeakerFacts()) == (f"conversation:{CONV}:customer", "conversation")


def test_an_unparseable_number_is_not_a_phone_key() -> None:
    facts = SpeakerFacts(platform="voice", address="tel:anonymous", participant_id="p-2")
    assert key_of(facts) == ("participant:p-2", "conversation")


def test_national_numbers_need_a_default_region() -> None:
    facts = SpeakerFacts(platform="voice", address="tel:07700900123")
    assert key_of(facts)[1] == "conversation"
    assert key_of(facts, region="GB") == ("tel:+447700900123", "person")


def test_the_order_of_preference_is_configurable() -> None:
    facts = SpeakerFacts(platform="whatsapp", address="447700900123", external_contact_id="ec-1")
    assert key_of(facts, order=("phone", "external_contact")) == ("tel:+447700900123", "person")


def test_agents_are_keyed_by_their_user_id() -> None:
    facts = SpeakerFacts(role="agent", user_id="u-1", participant_id="p-9")
    assert key_of(facts) == ("user:u-1", "person")


def test_aliases_list_every_person_key_in_order() -> None:
    facts = SpeakerFacts(platform="whatsapp", address="447700900123", external_contact_id="ec-1")
    meta = SpeakerDescriber(IdentitySettings()).describe(facts, CONV)
    assert meta["aliases"] == ["ext:ec-1", "tel:+447700900123"]
    assert meta["address"] == "+447700900123"


def test_e164_ignores_addresses_that_are_not_phone_like() -> None:
    assert e164("someone@example.com", SpeakerFacts(platform="open"), None) is None


def test_pseudonymisation_hides_every_raw_identifier() -> None:
    settings = IdentitySettings(pseudonymize_secret=SecretStr("s3cret"), key_version="2026-12")
    facts = SpeakerFacts(
        platform="whatsapp",
        address="447700900123",
        display_name="Alex Morgan",
        external_contact_id="ec-1",
        participant_id="p-1",
    )
    meta = SpeakerDescriber(settings).describe(facts, CONV)

    def mac(value: str) -> str:
        return hmac.new(b"s3cret", value.encode(), hashlib.sha256).hexdigest()

    assert meta["key"] == mac("ext:ec-1")
    assert meta["aliases"] == [mac("ext:ec-1"), mac("tel:+447700900123")]
    assert meta["address"] == mac("+447700900123")
    assert meta["external_contact_id"] == mac("ext:ec-1")
    assert meta["display_name"] is None
    assert meta["pseudonymized"] is True
    assert meta["key_version"] == "2026-12"
    text = repr(meta)
    for raw in ("447700900123", "ec-1", "Alex"):
        assert raw not in text


def test_pseudonyms_match_across_channels_and_change_with_the_secret() -> None:
    whatsapp = SpeakerFacts(platform="whatsapp", address="447700900123")
    call = SpeakerFacts(platform="voice", address="tel:+447700900123")
    one = SpeakerDescriber(IdentitySettings(pseudonymize_secret=SecretStr("a")))
    two = SpeakerDescriber(IdentitySettings(pseudonymize_secret=SecretStr("b")))
    assert one.describe(whatsapp, CONV)["key"] == one.describe(call, CONV)["key"]
    assert one.describe(whatsapp, CONV)["key"] != two.describe(whatsapp, CONV)["key"]


def test_conversation_scope_keys_are_not_hashed() -> None:
    """They identify no person, and an operator needs them to find the conversation."""
    describer = SpeakerDescriber(IdentitySettings(pseudonymize_secret=SecretStr("a")))
    assert describer.describe(SpeakerFacts(participant_id="p-1"), CONV)["key"] == "participant:p-1"


def test_nlp_keys_take_the_role_and_participant_the_facts_lack() -> None:
    describer = SpeakerDescriber(IdentitySettings())
    assert describer.key(None, CONV, role="agent") == f"conversation:{CONV}:agent"
    assert describer.key(None, CONV, participant_id="p-3") == "participant:p-3"
    assert describer.key(None, CONV, role="unknown") == f"conversation:{CONV}:unknown"


def test_settings_refuse_an_unknown_region_and_a_repeated_source() -> None:
    with pytest.raises(ValidationError, match="default_region"):
        IdentitySettings(default_region="XX")
    with pytest.raises(ValidationError, match="twice"):
        IdentitySettings(key_order=["phone", "phone"])
    assert IdentitySettings(default_region="gb").default_region == "GB"
