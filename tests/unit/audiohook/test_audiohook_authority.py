"""``@authority``: a signature over the raw Host or over its RFC 9421 form both verify."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from media_bridge.audiohook.server import AudioHookServer
from media_bridge.audiohook.settings import AudioHookSettings
from media_bridge.audiohook.signature import sign_request

API_KEY = "authority-key"
SECRET = "dGVzdC1jbGllbnQtc2VjcmV0LXZhbHVlLTEyMzQ1Ng=="
NOW = 1_700_000_000
TARGET = "/api/v1/audiohook/ws"


def _headers(signed_authority: str, host: str) -> dict[str, str]:
    ids = {
        "audiohook-organization-id": str(uuid.uuid4()),
        "audiohook-session-id": str(uuid.uuid4()),
        "audiohook-correlation-id": str(uuid.uuid4()),
    }
    signature = sign_request(
        request_target=TARGET,
        authority=signed_authority,
        organization_id=ids["audiohook-organization-id"],
        session_id=ids["audiohook-session-id"],
        correlation_id=ids["audiohook-correlation-id"],
        api_key=API_KEY,
        client_secret_b64=SECRET,
        created=NOW,
    )
    return {
        **ids,
        "host": host,
        "x-api-key": API_KEY,
        **{name.lower(): value for name, value in signature.items()},
    }


@pytest.mark.parametrize(
    ("signed", "host"),
    [
        ("127.0.0.1:80", "127.0.0.1:80"),  # raw, with the default port
        ("127.0.0.1", "127.0.0.1:80"),  # normalised
        ("Bridge.Example.COM", "Bridge.Example.COM"),  # raw, mixed case
        ("bridge.example.com", "Bridge.Example.COM"),  # normalised
        ("bridge.example.com:443", "bridge.example.com:443"),
    ],
)
def test_raw_and_normalised_authorities_both_verify(tmp_path: Path, signed: str, host: str) -> None:
    server = AudioHookServer(
        AudioHookSettings(api_keys={API_KEY: SECRET}, spool_dir=tmp_path), clock=lambda: NOW
    )
    result = server.authenticate(_headers(signed, host), TARGET)
    assert result.ok, result


def test_another_authority_still_fails(tmp_path: Path) -> None:
    server = AudioHookServer(
        AudioHookSettings(api_keys={API_KEY: SECRET}, spool_dir=tmp_path), clock=lambda: NOW
    )
    result = server.authenticate(_headers("other.example.com", "bridge.example.com"), TARGET)
    assert not result.ok
    assert result.reason == "signature mismatch"
