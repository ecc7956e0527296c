"""One settings object, from env vars (prefix ``MEDIA_BRIDGE_``, nested with ``__``)
and an optional TOML file, validated at start.

Secrets may also come from files: ``MEDIA_BRIDGE_GENESYS__CLIENT_SECRET_FILE=/run/secrets/x``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from media_bridge.audio.settings import AudioSettings
from media_bridge.consent.settings import ConsentSettings
from media_bridge.genesys.settings import GenesysSettings
from media_bridge.identity.settings import IdentitySettings
from media_bridge.voice.settings import VoiceSettings

ENV_PREFIX = "MEDIA_BRIDGE_"


class FetchSettings(BaseModel):
    #: which ``mediaType``s to fetch: Audio by default; ``all`` fetches everything
    media_types: list[str] = Field(default_factory=lambda: ["Audio"])
    max_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    #: bounded re-resolutions of a stale URL before the job is retried later
    max_url_refreshes: int = Field(default=3, ge=0)
    #: no message read for a message-topic message whose ``messageMetadata.content[]``
    #: lists attachments only (all of them in ``media[]``): it has no text to read. That
    #: Genesys lists a ``Text`` entry for a captioned attachment is not verified
    #: (docs/emulator.md); ``false`` reads every message as before
    skip_textless_reads: bool = True
    #: texts of one conversation whose jobs start within this many seconds share one
    #: ``messages/bulk`` read (0 reads each message alone)
    text_batch_window_s: float = Field(default=0.1, ge=0)
    tmp_dir: Path | None = None


class LedgerSettings(BaseModel):
    #: ``sqlite:///path/to/ledger.db`` (default) or ``postgresql://...``
    url: str = "sqlite:///var/media-bridge/ledger.db"
    lease_seconds: float = Field(default=120.0, gt=0)
    max_attempts: int = Field(default=8, ge=1)


class WorkerSettings(BaseModel):
    concurrency: int = Field(default=32, ge=1)
    #: how often a messaging conversation without a customer.end is read again, at first:
    #: while nothing changes the interval grows by ``conversation_poll_backoff`` per read
    #: (1 keeps it fixed) up to ``conversation_poll_max_s``; a new message or a new event
    #: brings it back to ``conversation_poll_s``
    conversation_poll_s: float = Field(default=30.0, gt=0)
    conversation_poll_backoff: float = Field(default=2.0, ge=1.0)
    conversation_poll_max_s: float = Field(default=300.0, gt=0)
    #: stop watching a conversation after this long without an end event
    conversation_watch_max_s: float = Field(default=6 * 3600.0, gt=0)


class SinkSettings(BaseModel):
    #: ``dir`` (default) or ``http``
    media: str = "dir"
    dir_path: Path = Path("var/media-bridge/out")
    http_url: str | None = None
    http_secret: str | None = None
    #: ``jsonl`` (default) or ``http``
    text: str = "jsonl"
    text_path: Path = Path("var/media-bridge/nlp.jsonl")
    text_http_url: str | None = None


class IntakeSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8080
    #: EventBridge connection auth: an API-key header (name and value) and/or basic auth
    api_key_header: str = "x-api-key"
    api_key: str | None = None
    basic_user: str | None = None
    basic_password: str | None = None
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    #: accept unauthenticated posts (local experiments only; refused by default)
    allow_anonymous: bool = False

    @property
    def has_auth(self) -> bool:
        return bool(self.api_key) or (
            self.basic_user is not None and self.basic_password is not None
        )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
    )

    genesys: GenesysSettings = Field(default_factory=GenesysSettings)
    fetch: FetchSettings = Field(default_factory=FetchSettings)
    audio: AudioSettings = Field(default_factory=AudioSettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    sinks: SinkSettings = Field(default_factory=SinkSettings)
    intake: IntakeSettings = Field(default_factory=IntakeSettings)
    voice: VoiceSettings = Field(default_factory=VoiceSettings)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    consent: ConsentSettings = Field(default_factory=ConsentSettings)
    log_level: str = "INFO"
    log_json: bool = False


def _secret_files() -> dict[str, Any]:
    """``MEDIA_BRIDGE_GENESYS__CLIENT_SECRET_FILE`` and friends: read secrets from files."""
    found: dict[str, Any] = {}
    for name, value in os.environ.items():
        if name.startswith(ENV_PREFIX) and name.endswith("_FILE"):
            path = name[len(ENV_PREFIX) : -len("_FILE")].lower().split("__")
            node = found
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = Path(value).read_text(encoding="utf-8").strip()
    return found


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_settings(config_file: Path | None = None) -> Settings:
    """Settings from (lowest first) defaults, a TOML file, ``*_FILE`` secret files, env vars."""
    import tomllib

    data: dict[str, Any] = {}
    if config_file is not None:
        data = tomllib.loads(config_file.read_text(encoding="utf-8"))
    data = _deep_merge(data, _secret_files())
    from_env = Settings().model_dump(exclude_unset=True)
    return Settings(**_deep_merge(data, from_env))
