"""The AudioHook server's metrics, on a registry of their own (with the standard process
and Python collectors): ``media-bridge audiohook`` exports these, not the bridge's."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from media_bridge import metrics as bridge_metrics
from media_bridge.metrics import new_registry

REGISTRY = new_registry()
# the two bridge series an AudioHook server also moves: its consent verdicts (kind
# ``audiohook``) and its readiness checks (``listening``, ``spool``)
REGISTRY.register(bridge_metrics.CONSENT_VERDICTS)
REGISTRY.register(bridge_metrics.READINESS)

SESSIONS_OPEN = Gauge(
    "media_bridge_audiohook_sessions_open", "AudioHook sessions open now", registry=REGISTRY
)
SESSIONS_ENDED = Counter(
    "media_bridge_audiohook_sessions_ended_total",
    "AudioHook sessions ended, by reason (closed: the client closed it; dropped: the "
    "connection was lost, timed out or failed)",
    ["reason"],
    registry=REGISTRY,
)
UPGRADES_REFUSED = Counter(
    "media_bridge_audiohook_upgrades_refused_total",
    "WebSocket upgrades refused, by reason (bad_request, session_live, unauthorized)",
    ["reason"],
    registry=REGISTRY,
)
SIGNATURE_FAILURES = Counter(
    "media_bridge_audiohook_signature_failures_total",
    "Upgrades whose API key or signature failed verification, by result code",
    ["code"],
    registry=REGISTRY,
)
FRAMES = Counter(
    "media_bridge_audiohook_frames_total",
    "WebSocket messages received, by type (audio: binary frames, text: protocol messages)",
    ["type"],
    registry=REGISTRY,
)
AUDIO_BYTES = Counter(
    "media_bridge_audiohook_audio_bytes_total",
    "Bytes of audio frames received",
    registry=REGISTRY,
)
