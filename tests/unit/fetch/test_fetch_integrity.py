import base64
import hashlib

import pytest

from media_bridge.errors import Transient
from media_bridge.fetch.download import RejectedMedia, _check_integrity, parse_sha256

DATA = b"voice-note-bytes" * 100
DIGEST = hashlib.sha256(DATA).digest()


def test_sha256_accepts_hex_and_base64() -> None:
    assert parse_sha256(DIGEST.hex()) == DIGEST
    assert parse_sha256(DIGEST.hex().upper()) == DIGEST
    assert parse_sha256(base64.b64encode(DIGEST).decode()) == DIGEST
    assert parse_sha256(base64.urlsafe_b64encode(DIGEST).decode().rstrip("=")) == DIGEST
    assert parse_sha256("nope") is None


def test_matching_hash_passes_even_if_the_size_field_differs() -> None:
    _check_integrity(len(DATA), DIGEST, len(DATA), len(DATA) + 5, DIGEST.hex())


def test_complete_body_with_wrong_hash_is_rejected() -> None:
    with pytest.raises(RejectedMedia, match="checksum_mismatch") as info:
        _check_integrity(len(DATA), b"\x00" * 32, len(DATA), len(DATA), DIGEST.hex())
    assert info.value.reason == "checksum_mismatch"


def test_short_body_is_transient() -> None:
    with pytest.raises(Transient):
        _check_integrity(10, b"\x00" * 32, 20, None, None)
    with pytest.raises(Transient):  # no Content-Length, shorter than the API said
        _check_integrity(10, b"\x00" * 32, None, 20, DIGEST.hex())


def test_longer_than_declared_is_a_size_mismatch() -> None:
    with pytest.raises(RejectedMedia, match="size_mismatch"):
        _check_integrity(30, b"\x00" * 32, 30, 20, None)
