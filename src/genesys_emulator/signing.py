"""Signed storage URLs (CloudFront/S3 style): path + Expires, HMAC-signed with an emulator key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import quote

KEY_PAIR_ID = "APKAEMULATOR0000000"


def signature(secret: bytes, path: str, expires: int) -> str:
    digest = hmac.new(secret, f"{path}\n{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign_path(secret: bytes, path: str, ttl_s: float, now: float | None = None) -> str:
    """``path?Expires=..&Signature=..&Key-Pair-Id=..`` valid for ``ttl_s`` seconds."""
    expires = int((now if now is not None else time.time()) + ttl_s)
    quoted = quote(path)
    sig = signature(secret, quoted, expires)
    return f"{quoted}?Expires={expires}&Signature={sig}&Key-Pair-Id={KEY_PAIR_ID}"


def verify(secret: bytes, raw_path: str, expires: str | None, sig: str | None) -> str:
    """'ok', 'expired' or 'bad' for a request's path and query values."""
    if not expires or not sig or not expires.isdigit():
        return "bad"
    if not hmac.compare_digest(signature(secret, raw_path, int(expires)), sig):
        return "bad"
    if time.time() >= int(expires):
        return "expired"
    return "ok"
