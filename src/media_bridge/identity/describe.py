"""``metadata.speaker``: the speaker facts with their key, pseudonymised when configured.

Pseudonymisation replaces the key, its aliases, the address and the external contact id
by ``HMAC-SHA256(secret, value)`` (hex) and drops the display name: an engine can still
group clips by person without ever seeing a phone number. ``key_version`` names the
secret, so a rotation (which changes every key) is visible in each delivery.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from media_bridge.identity.facts import SpeakerFacts, merge
from media_bridge.identity.keys import e164, speaker_key
from media_bridge.identity.settings import IdentitySettings


class SpeakerMetadata(BaseModel):
    """The shape of ``metadata.speaker`` (and of each value of ``metadata.speakers``)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    role: Literal["customer", "agent"]
    """Which side of the conversation spoke."""
    key: str
    """The same string for the same person across conversations (when key_scope is person):
    ext:<external contact id>, tel:+<E.164>, <platform>:<address>, user:<user id>; or
    participant:<id> / conversation:<id>:<role> (scope conversation). A keyed hash when
    pseudonymized."""
    key_scope: Literal["person", "conversation"]
    """person: an engine may enrol and verify on the key; conversation: it must not."""
    key_source: str
    """Which identity gave the key: external_contact, phone, platform_address, user,
    participant."""
    aliases: list[str]
    """Every person-scope key the bridge could derive, preferred first: links a caller's
    tel: key to the ext: key of the same person."""
    address: str | None = None
    """As Genesys gives it (E.164 for phone numbers): a WhatsApp number, a Messenger PSID,
    a guest id, an ANI. A keyed hash when pseudonymized."""
    id_type: str | None = None
    """The messaging sender's idType (Phone, Opaque, Email, ...)."""
    display_name: str | None = None
    """A name or nickname where Genesys gives one; dropped when pseudonymized."""
    external_contact_id: str | None = None
    """The Genesys external contact; a keyed hash (of ext:<id>) when pseudonymized."""
    external_organization_id: str | None = None
    platform: str | None = None
    """whatsapp, facebook, webmessaging, open, sms, instagram, voice, ..."""
    participant_id: str | None = None
    """The Genesys participant: one conversation only."""
    user_id: str | None = None
    """Agents: the Genesys user id."""
    pseudonymized: bool = False
    key_version: str | None = None
    """The name of the pseudonymisation secret in use (identity.key_version), else null."""
    net_speech_total_s: float | None = None
    """Net speech of every clip of this key delivered so far, this one included, each
    counted once (a job run again adds nothing); null without an audio report (or for a
    mono call recording, whose mix holds both sides). Conversation-scope keys count within
    their conversation only."""
    clips: int | None = None
    """How many clips make up net_speech_total_s."""
    enrolment_ready: bool | None = None
    """net_speech_total_s reached audio.enrolment_min_speech_s (20 s by default) and the key
    is person-scope: a voiceprint can be created. Always false for conversation scope."""


class SpeakerDescriber:
    """Turns ``SpeakerFacts`` into ``metadata.speaker`` under one ``IdentitySettings``."""

    def __init__(self, settings: IdentitySettings) -> None:
        self.settings = settings
        secret = settings.pseudonymize_secret
        self._secret = secret.get_secret_value().encode() if secret is not None else None

    @property
    def pseudonymizing(self) -> bool:
        return self._secret is not None

    def pseudonym(self, value: str) -> str:
        """The keyed hash of ``value`` (the value itself when pseudonymisation is off)."""
        if self._secret is None:
            return value
        return hmac.new(
            self._secret, value.encode("utf-8", "surrogatepass"), hashlib.sha256
        ).hexdigest()

    def describe(self, facts: SpeakerFacts | None, conversation_id: str) -> dict[str, Any]:
        facts = facts or SpeakerFacts()
        found = speaker_key(
            facts, self.settings.key_order, self.settings.default_region, conversation_id
        )
        address = facts.address
        if address is not None:
            # the normalised number where there is one, so its pseudonym matches across channels
            address = e164(address, facts, self.settings.default_region) or address
        hide = self.pseudonym
        on = self.pseudonymizing
        person = found.scope == "person"
        model = SpeakerMetadata(
            role=facts.role,
            key=hide(found.key) if person else found.key,
            key_scope=found.scope,
            key_source=found.source,
            aliases=[hide(a) for a in found.aliases],
            address=hide(address) if address is not None else None,
            id_type=facts.id_type,
            display_name=None if on else facts.display_name,
            external_contact_id=(
                hide(f"ext:{facts.external_contact_id}")
                if on and facts.external_contact_id
                else facts.external_contact_id
            ),
            external_organization_id=facts.external_organization_id,
            platform=facts.platform,
            participant_id=facts.participant_id,
            user_id=facts.user_id,
            pseudonymized=on,
            key_version=self.settings.key_version if on else None,
        )
        return model.model_dump()

    def key(
        self,
        facts: SpeakerFacts | None,
        conversation_id: str,
        *,
        role: str | None = None,
        participant_id: str | None = None,
    ) -> str:
        """Just the key: the flat ``speaker_key`` of NLP records.

        ``role`` and ``participant_id`` fill in what the facts lack (a transcript line
        knows its side of the call, a text its participant).
        """
        if facts is None and participant_id is None and role not in (None, "customer", "agent"):
            return f"conversation:{conversation_id}:{role}"  # a transcript's unknown side
        fallback = SpeakerFacts(
            role="agent" if role == "agent" else "customer", participant_id=participant_id
        )
        return str(self.describe(merge(facts, fallback), conversation_id)["key"])

    def address(self, value: str | None, facts: SpeakerFacts | None = None) -> str | None:
        """A raw address (an ANI in older metadata fields) as deliveries may show it."""
        if value is None or not self.pseudonymizing:
            return value
        facts = facts or SpeakerFacts(platform="voice")
        return self.pseudonym(e164(value, facts, self.settings.default_region) or value)
