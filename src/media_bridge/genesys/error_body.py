"""Turning a Genesys ``ErrorBody`` answer into one of the bridge's error types.

Pure functions, so the mapping is tested without a server. The permission names are
read from ``messageParams`` when Genesys fills it, else from the bracketed list in the
message text (``... missing the following permission(s): [a:b:c, d:e:f]``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from media_bridge.errors import BadInput, BridgeError, NotFound, PermissionMissing, Transient
from media_bridge.redact import redact_text

MISSING_ALL = "missing.permissions"
MISSING_ANY = "missing.any.permissions"
_PERMISSION = re.compile(r"[A-Za-z][\w-]*:[\w-]+:[\w-]+")
_BRACKETS = re.compile(r"\[([^\]]*)\]")


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """The fields of ``ErrorBody`` the bridge acts on (every field optional)."""

    status: int
    code: str = ""
    message: str = ""
    message_params: dict[str, str] = field(default_factory=dict)
    correlation_id: str = ""


def parse_error_body(status: int, body: bytes | str | None, correlation_id: str = "") -> ErrorInfo:
    """Parse an error answer defensively: non-JSON bodies (HTML from a proxy) are fine."""
    data: Any = None
    if body:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            data = None
    if not isinstance(data, dict):
        return ErrorInfo(status=status, correlation_id=correlation_id)
    params = data.get("messageParams")
    return ErrorInfo(
        status=status,
        code=str(data.get("code") or ""),
        message=str(data.get("message") or data.get("messageWithParams") or ""),
        message_params=(
            {str(k): str(v) for k, v in params.items()} if isinstance(params, dict) else {}
        ),
        correlation_id=correlation_id or str(data.get("contextId") or ""),
    )


def permissions_named(info: ErrorInfo) -> list[str]:
    """The permission names an ErrorBody mentions, in order, without duplicates."""
    found: list[str] = []
    sources = list(info.message_params.values())
    bracketed = _BRACKETS.findall(info.message)
    sources.extend(bracketed or [info.message])
    for text in sources:
        for name in _PERMISSION.findall(text):
            if name not in found:
                found.append(name)
    return found


def is_permission_error(info: ErrorInfo) -> bool:
    return info.code in {MISSING_ALL, MISSING_ANY}


def permission_error(info: ErrorInfo, what: str) -> PermissionMissing:
    names = permissions_named(info) or ["(not named by Genesys)"]
    detail = f"{what}: {info.code}"
    if info.correlation_id:
        detail += f", correlation id {info.correlation_id}"
    return PermissionMissing(names, any_of=info.code == MISSING_ANY, detail=detail)


def error_for_status(info: ErrorInfo, what: str) -> BridgeError:
    """The error for a final (not retried) API answer. ``what`` names the call."""
    if is_permission_error(info):
        return permission_error(info, what)
    text = f"{what}: HTTP {info.status}"
    if info.code:
        text += f" {info.code}"
    if info.message:
        text += f": {redact_text(info.message)[:300]}"
    if info.correlation_id:
        text += f" (correlation id {info.correlation_id})"
    if info.status in {403, 404, 410}:
        return NotFound(text)
    if info.status in {408, 429} or info.status >= 500:
        return Transient(text)
    return BadInput(text)
