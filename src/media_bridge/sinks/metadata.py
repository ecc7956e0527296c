"""The contract of delivery metadata (sidecars, HTTP deliveries, Kafka headers' JSON).

``SCHEMA_VERSION`` is raised when a field changes meaning or goes away; new fields may
appear without a raise. ``DeliveryMetadata`` describes the fields every audio delivery
shares; ``docs/delivery-metadata.schema.json`` is generated from it (``make schema``) and
a golden test keeps the two equal.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from media_bridge.identity.describe import SpeakerMetadata

#: 1: the first release (no version field); 2: ``speaker``, ``speakers`` and ``consent`` added
SCHEMA_VERSION = 2


class ConsentMetadata(BaseModel):
    """The shape of ``metadata.consent``."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    verdict: Literal["granted", "not_checked"]
    """not_checked: consent.mode is off. Refused and unknown clips are not delivered."""
    source: str
    """event, conversation, external_contact, audiohook, operator or setting."""
    checked_at: str
    """When the verdict was found (ISO 8601)."""


class DeliveryMetadata(BaseModel):
    """Fields shared by attachment, recording and AudioHook deliveries (others may follow)."""

    model_config = ConfigDict(
        extra="allow",
        title="genesys-media-bridge delivery metadata",
        use_attribute_docstrings=True,
    )

    schema_version: Literal[2]
    """Raised when a field changes meaning or goes away."""
    key: str
    """The idempotency key: a repeated delivery carries the same key."""
    kind: str
    """attachment, recording, chunk or final (AudioHook)."""
    conversation_id: str | None
    speaker: SpeakerMetadata
    """Who spoke in the delivered audio; a recording or an AudioHook session: the customer
    (see speakers)."""
    speakers: dict[str, SpeakerMetadata] | None = Field(default=None)
    """Recordings: customer and agent (the files of those roles); AudioHook: external and
    internal (the channels)."""
    consent: ConsentMetadata
    """The biometrics consent verdict that allowed this delivery."""


def json_schema() -> dict[str, Any]:
    return DeliveryMetadata.model_json_schema()


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
