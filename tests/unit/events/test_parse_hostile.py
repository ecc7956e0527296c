"""Hostile bodies are rejected with a reason, never raised out of the parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from media_bridge.errors import BadInput
from media_bridge.intake.events.envelope import decode_json
from media_bridge.intake.events.parse import ParseResult, Rejection, parse_payload_results


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b"{" * 100_000,
        b'{"a":' * 50_000,
        b"[" + b"[" * 50_000 + b"]" * 50_000 + b"]",
        b'{"version": "0"}\n' + b"[" * 100_000,
    ],
)
def test_deeply_nested_json_is_rejected(body: bytes) -> None:
    results = parse_payload_results(body)
    assert results
    assert all(isinstance(r, Rejection) for r in results)


_EVENT = (
    Path(__file__).parents[2] / "fixtures" / "events" / "message_queue_voice_note.json"
).read_bytes()


@pytest.mark.parametrize(
    ("body", "reason_part"),
    [
        (_EVENT.replace(b"Jane Doe", b"Jane\\u0000Doe"), "participants[0].name contains NUL"),
        (_EVENT.replace(b"Jane Doe", b"Jane\\udc00Doe"), "lone surrogate"),
        (_EVENT.replace(b"Jane Doe", b"Jane\xed\xa0\x80Doe"), "lone surrogate"),  # raw UTF-8
        (_EVENT.replace(b'"name": "Jane', b'"na\\u0000me": "Jane'), "a key under"),
        (_EVENT.replace(b"18234", b"NaN"), "contentLengthBytes is nan"),
        (_EVENT.replace(b"18234", b"-Infinity"), "is -inf"),
        (_EVENT.replace(b"18234", b"1e400"), "is inf"),
    ],
)
def test_what_no_ledger_can_store_is_rejected_at_parse_time(body: bytes, reason_part: str) -> None:
    (result,) = parse_payload_results(body)
    assert isinstance(result, Rejection)
    assert reason_part in result.reason
    assert result.raw == body


@pytest.mark.parametrize(
    "literal", [b"NaN", b"Infinity", b"1e999"], ids=["nan", "infinity", "overflow"]
)
def test_non_finite_numbers_are_refused_while_decoding(literal: bytes) -> None:
    with pytest.raises(BadInput, match="not a finite number"):
        decode_json(_EVENT.replace(b"18234", literal))


def test_a_valid_surrogate_pair_is_kept() -> None:
    (result,) = parse_payload_results(_EVENT.replace(b"Jane Doe", b"Jane \\ud83d\\ude00"))
    assert isinstance(result, ParseResult)
