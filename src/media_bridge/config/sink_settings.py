"""Settings of the media and text sinks, with the checks of their ``s3://`` and ``kafka://``
URLs (``sinks/s3.py`` reads the S3 options too)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, Field, field_validator, model_validator

from media_bridge.config.names import env_name
from media_bridge.errors import ConfigError
from media_bridge.signing import check_secret

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
                f"sinks.{f} ({env_name(('sinks', f))})" for f in dict.fromkeys(wanted)
            )
            raise ValueError(f"an http sink needs {names}")
        return self
