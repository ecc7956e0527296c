"""The published JSON Schema of delivery metadata is the model's (``make schema`` rewrites it)."""

from __future__ import annotations

from pathlib import Path

from media_bridge.sinks.metadata import SCHEMA_VERSION, json_schema, json_schema_text

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "delivery-metadata.schema.json"


def test_the_committed_schema_matches_the_model() -> None:
    assert SCHEMA.read_text(encoding="utf-8") == json_schema_text(), "run: make schema"


def test_the_schema_pins_the_version_and_requires_a_speaker() -> None:
    schema = json_schema()
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    assert {"schema_version", "key", "kind", "speaker", "consent"} <= set(schema["required"])
    speaker = schema["$defs"]["SpeakerMetadata"]
    assert {"role", "key", "key_scope"} <= set(speaker["required"])
    assert speaker["additionalProperties"] is False
