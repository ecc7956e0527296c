"""Streaming one HTTP body to a temporary file: capped, hashed and sniffed in-line.

Never holds a file in memory: chunks go straight to ``dest_dir/.media-*.part`` while
sha256 and the size run over them. Redirects are followed by hand and the
``Authorization`` header (if the first hop had one) is never carried across. Media
answers map to errors: 401/403/404/410 -> ``UrlExpired`` (a stale signed URL),
429 -> ``RateLimited``, 5xx/408 and broken or truncated bodies -> ``Transient``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

import aiohttp

from media_bridge.errors import (
    BadInput,
    MediaInterrupted,
    MediaUnreachable,
    RateLimited,
    RedirectRefused,
    UrlExpired,
)
from media_bridge.errors import RejectedMedia as RejectedMedia
from media_bridge.fetch.sniff import SNIFF_BYTES, mismatch_reason, sniff
from media_bridge.redact import redact_url
from media_bridge.retry import parse_retry_after

STALE = frozenset({401, 403, 404, 410})
#: a slow body is judged only after this long (a first chunk may be slow to come)
SLOW_GRACE_S = 30.0
REDIRECTS = frozenset({301, 302, 303, 307, 308})
NETWORK_ERRORS = (aiohttp.ClientError, TimeoutError)


@dataclass(frozen=True, slots=True)
class DownloadedFile:
    """A download in a temporary file of ``dest_dir``; the caller moves or deletes it."""

    path: Path
    size: int
    sha256: str
    sniffed_mime: str | None
    declared_mime: str | None
    #: codec/variant when the header names it (opus, vorbis, pcm, mulaw, ...)
    sniffed_codec: str | None = None


class MediaResponseError(Exception):
    """Carries a media hop's status (401 with a token means: refresh, not stale)."""

    def __init__(self, status: int, error: Exception) -> None:
        self.status = status
        self.error = error
        super().__init__(str(error))


@asynccontextmanager
async def open_media(
    session: aiohttp.ClientSession,
    url: str,
    *,
    authorization: str | None,
    max_redirects: int,
    client_timeout: aiohttp.ClientTimeout,
) -> AsyncIterator[aiohttp.ClientResponse]:
    """The 200 response for ``url``; ``authorization`` goes to the first hop only."""
    headers = {"Authorization": authorization} if authorization else {}
    first_scheme = urlsplit(url).scheme
    for _hop in range(max_redirects + 1):
        try:
            async with session.get(
                url, headers=headers, allow_redirects=False, timeout=client_timeout
            ) as resp:
                if resp.status in REDIRECTS and "Location" in resp.headers:
                    url = urljoin(url, resp.headers["Location"])
                    headers = {}  # never carried across a redirect
                    scheme = urlsplit(url).scheme
                    if scheme not in {"http", "https"} or (
                        first_scheme == "https" and scheme != "https"
                    ):
                        raise RedirectRefused(f"refusing redirect to {redact_url(url)}")
                    continue
                if resp.status != 200:
                    raise MediaResponseError(resp.status, _status_error(resp, url))
                yield resp
                return
        except NETWORK_ERRORS as exc:
            raise MediaUnreachable(
                f"media fetch {redact_url(url)} failed: {type(exc).__name__}: "
                f"{redact_url(str(exc))[:200]}"
            ) from exc
    raise RedirectRefused(f"more than {max_redirects} redirects fetching media")


def _status_error(resp: aiohttp.ClientResponse, url: str) -> Exception:
    where = f"media URL {redact_url(url)} answered HTTP {resp.status}"
    if resp.status in STALE:
        return UrlExpired(where)
    if resp.status == 429:
        retry_after = parse_retry_after(resp.headers.get("Retry-After"))
        return RateLimited(retry_after if retry_after is not None else 1.0, where)
    if resp.status >= 500 or resp.status == 408:
        return MediaUnreachable(where)
    return BadInput(where)


def parse_sha256(value: str) -> bytes | None:
    """Expected digest as hex (64 chars) or base64 (44 chars); None if neither."""
    text = value.strip()
    if len(text) == 64:
        try:
            return bytes.fromhex(text)
        except ValueError:
            return None
    padded = text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


@dataclass(frozen=True, slots=True)
class StreamOptions:
    """What ``stream_to_file`` enforces on one body: the cap, the pace, what the API said."""

    max_bytes: int
    chunk_bytes: int
    #: below this average pace (after ``slow_grace_s``) the body is given up as Transient
    min_bytes_per_s: float = 0.0
    slow_grace_s: float = SLOW_GRACE_S
    expected_sha256: str | None = None
    expected_size: int | None = None
    declared_mime: str | None = None


@dataclass(slots=True)
class _Copied:
    size: int = 0
    head: bytes = b""
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)


async def stream_to_file(
    resp: aiohttp.ClientResponse, dest_dir: Path, options: StreamOptions
) -> DownloadedFile:
    """Write the body to a temp file, enforcing the cap and checking size/hash/type."""
    length = resp.content_length
    if length is not None and length > options.max_bytes:
        raise RejectedMedia(
            "too_large", f"Content-Length {length} exceeds the cap {options.max_bytes}"
        )
    # creating a file can take milliseconds on a slow disk: not on the event loop.
    # Chunk writes stay inline: they land in the page cache (a memcpy), and a thread
    # hop per 256 KiB chunk would cost more than it saves.
    fd, name = await asyncio.to_thread(
        tempfile.mkstemp, prefix=".media-", suffix=".part", dir=dest_dir
    )
    try:
        with os.fdopen(fd, "wb") as out:
            copied = await _copy_body(resp, out, options)
        return _checked(Path(name), copied, length, options)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


async def _copy_body(
    resp: aiohttp.ClientResponse, out: BinaryIO, options: StreamOptions
) -> _Copied:
    """Chunks to ``out`` while the size, the hash and the sniffed head run over them."""
    copied = _Copied()
    started = time.monotonic()
    try:
        async for chunk in resp.content.iter_chunked(options.chunk_bytes):
            copied.size += len(chunk)
            elapsed = time.monotonic() - started
            too_slow = copied.size < options.min_bytes_per_s * elapsed
            if options.min_bytes_per_s and elapsed > options.slow_grace_s and too_slow:
                raise MediaInterrupted(
                    f"media body too slow: {copied.size} bytes in {elapsed:.0f} s"
                )
            if copied.size > options.max_bytes:
                raise RejectedMedia("too_large", f"body exceeds the cap {options.max_bytes}")
            copied.digest.update(chunk)
            out.write(chunk)
            if len(copied.head) < SNIFF_BYTES:
                copied.head += chunk[: SNIFF_BYTES - len(copied.head)]
    except NETWORK_ERRORS as exc:
        raise MediaInterrupted(f"media body broken off after {copied.size} bytes: {exc}") from exc
    return copied


def _checked(
    path: Path, copied: _Copied, length: int | None, options: StreamOptions
) -> DownloadedFile:
    """The complete body checked against what the headers and the API said it is."""
    digest = copied.digest.digest()
    _check_integrity(copied.size, digest, length, options.expected_size, options.expected_sha256)
    if copied.size == 0:
        raise RejectedMedia("empty", "the body is empty")
    sniffed = sniff(copied.head)
    reason = mismatch_reason(options.declared_mime, sniffed)
    if reason is not None:
        raise RejectedMedia(*reason)
    return DownloadedFile(
        path=path,
        size=copied.size,
        sha256=copied.digest.hexdigest(),
        sniffed_mime=sniffed.mime if sniffed else None,
        declared_mime=options.declared_mime,
        sniffed_codec=sniffed.codec if sniffed else None,
    )


def _check_integrity(
    size: int,
    digest: bytes,
    content_length: int | None,
    expected_size: int | None,
    expected_sha256: str | None,
) -> None:
    """A short body is truncated (Transient); a complete wrong one is rejected."""
    if content_length is not None and size < content_length:
        raise MediaInterrupted(f"media body truncated: {size} of {content_length} bytes")
    wanted = parse_sha256(expected_sha256) if expected_sha256 else None
    if wanted is not None and digest == wanted:
        return  # the hash proves the bytes, whatever the size field says
    if expected_size is not None and size != expected_size:
        if size < expected_size and content_length in (None, expected_size):
            raise MediaInterrupted(f"media body truncated: {size} of {expected_size} bytes")
        raise RejectedMedia("size_mismatch", f"got {size} bytes, the API said {expected_size}")
    if wanted is not None:
        raise RejectedMedia(
            "checksum_mismatch", f"sha256 {digest.hex()} differs from the API's {expected_sha256}"
        )
