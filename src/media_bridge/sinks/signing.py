"""The HMAC-SHA256 request signature of the HTTP sinks, and its verification.

Scheme ``v1`` (what a receiver implements)::

    X-Bridge-Timestamp: <unix seconds>
    Idempotency-Key:    <delivery key>
    X-Bridge-Signature: v1=<hex HMAC-SHA256(secret, signing string)>

    signing string = "<timestamp>.<delivery key>.<sha256 hex of part 1>.<sha256 hex of part 2>..."

The parts are the request's body parts in order: for a media delivery the metadata
JSON part, then each file part; for a text record the JSON body. Signing hashes of
the parts (not the body) lets the sender stream files from disk and the receiver
verify while streaming, and it does not depend on multipart boundaries. The
metadata JSON also lists each file's sha256, which the receiver checks against the
bytes. Receivers should reject timestamps more than a few minutes off and may use
the Idempotency-Key to drop repeats.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence

SIGNATURE_HEADER = "X-Bridge-Signature"
TIMESTAMP_HEADER = "X-Bridge-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SCHEME = "v1"


def signing_string(timestamp: str, key: str, part_hashes: Sequence[str]) -> bytes:
    return ".".join([timestamp, key, *(h.lower() for h in part_hashes)]).encode()


def sign(secret: str, timestamp: str, key: str, part_hashes: Sequence[str]) -> str:
    mac = hmac.new(secret.encode(), signing_string(timestamp, key, part_hashes), hashlib.sha256)
    return f"{SCHEME}={mac.hexdigest()}"


def signed_headers(
    secret: str, key: str, part_hashes: Sequence[str], now: float | None = None
) -> dict[str, str]:
    timestamp = str(int(time.time() if now is None else now))
    return {
        TIMESTAMP_HEADER: timestamp,
        IDEMPOTENCY_HEADER: key,
        SIGNATURE_HEADER: sign(secret, timestamp, key, part_hashes),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    part_hashes: Sequence[str],
    *,
    tolerance_s: float = 300.0,
    now: float | None = None,
) -> bool:
    """The receiver's check: signature matches and the timestamp is recent."""
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    key = headers.get(IDEMPOTENCY_HEADER, "")
    signature = headers.get(SIGNATURE_HEADER, "")
    if not timestamp.isdigit() or not key:
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(signature, sign(secret, timestamp, key, part_hashes))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
