"""``consent.*``: whether biometric audio needs the person's recorded consent, and where it is.

Genesys has no built-in biometrics-consent field. The usual practice is an Architect flow
that asks and records the answer as participant data (``participant_attribute``), or a
custom field on the external contact so that it persists across conversations
(``external_contact``). Names and values are the operator's: nothing is assumed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

ConsentMode = Literal["off", "participant_attribute", "external_contact"]


class ConsentSettings(BaseModel):
    #: off (default: deliver as before, verdict ``not_checked``) | participant_attribute |
    #: external_contact
    mode: ConsentMode = "off"
    #: the participant data key an Architect flow sets (``participants[].attributes``)
    attribute: str = Field(default="biometricsConsent", min_length=1)
    #: the external contact's custom field (``customFields``) holding the answer
    external_contact_field: str = Field(default="biometricsConsent", min_length=1)
    #: values meaning yes / no (case-insensitive); anything else is ``unknown``
    granted_values: list[str] = Field(default_factory=lambda: ["granted", "yes", "true"])
    #: values meaning no (case-insensitive)
    refused_values: list[str] = Field(
        default_factory=lambda: ["refused", "no", "false", "denied", "withdrawn"]
    )
    #: how long an external contact's verdict is reused: one read per contact per period
    cache_s: float = Field(default=900.0, ge=0)
    #: a clip whose consent is unknown waits (no audio fetched) this long, then is refused
    hold_max_s: float = Field(default=1800.0, ge=0)
    #: how often a held clip's consent is checked again (one read each time)
    recheck_s: float = Field(default=30.0, gt=0)
    #: also hold message texts for NLP (texts are not biometric: off by default)
    hold_texts: bool = False

    @field_validator("granted_values", "refused_values")
    @classmethod
    def _lowered(cls, values: list[str]) -> list[str]:
        return [v.strip().lower() for v in values if v.strip()]
