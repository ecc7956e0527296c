"""Where live call audio goes: chunk deliveries while the call runs, the whole at the end.

Deliveries are WAV files on disk (mono 16-bit PCM) plus a metadata dict; sinks never
hold a call in memory. Names are derived from conversation/session ids and the chunk
index, so a repeated delivery overwrites the same file (idempotent).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import re
import shutil
from pathlib import Path
from typing import Any, Protocol

from media_bridge.audiohook.settings import ChunkSinkSettings
from media_bridge.errors import ConfigError
from media_bridge.files import atomic_file, private_dir, write_private
from media_bridge.observability import get_logger
from media_bridge.redact import redact_url
from media_bridge.retry import exponential_backoff, retry_after_seconds
from media_bridge.signing import (
    IDEMPOTENCY_HEADER,
    LEGACY_METADATA_SIGNATURE_HEADER,
    LEGACY_SIGNATURE_HEADER,
    WEBHOOK_ID,
    legacy_sha256,
    legacy_sha256_mac,
    secret_key,
    warn_legacy_headers,
)
from media_bridge.sinks.http_body import Body, FilePart, json_bytes, multipart_body, signed_headers

log = get_logger(__name__)
_SAFE = re.compile(r"[^A-Za-z0-9_-]+")
#: a 429's ``Retry-After`` is honoured up to this long
MAX_RETRY_AFTER_S = 60.0


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
    with src.open("rb") as inp, atomic_file(dst) as out:
        shutil.copyfileobj(inp, out)


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


def _file_digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


class HttpChunkSink:
    """POSTs each WAV as a signed multipart delivery, like the media sink (docs/receivers.md).

    Part ``metadata`` (the delivery's metadata plus ``files``: the WAV's filename, MIME,
    sha256 and size), then part ``file`` (audio/wav). Standard Webhooks headers with the
    metadata ``key`` as ``webhook-id`` and ``Idempotency-Key``; no secret: unsigned.
    Retries 5xx, 408, 429 (after ``Retry-After``, at most 60 s) and network errors with
    backoff, each attempt signed anew; other answers stop. ``legacy_headers`` sends the
    request of earlier releases instead: the WAV as the body, ``X-Bridge-Metadata``
    (base64url JSON), ``X-Bridge-Signature: sha256=<hex HMAC(body)>``,
    ``X-Bridge-Metadata-Signature``, the delivery name as ``Idempotency-Key``, plus the
    Standard Webhooks headers over that body.
    """

    name = "http"

    def __init__(
        self,
        url: str,
        secret: str | None,
        timeout_s: float = 30.0,
        retries: int = 3,
        *,
        legacy_headers: bool = False,
    ):
        self.url = url
        self.secret = secret_key(secret) if secret else None
        self.timeout_s = timeout_s
        self.retries = retries
        self.legacy_headers = legacy_headers
        self._session: Any = None

    async def _client(self) -> Any:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                connector=aiohttp.TCPConnector(limit=64),
            )
        return self._session

    async def _request(self, meta: dict[str, Any], wav_path: Path) -> tuple[Body, dict[str, str]]:
        """The body and headers of one attempt (signed now)."""
        name = delivery_name(meta)
        if self.legacy_headers:
            return await self._legacy_request(meta, name, wav_path)
        key = str(meta.get("key") or name)
        sha256, size = await asyncio.to_thread(_file_digest, wav_path)
        document = {"key": key, **meta}
        document["files"] = [
            {
                "role": str(meta.get("channel", "external")),
                "filename": f"{name}.wav",
                "mime": "audio/wav",
                "sha256": sha256,
                "size": size,
            }
        ]
        body = multipart_body(
            json_bytes(document), [FilePart(wav_path, "audio/wav", f"{name}.wav")]
        )
        if self.secret is not None:
            return body, await signed_headers(body, self.secret, key)
        unsigned = {
            WEBHOOK_ID: key,
            IDEMPOTENCY_HEADER: key,
            "Content-Type": body.content_type,
            "Content-Length": str(await asyncio.to_thread(body.size)),
        }
        return body, unsigned

    async def _legacy_request(
        self, meta: dict[str, Any], name: str, wav_path: Path
    ) -> tuple[Body, dict[str, str]]:
        body = Body("audio/wav", (wav_path,))
        meta_value = base64.urlsafe_b64encode(json.dumps(meta).encode()).decode()
        headers = {
            "X-Bridge-Metadata": meta_value,
            "X-Bridge-Kind": str(meta.get("kind", "")),
            IDEMPOTENCY_HEADER: name,
            "Content-Type": "audio/wav",
            "Content-Length": str(await asyncio.to_thread(body.size)),
        }
        if self.secret is not None:
            legacy = legacy_sha256_mac(self.secret)
            headers |= await signed_headers(body, self.secret, name, legacy)
            headers[LEGACY_SIGNATURE_HEADER] = legacy_sha256(legacy)
            meta_mac = legacy_sha256_mac(self.secret)
            meta_mac.update(meta_value.encode())
            headers[LEGACY_METADATA_SIGNATURE_HEADER] = legacy_sha256(meta_mac)
        return body, headers

    async def _post(self, meta: dict[str, Any], wav_path: Path) -> dict[str, Any]:
        import aiohttp

        session = await self._client()
        for attempt in range(self.retries + 1):
            wait = exponential_backoff(attempt, base=0.5, cap=math.inf)
            try:
                body, headers = await self._request(meta, wav_path)
                async with session.post(
                    self.url, data=body.payload(), headers=headers, allow_redirects=False
                ) as resp:
                    if resp.status < 300:
                        return {"status": resp.status}
                    if resp.status < 500 and resp.status not in (408, 429):
                        raise RuntimeError(f"sink refused delivery: HTTP {resp.status}")
                    reason = f"HTTP {resp.status}"
                    if resp.status == 429:
                        retry_after = resp.headers.get("Retry-After")
                        wait = retry_after_seconds(retry_after, wait, cap=MAX_RETRY_AFTER_S)
            except (aiohttp.ClientError, TimeoutError) as exc:
                reason = type(exc).__name__
            if attempt < self.retries:
                log.warning("audiohook.sink.retry", url=redact_url(self.url), reason=reason)
                await asyncio.sleep(wait)
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
        if settings.legacy_signature_headers:
            warn_legacy_headers("audiohook.sink.legacy_signature_headers")
        return HttpChunkSink(
            settings.http_url,
            settings.http_secret,
            settings.http_timeout_s,
            settings.http_retries,
            legacy_headers=settings.legacy_signature_headers,
        )
    return DirChunkSink(settings.dir_path)
