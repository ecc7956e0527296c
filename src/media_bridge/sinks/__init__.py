"""Sinks: where deliveries go. ``sinks_from_settings`` builds the configured pair."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from media_bridge.config import SinkSettings
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
        raise ValueError(f"sinks.{setting} is required for the {sink} sink")
    return value


def sinks_from_settings(settings: SinkSettings, session: aiohttp.ClientSession) -> Sinks:
    """The media and text sinks the settings name; the session is shared and not closed here."""
    media: MediaSink
    if settings.media == "dir":
        media = DirSink(settings.dir_path)
    elif settings.media == "http":
        media = HttpMediaSink(
            _require(settings.http_url, "http_url", "http media"),
            _require(settings.http_secret, "http_secret", "http media"),
            session,
        )
    else:
        raise ValueError(f"sinks.media must be 'dir' or 'http', not {settings.media!r}")
    text: TextSink
    if settings.text == "jsonl":
        text = JsonlTextSink(settings.text_path)
    elif settings.text == "http":
        text = HttpTextSink(
            _require(settings.text_http_url, "text_http_url", "http text"),
            _require(settings.http_secret, "http_secret", "http text"),
            session,
        )
    else:
        raise ValueError(f"sinks.text must be 'jsonl' or 'http', not {settings.text!r}")
    return Sinks(media=media, text=text)
