"""Settings of the AudioHook Monitor server: ``Settings.audiohook`` (env
``MEDIA_BRIDGE_AUDIOHOOK__<FIELD>``, TOML ``[audiohook]``).

API keys map a key to its client secret (base64, as configured in Genesys) or to
``None`` for a key that may connect unsigned. Example env value:
``MEDIA_BRIDGE_AUDIOHOOK__API_KEYS='{"my-key": "c2VjcmV0LXNlY3JldA=="}'``.
The single-underscore names of earlier releases (``MEDIA_BRIDGE_AUDIOHOOK_API_KEYS``)
still work for one release, with a warning naming the new one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from media_bridge.consent.settings import ConsentSettings
from media_bridge.identity.settings import IdentitySettings
from media_bridge.operations.settings import AudioHookOperationsSettings
from media_bridge.signing import check_secret

AUDIOHOOK_ENV_PREFIX = "MEDIA_BRIDGE_AUDIOHOOK__"
#: the prefix of earlier releases (deprecated: warned about, then mapped to the new names)
OLD_AUDIOHOOK_ENV_PREFIX = "MEDIA_BRIDGE_AUDIOHOOK_"


class ChunkSinkSettings(BaseModel):
    """Where customer audio goes: ``dir`` (WAV + JSON sidecar) or ``http`` (signed POST)."""

    #: ``dir``: WAV chunks and JSON sidecars in ``dir_path``; ``http``: a signed POST
    #: per chunk
    kind: Literal["dir", "http"] = "dir"
    #: folder of the ``dir`` AudioHook sink
    dir_path: Path = Path("var/media-bridge/audiohook")
    #: URL of the ``http`` AudioHook sink
    http_url: str | None = None
    #: Standard Webhooks secret of the ``http`` sink: ``whsec_<base64>``, or any other value
    #: used as raw key bytes (its UTF-8); none: requests are sent unsigned
    http_secret: str | None = None
    #: send the deprecated request of earlier releases instead of the multipart one: the
    #: WAV as the body with ``X-Bridge-Metadata``, ``X-Bridge-Signature: sha256=`` and
    #: ``X-Bridge-Metadata-Signature``, plus the Standard Webhooks headers over that body
    #: (one release; a warning at start)
    legacy_signature_headers: bool = False
    #: time limit of one POST to the ``http`` sink
    http_timeout_s: float = Field(default=30.0, gt=0)
    #: retries of a failed POST before the chunk is kept in the spool
    http_retries: int = Field(default=3, ge=0)

    @field_validator("http_secret")
    @classmethod
    def _http_secret(cls, value: str | None) -> str | None:
        return check_secret(value)

    @model_validator(mode="after")
    def _http_needs_url(self) -> ChunkSinkSettings:
        if self.kind == "http" and not self.http_url:
            raise ValueError(
                "the http AudioHook sink needs audiohook.sink.http_url "
                "(MEDIA_BRIDGE_AUDIOHOOK__SINK__HTTP_URL)"
            )
        return self


class AudioHookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: address the AudioHook server listens on
    host: str = "127.0.0.1"
    #: port of the AudioHook WebSocket server
    port: int = Field(default=8765, ge=0, le=65535)
    #: the WebSocket path configured in the Genesys integration
    path: str = "/api/v1/audiohook/ws"
    #: API key -> base64 client secret, or None (unsigned requests allowed for that key)
    api_keys: dict[str, str | None] = Field(default_factory=dict)
    #: ``http``: answer 401 before the upgrade; ``disconnect``: upgrade, then ``disconnect``
    auth_failure_mode: Literal["http", "disconnect"] = "http"
    #: failures are answered no sooner than this after the request started (timing leaks)
    auth_failure_delay_s: float = Field(default=0.5, ge=0)
    #: a signed upgrade older than this (``created``) is refused
    max_signature_age_s: int = Field(default=10, ge=1)
    #: clock difference tolerated on ``created`` and ``expires``
    clock_skew_s: int = Field(default=3, ge=0)
    #: shortest ``nonce`` accepted in a signature
    min_nonce_length: int = Field(default=22, ge=0)

    #: biometrics format: mono 16-bit PCM at this rate
    sample_rate: int = Field(default=16000, ge=8000, le=48000)
    #: ``speech``: a chunk every ``chunk_seconds`` of net speech; ``audio``: of audio
    chunk_mode: Literal["speech", "audio"] = "speech"
    #: length of a delivered chunk (net speech or audio, by ``chunk_mode``)
    chunk_seconds: float = Field(default=5.0, gt=0)
    #: a chunk is cut after this much audio even without enough speech
    max_chunk_audio_seconds: float = Field(default=30.0, gt=0)
    #: send ``pause`` once this much customer net speech was collected (None: never)
    pause_after_speech_s: float | None = Field(default=None, gt=0)
    #: also record the agent (``internal``) channel; delivered as a whole at the end
    keep_agent: bool = False
    #: webrtcvad aggressiveness for the speech measure, 0 (lenient) .. 3 (strict)
    vad_aggressiveness: int = Field(default=2, ge=0, le=3)
    #: where unfinished call audio is spooled (default: a temporary directory)
    spool_dir: Path | None = None
    #: a session's spool left behind (a failed delivery keeps it) is deleted after this
    #: long; swept at start and every hour
    spool_retention_s: float = Field(default=86400.0, ge=0)
    #: WebSocket payload cap (text messages are also limited to 65,535 characters)
    max_message_bytes: int = Field(default=1024 * 1024, ge=65536)
    #: a session with no message for this long is dropped (and flushed)
    idle_timeout_s: float = Field(default=60.0, gt=0)
    #: on SIGTERM, live sessions get a ``disconnect`` and this long to close, so that
    #: their audio is flushed and delivered before the process exits
    shutdown_grace_s: float = Field(default=10.0, ge=0)
    sink: ChunkSinkSettings = Field(default_factory=ChunkSinkSettings)
    #: the speaker key of deliveries (the customer: the normalised ANI); set the same
    #: pseudonymisation secret as the bridge's ``identity`` so that keys match
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    #: any mode but ``off`` reads the answer from the open message's ``customConfig``
    #: (key ``consent.attribute``); while it is unknown audio is spooled, not delivered
    consent: ConsentSettings = Field(default_factory=ConsentSettings)
    #: the operations port (``/healthz``, ``/readyz``, ``/metrics``) of
    #: ``media-bridge audiohook``, apart from the WebSocket port
    operations: AudioHookOperationsSettings = Field(default_factory=AudioHookOperationsSettings)
    #: log level of ``media-bridge audiohook``
    log_level: str = "INFO"
