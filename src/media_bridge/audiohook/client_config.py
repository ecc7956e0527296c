"""What the AudioHook client simulator is told (``ClientConfig``, scripted ``Action``s)
and what it reports (``SessionReport``), and the upgrade request it derives from them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from media_bridge.audiohook.codec import Int16Array
from media_bridge.audiohook.signature import sign_request

#: action kinds understood by the simulator
ACTIONS = (
    "pause",  # client pauses for `value` seconds (paused ... resumed)
    "discard",  # skips `value` seconds of audio, then sends discarded
    "update",  # update{language: value}
    "error",  # error{code 500}; the session then closes with reason "error"
    "ping",  # an extra ping
    "bad_json",
    "bad_seq",
    "unknown_type",
    "partial_frame",
    "oversize",
    "drop",  # abort the socket without close
)


@dataclass
class Action:
    at_s: float
    kind: str
    value: Any = None


@dataclass
class ClientConfig:
    uri: str
    api_key: str
    client_secret: str | None = None
    organization_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    conversation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    session_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    participant: dict[str, Any] = field(
        default_factory=lambda: {
            "id": str(uuid.uuid4()),
            "ani": "tel:+14155550100",
            "aniName": "Test Customer",
            "dnis": "tel:+18005550199",
        }
    )
    language: str | None = "en-US"
    #: the integration's ``customConfig`` JSON (None: not sent)
    custom_config: dict[str, Any] | None = None
    media_format: str = "PCMU"
    stereo: bool = True
    #: offer stereo plus both mono entries, as Genesys does (the server must choose)
    offer_all: bool = False
    frame_ms: int = 200
    realtime: bool = True
    duration_s: float = 10.0
    audio: tuple[Int16Array, Int16Array] | None = None
    ping_interval_s: float = 5.0
    initial_ping_delay_s: float = 1.0
    open_timeout_s: float = 5.0
    close_timeout_s: float = 10.0
    probe: bool = False
    actions: list[Action] = field(default_factory=list)
    #: expected ``disconnect`` reason from the server (None: a clean close)
    expect_disconnect: str | None = None
    #: override signature parameters (tests: expired, future, short nonce ...)
    sign: dict[str, Any] = field(default_factory=dict)
    extra_headers: dict[str, str] = field(default_factory=dict)


@dataclass
class SessionReport:
    session_id: str
    http_status: int | None = None
    violations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    opened_media: list[dict[str, Any]] | None = None
    disconnect: dict[str, Any] | None = None
    closed: bool = False
    #: the simulator dropped the socket on purpose (a "drop" action)
    dropped: bool = False
    frames_sent: int = 0
    pong_latencies_ms: list[float] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.violations and not self.notes and self.http_status is None


def offered_media(cfg: ClientConfig) -> list[dict[str, Any]]:
    def entry(channels: list[str]) -> dict[str, Any]:
        return {"type": "audio", "format": cfg.media_format, "channels": channels, "rate": 8000}

    if cfg.offer_all:
        return [entry(["external", "internal"]), entry(["external"]), entry(["internal"])]
    return [entry(["external", "internal"] if cfg.stereo else ["external"])]


def upgrade_headers(cfg: ClientConfig) -> dict[str, str]:
    parts = urlsplit(cfg.uri)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    default = 443 if parts.scheme == "wss" else 80
    host = parts.hostname or ""
    authority = host if parts.port in (None, default) else f"{host}:{parts.port}"
    headers = {
        "Audiohook-Organization-Id": cfg.organization_id,
        "Audiohook-Session-Id": cfg.session_id,
        "Audiohook-Correlation-Id": cfg.correlation_id,
        "X-API-KEY": cfg.api_key,
    }
    if cfg.client_secret:
        headers |= sign_request(
            request_target=target,
            authority=authority,
            organization_id=cfg.organization_id,
            session_id=cfg.session_id,
            correlation_id=cfg.correlation_id,
            api_key=cfg.api_key,
            client_secret_b64=cfg.client_secret,
            **cfg.sign,
        )
    return headers | cfg.extra_headers
