"""Redaction of secrets before anything is logged or stored as an error text.

Bearer tokens and signed URLs are bearer-equivalent while valid: a log line must
never carry one. URLs keep scheme, host and path; the query (signature, expiry,
key pair) is replaced.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

_SECRET_KEYS = re.compile(
    r"(authorization|token|secret|password|signature|api[_-]?key|cookie)", re.IGNORECASE
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_URL = re.compile(r"https?://[^\s\"'<>]+")
REDACTED = "[redacted]"


def redact_url(url: str) -> str:
    """Drop the query and fragment of a URL (they hold signatures and expiries)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    query = REDACTED if parts.query else ""
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path, query, ""))


def redact_text(text: str) -> str:
    """Redact bearer/basic credentials and URL queries inside free text."""
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _URL.sub(lambda m: redact_url(m.group(0)), text)


def redact_value(key: str, value: Any) -> Any:
    """Redact a structured log field by its name, or the URLs/tokens inside its text."""
    if _SECRET_KEYS.search(key):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(key, v) for v in value]
    return value


#: event fields that carry a person's address, name or words (masked in rejected events)
PERSONAL_KEYS = frozenset(
    {
        "address", "addressFrom", "addressTo", "fromAddress", "toAddress", "addressNormalized",
        "addressRaw", "addressDisplayable", "ani", "aniName", "name", "nickname", "firstName",
        "lastName", "email", "text", "transcript", "decoratedTranscript", "displayName",
    }
)  # fmt: skip
MASKED = "[masked]"
_DIGITS = re.compile(r"\+?\d[\d\s().-]{6,}\d")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: (MASKED if k in PERSONAL_KEYS and isinstance(v, str) and v else _mask(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


def mask_personal(raw: bytes) -> bytes:
    """An event body as the rejected-events table keeps it: addresses, names and texts
    masked (JSON by field name; anything else by phone-number and e-mail patterns)."""
    import json

    try:
        decoded = json.loads(raw)
    except ValueError:
        text = raw.decode("utf-8", errors="replace")
        return _EMAIL.sub(MASKED, _DIGITS.sub(MASKED, text)).encode()
    # ASCII escapes: a lone surrogate (refused by the parser, kept here) stays storable
    return json.dumps(_mask(decoded)).encode()
