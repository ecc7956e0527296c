"""Where emitted events go: a small protocol and a registry keyed by URL scheme.

Built in: ``file:///path/events.jsonl`` (JSON lines, appended), ``stdout:`` and
``http(s)://...`` (one POST per event with a JSON body, as an EventBridge API destination
would; ``?apiKeyHeader=X-Api-Key&apiKey=...`` or user:password@ in the URL for auth).
Another module adds e.g. ``eventbridge://`` with ``register_sink("eventbridge", factory)``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

import aiohttp


class EventSink(Protocol):
    async def send(self, events: list[dict[str, Any]]) -> None: ...

    async def close(self) -> None: ...


SinkFactory = Callable[[str], EventSink]
_REGISTRY: dict[str, SinkFactory] = {}


def register_sink(scheme: str, factory: SinkFactory) -> None:
    _REGISTRY[scheme] = factory


#: schemes whose sink lives in a module imported on first use (its deps stay optional)
_LAZY_SINKS = {
    "eventbridge": "genesys_emulator.event_sinks_aws",
    "kafka": "genesys_emulator.event_sinks_kafka",
}


def open_sink(url: str) -> EventSink:
    scheme = urlsplit(url).scheme or "file"
    if scheme not in _REGISTRY and scheme in _LAZY_SINKS:
        import importlib

        importlib.import_module(_LAZY_SINKS[scheme])  # registers itself
    try:
        factory = _REGISTRY[scheme]
    except KeyError:
        raise ValueError(
            f"no event sink for scheme {scheme!r} (known: {sorted(_REGISTRY)})"
        ) from None
    return factory(url)


class FileSink:
    """Appends one JSON object per line."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.path = Path(parts.path if parts.scheme else url)

    async def send(self, events: list[dict[str, Any]]) -> None:
        lines = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events)
        await asyncio.to_thread(self._append, lines)

    def _append(self, lines: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(lines)

    async def close(self) -> None:
        return None


class StdoutSink:
    def __init__(self, url: str = "stdout:") -> None:
        self.url = url

    async def send(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            sys.stdout.write(json.dumps(event, separators=(",", ":")) + "\n")
        sys.stdout.flush()

    async def close(self) -> None:
        return None


class HttpSink:
    """POSTs each event as JSON, like an EventBridge API destination (retries 5xx twice)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.headers = {"Content-Type": "application/json"}
        header = query.pop("apiKeyHeader", [None])[0]
        key = query.pop("apiKey", [None])[0]
        if header and key:
            self.headers[header] = key
        if parts.username:
            raw = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            self.headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        rest = "&".join(f"{k}={v[0]}" for k, v in query.items())
        self.url = urlunsplit((parts.scheme, netloc, parts.path, rest, ""))

    async def send(self, events: list[dict[str, Any]]) -> None:
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for event in events:
                for attempt in range(3):
                    async with session.post(self.url, json=event, headers=self.headers) as response:
                        if response.status < 500:
                            response.raise_for_status()
                            break
                    await asyncio.sleep(0.2 * (attempt + 1))

    async def close(self) -> None:
        return None


register_sink("file", FileSink)
register_sink("stdout", StdoutSink)
register_sink("http", HttpSink)
register_sink("https", HttpSink)


async def send_all(urls: Iterable[str], events: list[dict[str, Any]]) -> None:
    for url in urls:
        sink = open_sink(url)
        try:
            await sink.send(events)
        finally:
            await sink.close()
