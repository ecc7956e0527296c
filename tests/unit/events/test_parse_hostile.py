"""Hostile bodies are rejected with a reason, never raised out of the parser."""

from __future__ import annotations

import pytest

from media_bridge.events.parse import Rejection, parse_payload_results


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
