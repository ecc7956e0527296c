"""Text sinks for the NLP side: a JSON-lines file (default) and a signed HTTP endpoint.

``JsonlTextSink`` appends one JSON object per record, ``{...record, "key": key}``,
exactly once per key: at first use it reads the file once and remembers every key
in it (a torn last line from a crash is cut off, so that record is written again),
and a key already present is acknowledged without writing. Each line is written
with one ``write`` on an O_APPEND descriptor and fsynced before ``deliver_text``
returns (``fsync=False`` trades power-loss safety for speed). One process per file.

``HttpTextSink`` POSTs the same JSON object, signed like the media sink (Standard
Webhooks over the JSON body) with the key as ``webhook-id`` and ``Idempotency-Key``.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import aiohttp

from media_bridge.redact import redact_url
from media_bridge.signing import WEBHOOK_TIMESTAMP, legacy_v1_headers, sha256_hex
from media_bridge.sinks.http import http_key, post_signed
from media_bridge.sinks.http_body import json_body, signed_headers


def text_line(key: str, record: dict[str, Any]) -> bytes:
    line = json.dumps({**record, "key": key}, ensure_ascii=False, default=str)
    return line.encode() + b"\n"


def _keys_in(path: Path) -> set[str]:
    """Keys already in the file; a torn (unterminated) last line is truncated away."""
    keys: set[str] = set()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return keys
    end = data.rfind(b"\n") + 1
    if end < len(data):
        os.truncate(path, end)
    for line in data[:end].splitlines():
        try:
            key = json.loads(line).get("key")
        except (ValueError, AttributeError):
            continue
        if isinstance(key, str):
            keys.add(key)
    return keys


class JsonlTextSink:
    """``TextSink`` appending JSON lines to one file, once per key."""

    name = "jsonl"

    def __init__(self, path: str | Path, *, fsync: bool = True) -> None:
        self.path = Path(path)
        self._fsync = fsync
        self._fd: int | None = None
        self._keys: set[str] = set()
        self._lock = asyncio.Lock()

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._keys = _keys_in(self.path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)

    def _append(self, data: bytes) -> None:
        assert self._fd is not None
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        if self._fsync:
            os.fsync(self._fd)

    async def deliver_text(self, key: str, record: dict[str, Any]) -> dict[str, Any]:
        async with self._lock:
            if self._fd is None:
                await asyncio.to_thread(self._open)
            result = {"sink": self.name, "path": str(self.path)}
            if key in self._keys:
                return {**result, "duplicate": True}
            await asyncio.to_thread(self._append, text_line(key, record))
            self._keys.add(key)
            return {**result, "duplicate": False}

    async def close(self) -> None:
        async with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


async def json_headers(key: bytes, msg_id: str, data: bytes, *, legacy: bool) -> dict[str, str]:
    """The headers of a signed JSON POST (a text record, an erasure record)."""
    headers = await signed_headers(json_body(data), key, msg_id)
    if legacy:
        timestamp = headers[WEBHOOK_TIMESTAMP]
        headers |= legacy_v1_headers(key, msg_id, timestamp, [sha256_hex(data)])
    return headers


class HttpTextSink:
    """``TextSink`` posting each record as signed JSON to the NLP engine."""

    name = "http-text"

    def __init__(
        self,
        url: str,
        secret: str,
        session: aiohttp.ClientSession,
        *,
        timeout_s: float = 30.0,
        legacy_headers: bool = False,
    ) -> None:
        self.url = url
        self._key = http_key(secret, "sinks.http_secret")
        self._session = session
        self._timeout_s = timeout_s
        self._legacy = legacy_headers

    async def deliver_text(self, key: str, record: dict[str, Any]) -> dict[str, Any]:
        data = text_line(key, record)[:-1]
        headers = await json_headers(self._key, key, data, legacy=self._legacy)
        status, _ = await post_signed(self._session, self.url, data, headers, self._timeout_s)
        return {"sink": self.name, "url": redact_url(self.url), "status": status}

    async def close(self) -> None:
        return None  # the session belongs to the caller
