"""Settings for speaker identity: how the speaker key is chosen and whether it is pseudonymised."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

#: the sources of a person-scope key, in the default order of preference
KeySource = Literal["external_contact", "phone", "platform_address"]
DEFAULT_KEY_ORDER: tuple[KeySource, ...] = ("external_contact", "phone", "platform_address")


class IdentitySettings(BaseModel):
    """``identity.*``: the speaker key of every delivery."""

    #: participant purposes taken for the customer (whose media, texts, consent and speaker
    #: key the bridge handles). Genesys documents ``customer``; add ``external`` only if your
    #: org's agent-dialled calls give the called party that purpose (not confirmed): an
    #: ``external`` party beside a customer would then be taken for the customer too
    customer_purposes: list[str] = Field(default_factory=lambda: ["customer"], min_length=1)

    #: which identity wins when several are known; the participant id (conversation scope)
    #: is always the last resort
    key_order: list[KeySource] = Field(default_factory=lambda: list(DEFAULT_KEY_ORDER))
    #: ISO 3166 region for phone numbers given without a country code (None: such numbers
    #: are not treated as phone numbers, except WhatsApp ids, which are E.164 digits)
    default_region: str | None = None
    #: with a secret, keys, addresses and external contact ids are keyed HMAC-SHA256
    #: values and display names are dropped (``*_FILE`` env vars read it from a file)
    pseudonymize_secret: SecretStr | None = None
    #: names the secret in use, so that a rotation is visible in every delivery
    key_version: str = Field(default="k1", min_length=1, max_length=32)

    @field_validator("key_order")
    @classmethod
    def _distinct(cls, value: list[KeySource]) -> list[KeySource]:
        if len(set(value)) != len(value):
            raise ValueError("identity.key_order lists a source twice")
        return value

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is None:
            return None
        import phonenumbers

        region = value.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"identity.default_region {value!r} is not an ISO 3166 region")
        return region
