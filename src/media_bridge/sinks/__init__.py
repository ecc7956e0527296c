"""Sinks: where deliveries go. ``sinks_from_settings`` builds the configured pair."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from media_bridge.config import SinkSettings
from media_bridge.errors import ConfigError
from media_bridge.extras import require_extra
from media_bridge.signing import warn_legacy_headers
from media_bridge.sinks.base import MediaSink, TextSink
from media_bridge.sinks.dir import DirSink
from media_bridge.sinks.http import HttpMediaSink
from media_bridge.sinks.text import HttpTextSink, JsonlTextSink

__all__ = [
    "DirSink",
    "HttpMediaSink",
    "HttpTextSink",
    "JsonlTextSink",
    "MediaSink",
    "Sinks",
    "TextSink",
    "sinks_from_settings",
]


@dataclass(slots=True)
class Sinks:
    media: MediaSink
    text: TextSink

    async def close(self) -> None:
        try:
            await self.media.close()
        finally:
            await self.text.close()


def _require(value: str | None, setting: str, sink: str) -> str:
    if not value:
        raise ConfigError(f"sinks.{setting} is required for the {sink} sink")
    return value


def sinks_from_settings(settings: SinkSettings, session: aiohttp.ClientSession) -> Sinks:
    """The media and text sinks the settings name; the session is shared and not closed here."""
    if settings.legacy_signature_headers:
        warn_legacy_headers("sinks.legacy_signature_headers")
    legacy = settings.legacy_signature_headers
    media: MediaSink
    if settings.media == "dir":
        media = DirSink(settings.dir_path)
    elif settings.media == "http":
        media = HttpMediaSink(
            _require(settings.http_url, "http_url", "http media"),
            _require(settings.http_secret, "http_secret", "http media"),
            session,
            legacy_headers=legacy,
        )
    elif settings.media.startswith("s3://"):
        require_extra("aws", "the s3:// media sink (sinks.media)")
        from media_bridge.sinks.s3 import s3_sink_from_url

        media = s3_sink_from_url(settings.media)
    elif settings.media.startswith("kafka://"):
        require_extra("kafka", "the kafka:// media sink (sinks.media)")
        from media_bridge.sinks.kafka import kafka_media_sink_from_url

        media = kafka_media_sink_from_url(settings.media, dir_path=settings.dir_path)
    else:
        raise ConfigError(
            f"sinks.media must be 'dir', 'http', s3://... or kafka://..., not {settings.media!r}"
        )
    text: TextSink
    if settings.text == "jsonl":
        text = JsonlTextSink(settings.text_path)
    elif settings.text == "http":
        text = HttpTextSink(
            _require(settings.text_http_url, "text_http_url", "http text"),
            _require(settings.http_secret, "http_secret", "http text"),
            session,
            legacy_headers=legacy,
        )
    elif settings.text.startswith("kafka://"):
        require_extra("kafka", "the kafka:// text sink (sinks.text)")
        from media_bridge.sinks.kafka import kafka_text_sink_from_url

        text = kafka_text_sink_from_url(settings.text)
    else:
        raise ConfigError(
            f"sinks.text must be 'jsonl', 'http' or kafka://..., not {settings.text!r}"
        )
    return Sinks(media=media, text=text)
