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

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from media_bridge.audio.settings import AudioSettings
from media_bridge.audiohook.settings import OLD_AUDIOHOOK_ENV_PREFIX, AudioHookSettings
from media_bridge.config.names import ENV_PREFIX as ENV_PREFIX
from media_bridge.config.names import GENESYS_CLOUD_ALIASES as GENESYS_CLOUD_ALIASES
from media_bridge.config.names import IGNORED_PREFIXES, Kind, Path_, field_tree, unknown_setting
from media_bridge.config.names import env_name as env_name
from media_bridge.config.names import suggest as suggest
from media_bridge.config.pipeline_settings import FetchSettings as FetchSettings
from media_bridge.config.pipeline_settings import LedgerSettings as LedgerSettings
from media_bridge.config.pipeline_settings import NlpSettings as NlpSettings
from media_bridge.config.pipeline_settings import WorkerSettings as WorkerSettings
from media_bridge.config.sink_settings import S3_URL_OPTIONS as S3_URL_OPTIONS
from media_bridge.config.sink_settings import SinkSettings as SinkSettings
from media_bridge.config.sink_settings import check_kafka_url as check_kafka_url
from media_bridge.config.sink_settings import check_s3_url as check_s3_url
from media_bridge.consent.settings import ConsentSettings
from media_bridge.errors import ConfigError
from media_bridge.genesys.settings import GenesysSettings
from media_bridge.identity.settings import IdentitySettings
from media_bridge.intake.settings import IntakeSettings as IntakeSettings
from media_bridge.notifications.settings import NotificationsSettings
from media_bridge.operations.settings import OperationsSettings as OperationsSettings
from media_bridge.voice.settings import VoiceSettings


def secret_value(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


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

_FIELDS: dict[Path_, Kind] = {}


def known_fields() -> dict[Path_, Kind]:
    """Every setting path (``("sinks", "media")``) and what it holds."""
    if not _FIELDS:
        _FIELDS.update(field_tree(Settings))
    return _FIELDS


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
        if not name.startswith(ENV_PREFIX) or name.startswith(IGNORED_PREFIXES):
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
            unknown.append(unknown_setting(original, candidates))
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
            problems.append(unknown_setting(".".join(path), candidates, f" in {file}"))
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
