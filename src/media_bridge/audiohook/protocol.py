"""AudioHook protocol v2 message shapes and validators (both directions).

Mirrors the checks of Genesys' reference implementation: a message base (version,
id, type, seq, parameters), the client additions (serverseq, position) or the server
addition (clientseq), and per-type parameter checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

NULL_UUID = "00000000-0000-0000-0000-000000000000"
UUID_RE = re.compile(
    r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-"
    r"[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000)$"
)
DURATION_RE = re.compile(r"^PT(?:\d*\.)?\d+S$")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}-[A-Za-z]{2,3}$")
MAX_TEXT_CHARS = 65535

CLOSE_REASONS = {"end", "error", "disconnect", "reconnect"}
DISCONNECT_REASONS = {"completed", "unauthorized", "error"}
CHANNELS = {"external", "internal"}
FORMATS = {"PCMU", "L16"}

Json = dict[str, Any]
Check = Callable[[Any], bool]


def is_uuid(v: Any) -> bool:
    return isinstance(v, str) and UUID_RE.match(v) is not None


def is_duration(v: Any) -> bool:
    return isinstance(v, str) and DURATION_RE.match(v) is not None


def is_seq(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, float) and v.is_integer():
        return v >= 0
    return isinstance(v, int) and v >= 0


def is_str(v: Any) -> bool:
    return isinstance(v, str)


def is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def is_language(v: Any) -> bool:
    return isinstance(v, str) and LANGUAGE_RE.match(v) is not None


def parse_duration(text: str) -> float:
    return float(text[2:-1])


def format_duration(seconds: float) -> str:
    """``PT<seconds>S`` without rounding a sample position (8 kHz needs 6 decimals)."""
    text = f"{max(seconds, 0.0):.9f}".rstrip("0").rstrip(".")
    return f"PT{text}S"


def is_media_entry(v: Any) -> bool:
    if not isinstance(v, dict):
        return False
    ch = v.get("channels")
    return (
        v.get("type") == "audio"
        and v.get("format") in FORMATS
        and v.get("rate") == 8000
        and isinstance(ch, list)
        and 1 <= len(ch) <= 2
        and all(c in CHANNELS for c in ch)
        and len(set(ch)) == len(ch)
    )


def is_media_list(v: Any) -> bool:
    return isinstance(v, list) and all(is_media_entry(m) for m in v)


def is_participant(v: Any) -> bool:
    return (
        isinstance(v, dict)
        and is_uuid(v.get("id"))
        and all(is_str(v.get(k)) for k in ("ani", "aniName", "dnis"))
    )


def _params(required: dict[str, Check], optional: dict[str, Check] | None = None) -> Check:
    opt = optional or {}

    def check(p: Any) -> bool:
        if not isinstance(p, dict):
            return False
        if not all(k in p and fn(p[k]) for k, fn in required.items()):
            return False
        return all(p.get(k) is None or fn(p[k]) for k, fn in opt.items())

    return check


def _continued(v: Any) -> bool:
    return isinstance(v, list) and all(
        isinstance(s, dict)
        and is_uuid(s.get("id"))
        and is_seq(s.get("serverseq"))
        and is_seq(s.get("clientseq"))
        for s in v
    )


def _error_code(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 400 <= v < 10000


CLIENT_PARAMS: dict[str, Check] = {
    "open": _params(
        {
            "organizationId": is_uuid,
            "conversationId": is_uuid,
            "participant": is_participant,
            "media": is_media_list,
        },
        {
            "language": is_language,
            "supportedLanguages": is_bool,
            "continuedSessions": _continued,
            "customConfig": lambda v: isinstance(v, dict),
        },
    ),
    "close": _params({"reason": lambda v: v in CLOSE_REASONS}),
    "discarded": _params({"start": is_duration, "discarded": is_duration}),
    "error": _params({"code": _error_code, "message": is_str}, {"retryAfter": is_duration}),
    "paused": _params({}),
    "ping": _params({}, {"rtt": is_duration}),
    "resumed": _params({"start": is_duration, "discarded": is_duration}),
    "update": _params({"language": is_language}),
}

SERVER_PARAMS: dict[str, Check] = {
    "opened": _params(
        {"media": is_media_list},
        {
            "discardTo": is_duration,
            "startPaused": is_bool,
            "supportedLanguages": lambda v: isinstance(v, list) and all(map(is_str, v)),
        },
    ),
    "closed": _params({}),
    "disconnect": _params({"reason": lambda v: v in DISCONNECT_REASONS}, {"info": is_str}),
    "event": _params({"entities": lambda v: isinstance(v, list)}),
    "pause": _params({}),
    "pong": _params({}),
    "reconnect": _params({}, {"info": is_str}),
    "resume": _params({}),
    "updated": _params({}),
}


def is_message_base(m: Any) -> bool:
    return (
        isinstance(m, dict)
        and m.get("version") == "2"
        and is_uuid(m.get("id"))
        and is_str(m.get("type"))
        and is_seq(m.get("seq"))
        and isinstance(m.get("parameters"), dict)
    )


def is_client_message_base(m: Any) -> bool:
    return is_message_base(m) and is_duration(m.get("position")) and is_seq(m.get("serverseq"))


def is_server_message_base(m: Any) -> bool:
    return is_message_base(m) and is_seq(m.get("clientseq"))


def server_message(session_id: str, seq: int, clientseq: int, type_: str, parameters: Json) -> Json:
    return {
        "version": "2",
        "type": type_,
        "id": session_id,
        "seq": seq,
        "clientseq": clientseq,
        "parameters": parameters,
    }


def client_message(
    session_id: str, seq: int, serverseq: int, position_s: float, type_: str, parameters: Json
) -> Json:
    return {
        "version": "2",
        "type": type_,
        "id": session_id,
        "seq": seq,
        "serverseq": serverseq,
        "position": format_duration(position_s),
        "parameters": parameters,
    }


def choose_media(offered: list[Json], keep_agent: bool) -> Json | None:
    """The customer-only entry when offered, else a stereo one (agent kept: stereo first).

    The entry is returned unchanged (same object, same channel order).
    """
    mono = [m for m in offered if m.get("channels") == ["external"]]
    stereo = [m for m in offered if sorted(m.get("channels", [])) == ["external", "internal"]]
    order = (stereo + mono) if keep_agent else (mono + stereo)
    return order[0] if order else None
