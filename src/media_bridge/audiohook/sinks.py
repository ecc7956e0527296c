"""Where live call audio goes: chunk deliveries while the call runs, the whole at the end.

Deliveries are WAV files on disk (mono 16-bit PCM) plus a metadata dict; sinks never
hold a call in memory. Names are derived from conversation/session ids and the chunk
index, so a repeated delivery overwrites the same file (idempotent).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

from media_bridge.audiohook.settings import ChunkSinkSettings
from media_bridge.errors import ConfigError
from media_bridge.files import create_temp_beside, private_dir, write_private
from media_bridge.observability import get_logger
from media_bridge.redact import redact_url

log = get_logger(__name__)
_SAFE = re.compile(r"[^A-Za-z0-9_-]+")


class AudioChunkSink(Protocol):
    """Receives customer (and optionally agent) audio of live calls."""

    name: str

    async def deliver_chunk(self, meta: dict[str, Any], wav_path: Path) -> dict[str, Any]:
        """A finished chunk, delivered while the call still runs."""
        ...

    async def deliver_final(self, meta: dict[str, Any], wav_path: Path) -> dict[str, Any]:
        """The whole channel of one session, once it ended (closed or dropped)."""
        ...

    async def close(self) -> None: ...


def safe_part(text: str, fallback: str = "unknown") -> str:
    cleaned = _SAFE.sub("_", text)[:80].strip("_")
    return cleaned or fallback


def delivery_name(meta: dict[str, Any]) -> str:
    """``<session>-<channel>-chunk-00001`` or ``<session>-<channel>-full``."""
    session = safe_part(str(meta.get("sessionId", "")))
    channel = safe_part(str(meta.get("channel", "external")))
    if meta.get("kind") == "chunk":
        return f"{session}-{channel}-chunk-{int(meta.get('index', 0)):05d}"
    return f"{session}-{channel}-full"


def _atomic_copy(src: Path, dst: Path) -> None:
    fd, tmp = create_temp_beside(dst)
    try:
        with os.fdopen(fd, "wb") as out, src.open("rb") as inp:
            shutil.copyfileobj(inp, out)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class DirChunkSink:
    """WAV files with JSON sidecars under ``<root>/<conversationId>/``; sidecar written last."""

    name = "dir"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _store(self, meta: dict[str, Any], wav_path: Path) -> dict[str, Any]:
        folder = self.root / safe_part(str(meta.get("conversationId", "")))
        private_dir(self.root)
        private_dir(folder)  # 0700, and a symlinked folder is refused
        stem = delivery_name(meta)
        wav = folder / f"{stem}.wav"
        _atomic_copy(wav_path, wav)
        sidecar = dict(meta, file=wav.name)
        write_private(folder / f"{stem}.json", json.dumps(sidecar, indent=2).encode())
        return {"location": str(wav)}

    async def deliver_chunk(self, meta: dict[str, Any], wav_path: Path) -> dict[str, Any]:
        return await asyncio.to_thread(self._store, meta, wav_path)

    async def deliver_final(self, meta: dict[str, Any], wav_path: Path) -> dict[str, Any]:
        return await asyncio.to_thread(self._store, meta, wav_path)

    async def close(self) -> None:
        return None


def hmac_file(secret: bytes, path: Path) -> str:
    mac = hmac.new(secret, digestmod=hashlib.sha256)
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            mac.update(block)
    return mac.hexdigest()


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    fh = await asyncio.to_thread(open, path, "rb")
    try:
        while block := await asyncio.to_thread(fh.read, 1 << 18):
            yield block
    finally:
        fh.close()


class HttpChunkSink:
    """POSTs the WAV as the body; metadata in ``X-Bridge-Metadata`` (base64url JSON).

    ``X-Bridge-Signature: sha256=<hex HMAC(secret, body)>`` signs the audio and
    ``X-Bridge-Metadata-Signature`` the metadata header value. Retries 5xx/network
    errors with backoff; the same delivery name is sent as ``Idempotency-Key``.
    """

    name = "http"

    def __init__(self, url: str, secret: str | None, timeout_s: float = 30.0, retries: int = 3):
        self.url = url
        self.secret = secret.encode() if secret else None
        self.timeout_s = timeout_s
        self.retries = retries
        self._session: Any = None

    async def _client(self) -> Any:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                connector=aiohttp.TCPConnector(limit=64),
            )
        return self._session

    async def _post(self, meta: dict[str, Any], wav_path: Path) -> dict[str, Any]:
        import aiohttp

        meta_value = base64.urlsafe_b64encode(json.dumps(meta).encode()).decode()
        headers = {
            "Content-Type": "audio/wav",
            "X-Bridge-Metadata": meta_value,
            "X-Bridge-Kind": str(meta.get("kind", "")),
            "Idempotency-Key": delivery_name(meta),
        }
        if self.secret is not None:
            digest = await asyncio.to_thread(hmac_file, self.secret, wav_path)
            headers["X-Bridge-Signature"] = f"sha256={digest}"
            meta_mac = hmac.new(self.secret, meta_value.encode(), hashlib.sha256).hexdigest()
            headers["X-Bridge-Metadata-Signature"] = f"sha256={meta_mac}"
        session = await self._client()
        size = (await asyncio.to_thread(wav_path.stat)).st_size
        delay = 0.5
        for attempt in range(self.retries + 1):
            try:
                headers["Content-Length"] = str(size)
                async with session.post(
                    self.url, data=_file_chunks(wav_path), headers=headers
                ) as resp:
                    if resp.status < 300:
                        return {"status": resp.status}
                    if resp.status < 500 and resp.status != 429:
                        raise RuntimeError(f"sink refused delivery: HTTP {resp.status}")
                    reason = f"HTTP {resp.status}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                reason = type(exc).__name__
            if attempt < self.retries:
                log.warning("audiohook.sink.retry", url=redact_url(self.url), reason=reason)
                await asyncio.sleep(delay)
                delay *= 2
        raise RuntimeError(f"sink delivery failed after retries: {reason}")

    async def deliver_chunk(self, meta: dict[str, Any], wav_path: Path) -> dict[str, Any]:
        return await self._post(meta, wav_path)

    async def deliver_final(self, meta: dict[str, Any], wav_path: Path) -> dict[str, Any]:
        return await self._post(meta, wav_path)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def build_sink(settings: ChunkSinkSettings) -> AudioChunkSink:
    if settings.kind == "http":
        if not settings.http_url:
            raise ConfigError("audiohook sink kind 'http' needs sink.http_url")
        return HttpChunkSink(
            settings.http_url, settings.http_secret, settings.http_timeout_s, settings.http_retries
        )
    return DirChunkSink(settings.dir_path)
