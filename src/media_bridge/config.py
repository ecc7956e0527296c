"""One settings object, from env vars (prefix ``MEDIA_BRIDGE_``, nested with ``__``)
and an optional TOML file, validated at start.

Secrets may also come from files: ``MEDIA_BRIDGE_GENESYS__CLIENT_SECRET_FILE=/run/secrets/x``
(any known setting has a ``*_FILE`` variant). ``load_settings`` is the one reader of the
environment; mistakes are ``ConfigError``s naming what the user set:

- an unknown ``MEDIA_BRIDGE_*`` variable or TOML key names the nearest valid setting;
- a value that fails validation names its env var and its TOML path;
- list settings take JSON or a comma list (``MEDIA_BRIDGE_FETCH__MEDIA_TYPES=Audio,Image``).

The ``*_FILE`` reader is hand-written beside pydantic-settings: its ``secrets_dir`` reads
files named after the fields from one folder, not a ``*_FILE`` variable naming any path
(the convention of container images and orchestrators).

``GENESYS_CLOUD_CLIENT_ID``, ``GENESYS_CLOUD_CLIENT_SECRET`` and ``GENESYS_CLOUD_REGION``
(the Genesys SDK's and CLI's names) are accepted as aliases of the ``genesys.*`` settings;
a ``MEDIA_BRIDGE_GENESYS__*`` variable wins over them.
"""

from __future__ import annotations

import difflib
import json
import os
import sys
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin
from urllib.parse import parse_qsl, urlsplit

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from media_bridge.audio.settings import AudioSettings
from media_bridge.audiohook.settings import OLD_AUDIOHOOK_ENV_PREFIX, AudioHookSettings
from media_bridge.consent.settings import ConsentSettings
from media_bridge.errors import ConfigError
from media_bridge.genesys.settings import GenesysSettings
from media_bridge.identity.settings import IdentitySettings
from media_bridge.notifications.settings import NotificationsSettings
from media_bridge.operations_settings import OperationsSettings as OperationsSettings
from media_bridge.signing import check_secret
from media_bridge.voice.settings import VoiceSettings

ENV_PREFIX = "MEDIA_BRIDGE_"
#: variables of the test harness (``MEDIA_BRIDGE_TEST_PG_URL``), not settings
_IGNORED_PREFIXES = ("MEDIA_BRIDGE_TEST_",)
#: the Genesys SDK's and CLI's names, accepted as aliases
GENESYS_CLOUD_ALIASES: dict[str, tuple[str, ...]] = {
    "GENESYS_CLOUD_CLIENT_ID": ("genesys", "client_id"),
    "GENESYS_CLOUD_CLIENT_SECRET": ("genesys", "client_secret"),
    "GENESYS_CLOUD_REGION": ("genesys", "region"),
}


def secret_value(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


class FetchSettings(BaseModel):
    #: which ``mediaType``s to fetch: Audio by default; ``all`` fetches everything
    media_types: list[str] = Field(default_factory=lambda: ["Audio"])
    #: size cap of one downloaded media file (bytes); larger files are refused
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
    #: where downloads are written while in flight (default: ``.bridge-tmp`` beside
    #: ``sinks.dir_path``)
    tmp_dir: Path | None = None


class LedgerSettings(BaseModel):
    #: ``sqlite:///path/to/ledger.db`` (default) or ``postgresql://...``
    url: str = "sqlite:///var/media-bridge/ledger.db"
    #: a claimed job not finished within this long is taken up again by any worker
    lease_seconds: float = Field(default=120.0, gt=0)
    #: attempts of a job before it is dead (listed by ``jobs list --state dead``)
    max_attempts: int = Field(default=8, ge=1)
    #: done jobs keep their payload this long (for ``jobs show``), then become tombstones;
    #: 0 scrubs each job the moment it is done
    tombstone_after_s: float = Field(default=3600.0, ge=0)
    #: whole done rows are deleted after this long (30 days: longer than EventBridge's
    #: 4-day redelivery, so redelivered events are still refused)
    done_retention_s: float = Field(default=30 * 86400.0, ge=0)
    #: rejected events (kept for an operator to inspect) are deleted after this long
    rejected_retention_s: float = Field(default=7 * 86400.0, ge=0)
    #: how often a long-running process sweeps the ledger (0: never; ``purge`` for cron)
    sweep_interval_s: float = Field(default=600.0, ge=0)
    #: a random secret (32+ bytes; ``*_FILE`` reads it from a file): personal fields of
    #: pending payloads (speaker facts, texts, a call's ANI) are sealed with AES-256-GCM
    payload_key: SecretStr | None = None

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        from media_bridge.ledger import known_schemes

        scheme = urlsplit(value).scheme.lower().split("+", 1)[0]
        if scheme not in known_schemes():
            shown = f"{scheme!r}" if scheme else "none"
            raise ValueError(
                f"unsupported ledger URL scheme {shown}: use sqlite:///path/to/ledger.db "
                "or postgresql://USER@HOST:PORT/DB"
            )
        return value


class WorkerSettings(BaseModel):
    #: jobs in flight per process
    concurrency: int = Field(default=32, ge=1)
    #: how often a messaging conversation without a customer.end is read again, at first:
    #: while nothing changes the interval grows by ``conversation_poll_backoff`` per read
    #: (1 keeps it fixed) up to ``conversation_poll_max_s``; a new message or a new event
    #: brings it back to ``conversation_poll_s``
    conversation_poll_s: float = Field(default=30.0, gt=0)
    #: growth factor of that interval per unchanged read
    conversation_poll_backoff: float = Field(default=2.0, ge=1.0)
    #: longest interval between reads of a watched conversation
    conversation_poll_max_s: float = Field(default=300.0, gt=0)
    #: stop watching a conversation after this long without an end event
    conversation_watch_max_s: float = Field(default=6 * 3600.0, gt=0)


#: the query options of an ``s3://`` media sink URL (``sinks/s3.py`` reads them)
S3_URL_OPTIONS = frozenset({"endpoint_url", "region", "sidecar", "kms_key_id", "bucket_key"})


def check_s3_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ConfigError(f"an S3 sink URL is s3://BUCKET[/PREFIX], not {url!r}")
    unknown = {k for k, _ in parse_qsl(parts.query)} - S3_URL_OPTIONS
    if unknown:
        raise ConfigError(f"unknown S3 sink URL option(s) {sorted(unknown)}")


def check_kafka_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme != "kafka" or not parts.netloc or not parts.path.strip("/"):
        raise ConfigError(f"a Kafka sink URL is kafka://HOST:PORT[,HOST:PORT]/TOPIC, not {url!r}")


class SinkSettings(BaseModel):
    #: ``dir`` (default), ``http`` (the biometrics engine), ``s3://BUCKET[/PREFIX]`` (with
    #: ``?endpoint_url=``, ``region=``, ``sidecar=``, ``kms_key_id=``, ``bucket_key=``) or
    #: ``kafka://HOST:PORT[,HOST:PORT]/TOPIC``
    media: str = "dir"
    #: folder of the ``dir`` media sink (relative to the working directory)
    dir_path: Path = Path("var/media-bridge/out")
    #: URL of the ``http`` media sink (the biometrics engine)
    http_url: str | None = None
    #: Standard Webhooks secret of the ``http`` media, text and erasure deliveries:
    #: ``whsec_<base64>`` (the key is the decoded bytes); any other value is used as raw
    #: key bytes (its UTF-8), as earlier releases did (docs/receivers.md)
    http_secret: str | None = None
    #: also send the deprecated ``X-Bridge-Signature: v1=`` and ``X-Bridge-Timestamp``
    #: headers beside the Standard Webhooks ones (one release; a warning at start)
    legacy_signature_headers: bool = False
    #: ``jsonl`` (default), ``http`` or ``kafka://HOST:PORT[,HOST:PORT]/TOPIC``
    text: str = "jsonl"
    #: file of the ``jsonl`` text (NLP) sink
    text_path: Path = Path("var/media-bridge/nlp.jsonl")
    #: URL of the ``http`` text (NLP) sink (signed with ``http_secret``)
    text_http_url: str | None = None
    #: clips kept in ``dir_path`` by ``audio.below_gate = hold_local`` while the media sink
    #: is remote are deleted after this long (not applied when ``dir`` is the media sink)
    kept_retention_s: float = Field(default=7 * 86400.0, ge=0)

    @field_validator("media")
    @classmethod
    def _media_kind(cls, value: str) -> str:
        if value in {"dir", "http"}:
            return value
        if value.startswith("s3:"):
            check_s3_url(value)
            return value
        if value.startswith("kafka:"):
            check_kafka_url(value)
            return value
        raise ValueError(
            f"must be 'dir', 'http', s3://BUCKET[/PREFIX] or kafka://HOST:PORT/TOPIC, not {value!r}"
        )

    @field_validator("text")
    @classmethod
    def _text_kind(cls, value: str) -> str:
        if value in {"jsonl", "http"}:
            return value
        if value.startswith("kafka:"):
            check_kafka_url(value)
            return value
        raise ValueError(f"must be 'jsonl', 'http' or kafka://HOST:PORT/TOPIC, not {value!r}")

    @field_validator("http_secret")
    @classmethod
    def _http_secret(cls, value: str | None) -> str | None:
        return check_secret(value)

    @field_validator("http_url", "text_http_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                raise ValueError("must be an http(s) URL with a host")
        return value

    @model_validator(mode="after")
    def _http_needs(self) -> SinkSettings:
        wanted: list[str] = []
        if self.media == "http":
            wanted += [f for f in ("http_url", "http_secret") if not getattr(self, f)]
        if self.text == "http":
            wanted += [f for f in ("text_http_url", "http_secret") if not getattr(self, f)]
        if wanted:
            names = " and ".join(
                f"sinks.{f} ({ENV_PREFIX}SINKS__{f.upper()})" for f in dict.fromkeys(wanted)
            )
            raise ValueError(f"an http sink needs {names}")
        return self


class IntakeSettings(BaseModel):
    #: address the HTTP intake listens on (behind a TLS proxy: docs/deployment.md)
    host: str = "127.0.0.1"
    #: port of the HTTP intake (``run --source http``)
    port: int = 8080
    #: EventBridge connection auth: an API-key header (name and value) and/or basic auth
    api_key_header: str = "x-api-key"
    #: the API key value EventBridge's connection sends (in ``api_key_header``)
    api_key: str | None = None
    #: basic-auth user name of the EventBridge connection
    basic_user: str | None = None
    #: basic-auth password of the EventBridge connection
    basic_password: str | None = None
    #: a request body larger than this is refused (413)
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    #: a body of more events is refused whole (413, one rejected row), at once
    max_events_per_body: int = Field(default=100, gt=0)
    #: an event naming more media for one message is rejected (any source)
    max_media_per_message: int = Field(default=50, gt=0)
    #: accept unauthenticated posts (local experiments only; refused by default)
    allow_anonymous: bool = False
    #: a connection whose request headers are not all in within this is closed
    header_timeout_s: float = Field(default=10.0, gt=0)
    #: a request whose body is not all in within this is answered 408 and closed
    body_timeout_s: float = Field(default=10.0, gt=0)
    #: at most this many connections and requests at once; more are answered 503
    max_connections: int = Field(default=256, gt=0)

    @property
    def has_auth(self) -> bool:
        return bool(self.api_key) or (
            self.basic_user is not None and self.basic_password is not None
        )


class NlpSettings(BaseModel):
    #: mask phone numbers, Luhn-valid card numbers and e-mail addresses in texts and
    #: transcript lines before they reach the NLP sink (offline; national phone numbers
    #: only with ``identity.default_region``)
    redact: bool = False


class Settings(BaseSettings):
    """All settings. ``Settings(...)`` takes keyword values only; ``load_settings`` reads
    the environment and the TOML file (and checks them for unknown names)."""

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
    operations: OperationsSettings = Field(default_factory=OperationsSettings)
    voice: VoiceSettings = Field(default_factory=VoiceSettings)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    consent: ConsentSettings = Field(default_factory=ConsentSettings)
    nlp: NlpSettings = Field(default_factory=NlpSettings)
    #: the Notifications API source (``run --source notifications``)
    notifications: NotificationsSettings = Field(default_factory=NotificationsSettings)
    #: the AudioHook Monitor server (``media-bridge audiohook``)
    audiohook: AudioHookSettings = Field(default_factory=AudioHookSettings)
    #: log level of every command
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    #: one JSON object per log line (for a log shipper) instead of text
    log_json: bool = False

    #: dotted setting path -> what set it (``MEDIA_BRIDGE_X__Y``, ``x.y in FILE``, a flag)
    _origins: dict[str, str] = PrivateAttr(default_factory=dict)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # the environment is read by load_settings, which knows every name it accepts
        return (init_settings,)

    def origin(self, path: str) -> str | None:
        """What set the dotted setting ``path`` (an env var, a TOML path, a flag), if known."""
        return self._origins.get(path)

    def describe(self, path: str) -> str:
        """``path`` with where it was set, or the env var that would set it."""
        origin = self.origin(path)
        if origin:
            return f"{path} ({origin})"
        return f"{path} (not set: {env_name(tuple(path.split('.')))})"


# -- the loader -----------------------------------------------------------------------

Path_ = tuple[str, ...]
Kind = Literal["leaf", "list", "dict", "model"]


def _kind(annotation: Any) -> tuple[Kind, type[BaseModel] | None]:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return _kind(args[0]) if len(args) == 1 else ("leaf", None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "model", annotation
    if origin in (list, set, tuple, frozenset):
        return "list", None
    if origin is dict:
        return "dict", None
    return "leaf", None


def _field_tree(model: type[BaseModel], prefix: Path_ = ()) -> dict[Path_, Kind]:
    found: dict[Path_, Kind] = {}
    for name, info in model.model_fields.items():
        path = (*prefix, name)
        kind, sub = _kind(info.annotation)
        found[path] = kind
        if sub is not None:
            found.update(_field_tree(sub, path))
    return found


_FIELDS: dict[Path_, Kind] = {}


def known_fields() -> dict[Path_, Kind]:
    """Every setting path (``("sinks", "media")``) and what it holds."""
    if not _FIELDS:
        _FIELDS.update(_field_tree(Settings))
    return _FIELDS


def env_name(path: Path_) -> str:
    return ENV_PREFIX + "__".join(path).upper()


def _resolve(rest: str) -> Path_ | None:
    """The setting path of an env name without its prefix (``SINKS__MEDIA``), or None.
    Names below a dict setting (``AUDIOHOOK__API_KEYS__MYKEY``) set one of its keys."""
    fields = known_fields()
    original = rest.split("__")
    parts = [part.lower() for part in original]
    for i in range(1, len(parts) + 1):
        path = tuple(parts[:i])
        kind = fields.get(path)
        if kind is None:
            return None
        if i == len(parts):
            return path
        if kind == "dict":  # the key keeps its case (API keys are case-sensitive)
            return (*path, "__".join(original[i:]))
        if kind != "model":
            return None
    return None


def suggest(word: str, candidates: list[str]) -> str | None:
    """The nearest candidate: one that differs only in underscores, else difflib's best."""

    def squash(text: str) -> str:
        return text.replace("_", "").replace(".", "").lower()

    for candidate in candidates:
        if squash(candidate) == squash(word):
            return candidate
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return close[0] if close else None


def _unknown(name: str, candidates: list[str], where: str = "") -> str:
    best = suggest(name, candidates)
    hint = f"did you mean {best}?" if best else "see the README's Configuration section"
    return f"unknown setting {name}{where} ({hint})"


def _set(tree: dict[str, Any], path: Path_, value: Any) -> None:
    node = tree
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[path[-1]] = value


def _parse_env_value(name: str, path: Path_, raw: str) -> Any:
    fields = known_fields()
    kind = fields.get(path, "leaf")
    text = raw.strip()
    if kind == "list":
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{name}: not a JSON list ({exc.msg}); or use a,b,c") from None
        return [item.strip() for item in text.split(",") if item.strip()]
    if kind in {"dict", "model"}:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{name}: not a JSON object ({exc.msg})") from None
    return raw


def _read_secret_file(name: str, value: str) -> str:
    try:
        return Path(value).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read {value}: {exc.strerror or exc}") from None


def _from_env(
    environ: Mapping[str, str],
) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """(nested values, dotted path -> env var, deprecation warnings) from the environment.

    Lowest first: ``GENESYS_CLOUD_*`` aliases, old AudioHook names, ``*_FILE`` files,
    ``MEDIA_BRIDGE_*`` values.
    """
    candidates = [env_name(p) for p in known_fields()]
    entries: list[tuple[int, str, Path_, str, bool]] = []
    unknown: list[str] = []
    warnings: list[str] = []
    for original, value in environ.items():
        name = original.upper()
        if name in GENESYS_CLOUD_ALIASES:
            entries.append((0, original, GENESYS_CLOUD_ALIASES[name], value, False))
            continue
        if not name.startswith(ENV_PREFIX) or name.startswith(_IGNORED_PREFIXES):
            continue
        rest = original[len(ENV_PREFIX) :]
        rank = 3
        path = _resolve(rest)
        is_file = False
        if path is None and rest.upper().endswith("_FILE"):
            path = _resolve(rest[: -len("_FILE")])
            is_file, rank = path is not None, 2
        if path is None and name.startswith(OLD_AUDIOHOOK_ENV_PREFIX):
            new_rest = "AUDIOHOOK__" + original[len(OLD_AUDIOHOOK_ENV_PREFIX) :]
            new_name = (ENV_PREFIX + new_rest).upper()
            path = _resolve(new_rest)
            if path is None and new_rest.upper().endswith("_FILE"):
                path = _resolve(new_rest[: -len("_FILE")])
                is_file = path is not None
            if path is not None:
                rank = 1
                warnings.append(
                    f"{original} is deprecated and stops working in the next release: "
                    f"use {new_name}"
                )
        if path is None:
            unknown.append(_unknown(original, candidates))
            continue
        entries.append((rank, original, path, value, is_file))
    if unknown:
        raise ConfigError("; ".join(unknown))
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for _, name, path, value, is_file in sorted(entries, key=lambda e: e[0]):
        raw = _read_secret_file(name, value) if is_file else value
        _set(values, path, _parse_env_value(name, path, raw))
        origins[".".join(path)] = name
    return values, origins, warnings


def _check_toml(data: dict[str, Any], file: Path, prefix: Path_ = ()) -> list[str]:
    fields = known_fields()
    candidates = [".".join(p) for p in fields]
    problems: list[str] = []
    for key, value in data.items():
        path = (*prefix, key)
        kind = fields.get(path)
        if kind is None:
            problems.append(_unknown(".".join(path), candidates, f" in {file}"))
        elif kind == "model" and isinstance(value, dict):
            problems += _check_toml(value, file, path)
    return problems


def _toml_origins(data: dict[str, Any], file: Path, prefix: Path_ = ()) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in data.items():
        path = (*prefix, key)
        if known_fields().get(path) == "model" and isinstance(value, dict):
            found.update(_toml_origins(value, file, path))
        else:
            found[".".join(path)] = f"{'.'.join(path)} in {file}"
    return found


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _error_line(error: Any, origins: dict[str, str]) -> str:
    loc = tuple(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "not a known setting"
    path = ".".join(loc)
    for end in range(len(loc), 0, -1):
        origin = origins.get(".".join(loc[:end]))
        if origin is None:
            continue
        if end < len(loc):
            return f"{path} (set by {origin}): {message}"
        if " in " in origin:  # a TOML path: "x.y in FILE"
            return f"{origin}: {message}"
        return f"{origin} ({path}): {message}"
    if known_fields().get(loc, "model") != "model":
        return f"{path} ({env_name(loc)}): {message}"
    return f"{path}: {message}"


def load_settings(
    config_file: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: dict[str, tuple[Any, str]] | None = None,
) -> Settings:
    """Settings from (lowest first) defaults, a TOML file, ``GENESYS_CLOUD_*`` aliases,
    ``*_FILE`` secret files, env vars, then ``overrides`` (dotted path -> (value, origin),
    e.g. command-line flags). Raises ``ConfigError`` naming the setting at fault."""
    import tomllib

    data: dict[str, Any] = {}
    origins: dict[str, str] = {}
    if config_file is not None:
        try:
            data = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"--config {config_file}: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"--config {config_file}: not valid TOML ({exc})") from None
        problems = _check_toml(data, config_file)
        if problems:
            raise ConfigError("; ".join(problems))
        origins.update(_toml_origins(data, config_file))
    from_env, env_origins, warnings = _from_env(os.environ if environ is None else environ)
    for warning in warnings:
        print(f"media-bridge: warning: {warning}", file=sys.stderr)
    data = _deep_merge(data, from_env)
    origins.update(env_origins)
    for path, (value, origin) in (overrides or {}).items():
        _set(data, tuple(path.split(".")), value)
        origins[path] = origin
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        lines = [_error_line(error, origins) for error in exc.errors()]
        raise ConfigError("; ".join(dict.fromkeys(lines))) from None
    settings._origins = origins
    return settings


def require_genesys_credentials(settings: Settings) -> None:
    """Refuse empty OAuth client credentials before any call to the login host."""
    genesys = settings.genesys
    missing = [
        field
        for field, value in (
            ("client_id", genesys.client_id),
            ("client_secret", genesys.client_secret.get_secret_value()),
        )
        if not value.strip()
    ]
    if not missing:
        return
    parts = []
    for field in missing:
        path = f"genesys.{field}"
        origin = settings.origin(path)
        alias = f"GENESYS_CLOUD_{field.upper()}"
        if origin:
            parts.append(f"{origin} is empty")
        else:
            parts.append(f"{env_name(('genesys', field))} (or {alias}) is not set")
    raise ConfigError(
        "the Genesys Cloud OAuth client credentials are missing: "
        + " and ".join(parts)
        + " (client-credentials grant: Admin > Integrations > OAuth)"
    )
