"""The speaker key: one string per person, the same across conversations and channels.

``ext:<external contact id>`` names the person Genesys' own contact record names;
``tel:+<E.164>`` is the same number on WhatsApp, SMS and a call; ``<platform>:<id>``
(``facebook:<psid>``, ``webmessaging:<guest id>``, ``open:<id>``) is stable on one
channel; ``participant:<id>`` (scope ``conversation``) tells the engine it must not
enrol on it. Agents are keyed by their Genesys user id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import phonenumbers

from media_bridge.identity.facts import SpeakerFacts
from media_bridge.identity.settings import KeySource

Scope = Literal["person", "conversation"]

#: platforms whose address is a phone number (WhatsApp ids are E.164 digits without '+')
PHONE_PLATFORMS = frozenset({"whatsapp", "sms", "voice"})


@dataclass(frozen=True, slots=True)
class SpeakerKey:
    key: str
    scope: Scope
    #: which identity gave the key: external_contact, phone, platform_address, user, participant
    source: str
    #: every person-scope key the facts give, in preference order (the key first)
    aliases: tuple[str, ...]


def e164(address: str | None, facts: SpeakerFacts, default_region: str | None) -> str | None:
    """The address as ``+<E.164>`` when it is a possible phone number, else None."""
    if not address:
        return None
    raw = address.strip()
    lowered = raw.lower()
    for prefix in ("tel:", "sip:"):
        if lowered.startswith(prefix):
            raw = raw[len(prefix) :].split("@", 1)[0].split(";", 1)[0]
            lowered = prefix  # an explicit telephone URI
            break
    phone_like = (
        lowered in ("tel:", "sip:")
        or (facts.id_type or "").lower() == "phone"
        or (facts.platform or "") in PHONE_PLATFORMS
    )
    if not phone_like:
        return None
    digits = raw.replace(" ", "").replace("-", "").replace("(", "").replace(")", "")
    region = default_region
    if not digits.startswith("+"):
        if digits.startswith("00"):
            digits = "+" + digits[2:]
        elif (facts.platform == "whatsapp" or (facts.id_type or "").lower() == "phone") and (
            region is None
        ):
            digits = "+" + digits  # WhatsApp and idType Phone: E.164 without the '+'
        elif region is None:
            return None
    try:
        number = phonenumbers.parse(digits, None if digits.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _candidate(source: KeySource, facts: SpeakerFacts, default_region: str | None) -> str | None:
    if source == "external_contact":
        return f"ext:{facts.external_contact_id}" if facts.external_contact_id else None
    if source == "phone":
        number = e164(facts.address, facts, default_region)
        return f"tel:{number}" if number else None
    if facts.address and facts.platform and facts.platform not in PHONE_PLATFORMS:
        return f"{facts.platform}:{facts.address}"
    return None


def speaker_key(
    facts: SpeakerFacts,
    order: Sequence[KeySource],
    default_region: str | None,
    conversation_id: str,
) -> SpeakerKey:
    """The preferred key of ``facts``; the participant (conversation scope) as a last resort."""
    if facts.role == "agent" and facts.user_id:
        return SpeakerKey(f"user:{facts.user_id}", "person", "user", (f"user:{facts.user_id}",))
    found = [(s, k) for s in order if (k := _candidate(s, facts, default_region))]
    if found:
        source, key = found[0]
        return SpeakerKey(key, "person", source, tuple(k for _, k in found))
    if facts.participant_id:
        fallback = f"participant:{facts.participant_id}"
    else:
        fallback = f"conversation:{conversation_id}:{facts.role}"
    return SpeakerKey(fallback, "conversation", "participant", ())
