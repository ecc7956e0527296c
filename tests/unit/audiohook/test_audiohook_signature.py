"""RFC 9421 verification as the AudioHook reference server does it."""

from __future__ import annotations

import pytest

from media_bridge.audiohook.signature import (
    VerifyResult,
    decode_secret,
    sign_request,
    verify_request_signature,
)

TARGET = "/api/v1/voicebiometrics/ws"
AUTHORITY = "audiohook.example.com"
API_KEY = "SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh"
SECRET = "TXlTdXBlclNlY3JldEtleVRlbGxOby0xITJAMyM0JDU="
CREATED = 1641013200
VECTOR_HEADERS = {
    "host": AUTHORITY,
    "audiohook-organization-id": "d7934305-0972-4844-938e-9060eef73d05",
    "audiohook-session-id": "30b0e395-84d3-4570-ac13-9a62d8f514c0",
    "audiohook-correlation-id": "e160e428-53e2-487c-977d-96989bf5c99d",
    "x-api-key": API_KEY,
    "signature-input": 'sig1=("@request-target" "@authority" "audiohook-organization-id" '
    '"audiohook-session-id" "audiohook-correlation-id" "x-api-key");'
    'keyid="SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh";nonce="VGhpc0lzQVVuaXF1ZU5vbmNl";'
    'alg="hmac-sha256";created=1641013200;expires=3282026430',
    "signature": "sig1=:NZBwyBHRRyRoeLqy1IzOa9VYBuI8TgMFt2GRDkDuJh4=:",
}


def keys(mapping: dict[str, str | None]):  # type: ignore[no-untyped-def]
    def lookup(key: str) -> tuple[bool, bytes | None]:
        if key not in mapping:
            return False, None
        secret = mapping[key]
        return True, decode_secret(secret) if secret else None

    return lookup


def verify(headers: dict[str, str], now: float = CREATED + 1, **kw: object) -> VerifyResult:
    lookup = kw.pop("lookup", keys({API_KEY: SECRET}))
    return verify_request_signature(
        headers,
        str(kw.pop("target", TARGET)),
        str(kw.pop("authority", AUTHORITY)),
        lookup,  # type: ignore[arg-type]
        now=lambda: now,
    )


def signed(**overrides: object) -> dict[str, str]:
    base = {k: v for k, v in VECTOR_HEADERS.items() if not k.startswith("signature")}
    sig = sign_request(
        request_target=TARGET,
        authority=AUTHORITY,
        organization_id=base["audiohook-organization-id"],
        session_id=base["audiohook-session-id"],
        correlation_id=base["audiohook-correlation-id"],
        api_key=API_KEY,
        client_secret_b64=str(overrides.pop("secret", SECRET)),
        nonce=str(overrides.pop("nonce", "VGhpc0lzQVVuaXF1ZU5vbmNl")),
        created=int(overrides.pop("created", CREATED)),  # type: ignore[call-overload]
        expires=int(overrides.pop("expires", CREATED + 60)),  # type: ignore[call-overload]
    )
    return base | {k.lower(): v for k, v in sig.items()}


def test_documented_vector_verifies() -> None:
    assert verify(VECTOR_HEADERS).code == "VERIFIED"


def test_signer_reproduces_the_documented_signature() -> None:
    headers = signed(expires=3282026430)
    assert headers["signature"] == VECTOR_HEADERS["signature"]
    assert headers["signature-input"] == VECTOR_HEADERS["signature-input"]


@pytest.mark.parametrize(
    "header", ["audiohook-organization-id", "audiohook-session-id", "audiohook-correlation-id"]
)
def test_tampered_header_fails(header: str) -> None:
    headers = dict(VECTOR_HEADERS)
    headers[header] = headers[header].replace("d", "e", 1).replace("3", "4", 1)
    assert verify(headers).code == "FAILED"


def test_tampered_target_and_authority_fail() -> None:
    assert verify(VECTOR_HEADERS, target="/other").code == "FAILED"
    assert verify(VECTOR_HEADERS, authority="evil.example.com").code == "FAILED"


def test_expired_signature_is_refused() -> None:
    assert verify(signed(expires=CREATED + 5), now=CREATED + 4).code == "EXPIRED"


def test_created_in_future_is_refused() -> None:
    assert verify(signed(), now=CREATED - 10).code == "PRECONDITION"


def test_replayed_old_signature_is_refused() -> None:
    # fresh within the window, refused once older than max age (10 s, 3 s skew)
    assert verify(signed(expires=CREATED + 3600), now=CREATED + 5).ok
    assert verify(signed(expires=CREATED + 3600), now=CREATED + 60).code == "EXPIRED"


def test_wrong_secret_fails() -> None:
    other = "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA=="
    assert verify(signed(secret=other)).code == "FAILED"


def test_unknown_api_key_fails_even_with_matching_signature() -> None:
    assert verify(VECTOR_HEADERS, lookup=keys({"someone-else": SECRET})).code == "FAILED"


def test_short_nonce_is_refused() -> None:
    assert verify(signed(nonce="short-nonce")).code == "PRECONDITION"


def test_keyid_must_equal_api_key() -> None:
    headers = dict(VECTOR_HEADERS)
    headers["signature-input"] = headers["signature-input"].replace(
        'keyid="SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh"', 'keyid="other"'
    )
    assert verify(headers).code == "PRECONDITION"


def test_all_six_components_required() -> None:
    headers = dict(VECTOR_HEADERS)
    headers["signature-input"] = headers["signature-input"].replace(' "x-api-key"', "")
    assert verify(headers).code == "PRECONDITION"


def test_only_hmac_sha256() -> None:
    headers = dict(VECTOR_HEADERS)
    headers["signature-input"] = headers["signature-input"].replace("hmac-sha256", "rsa-pss")
    assert not verify(headers).ok


def test_unsigned_requests_only_for_keys_without_secret() -> None:
    unsigned = {k: v for k, v in VECTOR_HEADERS.items() if not k.startswith("signature")}
    assert verify(unsigned).code == "UNSIGNED"
    assert verify(unsigned, lookup=keys({API_KEY: None})).ok
    assert verify(unsigned, lookup=keys({})).code == "UNSIGNED"


def test_garbage_headers_are_invalid_not_crashes() -> None:
    for bad in ["sig1=(", "sig1=:not base64!:", "=", 'sig1=("a" 12.5555)']:
        headers = dict(VECTOR_HEADERS, **{"signature-input": bad})
        assert verify(headers).code == "INVALID"
