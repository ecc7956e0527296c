"""The request signature of every HTTP delivery: Standard Webhooks, plus the legacy headers.

One scheme for the media, text, AudioHook and erasure deliveries, so that a receiver
verifies with a stock Standard Webhooks library (https://www.standardwebhooks.com/)::

    webhook-id:        <the delivery's idempotency key, the same on every retry>
    webhook-timestamp: <unix seconds of this attempt>
    webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}." + body)> [v1,<...>]

The first signature signs the exact request body bytes. A multipart delivery also carries
a second one over its ``metadata`` part alone, which lists every file's sha256 and size:
the stock Python library decodes the signed content as UTF-8 and so cannot take an audio
body, but verifies that part (docs/receivers.md). The key is the ``whsec_<base64>``
secret decoded, or a raw secret's UTF-8 bytes (what earlier releases signed with).

The legacy headers (``X-Bridge-Signature`` in its ``v1=`` and ``sha256=`` forms,
``X-Bridge-Timestamp``, ``X-Bridge-Metadata-Signature``) are added only when
``legacy_signature_headers`` is on, for one release.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence

from media_bridge.observability import get_logger

log = get_logger(__name__)

WEBHOOK_ID = "webhook-id"
WEBHOOK_TIMESTAMP = "webhook-timestamp"
WEBHOOK_SIGNATURE = "webhook-signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SECRET_PREFIX = "whsec_"  # noqa: S105 (a format prefix, not a secret)
#: how far a receiver should accept ``webhook-timestamp`` from its clock (the libraries' 5 min)
TOLERANCE_S = 300.0

LEGACY_SIGNATURE_HEADER = "X-Bridge-Signature"
LEGACY_TIMESTAMP_HEADER = "X-Bridge-Timestamp"
LEGACY_METADATA_SIGNATURE_HEADER = "X-Bridge-Metadata-Signature"


def now() -> float:
    """The signing clock (a test moves it to sign an old timestamp)."""
    return time.time()


def secret_key(secret: str) -> bytes:
    """The HMAC key: ``whsec_<base64>`` decoded, any other secret as its UTF-8 bytes."""
    if not secret.startswith(SECRET_PREFIX):
        return secret.encode()
    encoded = secret[len(SECRET_PREFIX) :]
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a whsec_ secret must be whsec_ followed by base64") from exc
    if not key:
        raise ValueError("a whsec_ secret must not be empty after whsec_")
    return key


def check_secret(secret: str | None) -> str | None:
    """A settings validator: a ``whsec_`` secret that does not decode fails at start."""
    if secret is not None:
        secret_key(secret)
    return secret


def start_mac(key: bytes, msg_id: str, timestamp: str) -> hmac.HMAC:
    """An HMAC fed the ``{id}.{timestamp}.`` prefix: update it with the body as it is read."""
    return hmac.new(key, f"{msg_id}.{timestamp}.".encode(), hashlib.sha256)


def signature_of(mac: hmac.HMAC) -> str:
    return "v1," + base64.b64encode(mac.digest()).decode()


def sign(key: bytes, msg_id: str, timestamp: str, content: bytes) -> str:
    mac = start_mac(key, msg_id, timestamp)
    mac.update(content)
    return signature_of(mac)


def webhook_headers(msg_id: str, timestamp: str, signatures: Sequence[str]) -> dict[str, str]:
    return {
        WEBHOOK_ID: msg_id,
        WEBHOOK_TIMESTAMP: timestamp,
        WEBHOOK_SIGNATURE: " ".join(signatures),
        IDEMPOTENCY_HEADER: msg_id,
    }


def verify(
    key: bytes,
    headers: Mapping[str, str],
    content: bytes,
    *,
    tolerance_s: float = TOLERANCE_S,
    at: float | None = None,
) -> bool:
    """The receiver's check, by the specification: one ``v1`` signature matches ``content``
    and the timestamp is within the tolerance."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id = lower.get(WEBHOOK_ID, "")
    timestamp = lower.get(WEBHOOK_TIMESTAMP, "")
    if not msg_id or not timestamp.isdigit():
        return False
    if abs((now() if at is None else at) - int(timestamp)) > tolerance_s:
        return False
    expected = sign(key, msg_id, timestamp, content)
    return any(hmac.compare_digest(expected, s) for s in lower.get(WEBHOOK_SIGNATURE, "").split())


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- legacy (one release, behind ``legacy_signature_headers``) ---------------------------


def warn_legacy_headers(setting: str) -> None:
    """Logged when a sink is built with its legacy setting on (at start)."""
    log.warning(
        "signing.legacy_headers",
        setting=setting,
        detail="the X-Bridge-Signature headers are deprecated and go in the next release; "
        "receivers should verify the Standard Webhooks headers (docs/receivers.md)",
    )


def legacy_v1_headers(
    key: bytes, msg_id: str, timestamp: str, part_hashes: Sequence[str]
) -> dict[str, str]:
    """``X-Bridge-Signature: v1=<hex HMAC(key, "ts.key.sha256(part1)...")>`` of the media and
    text sinks of earlier releases."""
    signing = ".".join([timestamp, msg_id, *(h.lower() for h in part_hashes)]).encode()
    digest = hmac.new(key, signing, hashlib.sha256).hexdigest()
    return {LEGACY_TIMESTAMP_HEADER: timestamp, LEGACY_SIGNATURE_HEADER: f"v1={digest}"}


def legacy_sha256_mac(key: bytes) -> hmac.HMAC:
    """The AudioHook sink's ``sha256=<hex HMAC(key, content)>`` of earlier releases: update
    it with the content, then format it with ``legacy_sha256``."""
    return hmac.new(key, digestmod=hashlib.sha256)


def legacy_sha256(mac: hmac.HMAC) -> str:
    return "sha256=" + mac.hexdigest()
