"""``MediaFetcher``: get one media file (or a pre-signed JSON document) safely.

It decides per URL who authenticates (``fetch.urls.classify``), resolves Downloads API
links through the API, retries broken downloads a bounded number of times with
jittered backoff, and leaves the "stale URL -> re-read the message" loop to the
pipeline (``UrlExpired`` tells it to).

    fetcher = MediaFetcher(client)
    done = await fetcher.fetch_media(url, tmp_dir, max_bytes=50 << 20,
                                     expected_sha256=att["sha256"], declared_mime=att["mime"])
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import aiohttp

from media_bridge.errors import (
    MediaInterrupted,
    RateLimited,
    RedirectRefused,
    Transient,
    UrlExpired,
)
from media_bridge.fetch.download import (
    DownloadedFile,
    MediaResponseError,
    RejectedMedia,
    StreamOptions,
    open_media,
    stream_to_file,
)
from media_bridge.fetch.urls import UrlKind, classify
from media_bridge.genesys.client import GenesysClient
from media_bridge.observability import get_logger
from media_bridge.redact import redact_url
from media_bridge.retry import full_jitter_backoff

log = get_logger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class Fetcher(Protocol):
    """What job handlers ask of the fetcher (``HandlerContext.fetcher``); ``MediaFetcher``
    is the one implementation, a unit test's fake another."""

    async def fetch_media(
        self,
        url: str,
        dest_dir: Path,
        *,
        max_bytes: int,
        expected_sha256: str | None = None,
        expected_size: int | None = None,
        declared_mime: str | None = None,
    ) -> DownloadedFile: ...

    async def fetch_json_unauthenticated(
        self, url: str, *, max_bytes: int = 64 << 20
    ) -> object: ...


class _TokenRejected(Exception):
    """A token-authenticated media hop answered 401: refresh the token once."""


class MediaFetcher:
    def __init__(self, client: GenesysClient, *, sleep: Sleep = asyncio.sleep) -> None:
        self.client = client
        self._sleep = sleep
        settings = client.settings
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=settings.request_timeout_s, sock_read=settings.request_timeout_s
        )
        #: counters for metrics
        self.downloads = 0
        self.bytes = 0
        self.retries = 0
        self.link_resolutions = 0

    async def fetch_media(
        self,
        url: str,
        dest_dir: Path,
        *,
        max_bytes: int,
        expected_sha256: str | None = None,
        expected_size: int | None = None,
        declared_mime: str | None = None,
    ) -> DownloadedFile:
        """Download ``url`` into a temporary file in ``dest_dir`` (see module doc).

        Raises UrlExpired (re-resolve through the API), RejectedMedia/BadInput (never
        retry), RateLimited/Transient (after bounded in-call retries), PermissionMissing.
        """
        settings = self.client.settings
        options = StreamOptions(
            max_bytes=max_bytes,
            chunk_bytes=settings.download_chunk_bytes,
            min_bytes_per_s=settings.download_min_bytes_per_s,
            expected_sha256=expected_sha256,
            expected_size=expected_size,
            declared_mime=declared_mime,
        )
        kind = classify(url, self.client.hosts)
        from_link = kind is UrlKind.DOWNLOADS_LINK
        target = await self._resolve(url) if from_link else url
        attempt = 0
        relinked = token_refreshed = False
        while True:
            token = await self.client.tokens.get_token() if kind is UrlKind.API else None
            try:
                done = await self._download_once(target, dest_dir, token, options)
            except _TokenRejected:
                if token is None or token_refreshed:
                    raise UrlExpired(f"media URL {redact_url(target)} answered HTTP 401") from None
                token_refreshed = True
                self.client.tokens.invalidate(token)
                continue
            except UrlExpired:
                if not from_link or relinked:
                    raise
                relinked = True  # the link may outlive its signed URL: ask again once
                target = await self._resolve(url)
                continue
            except (Transient, RateLimited) as exc:
                attempt += 1
                delay = self._retry_delay(exc, attempt)
                if delay is None:
                    raise
                self.retries += 1
                log.warning("fetch.retry", url=redact_url(target), attempt=attempt, error=str(exc))
                await self._sleep(delay)
                continue
            self.downloads += 1
            self.bytes += done.size
            return done

    def _retry_delay(self, exc: Transient | RateLimited, attempt: int) -> float | None:
        """How long to wait before another try; None when the budget is spent or the
        server asks for a longer wait than ``max_retry_after_s``."""
        settings = self.client.settings
        if attempt >= settings.download_attempts:
            return None
        delay = full_jitter_backoff(
            attempt, base=settings.backoff_base_s, cap=settings.backoff_max_s
        )
        if isinstance(exc, RateLimited):
            if exc.retry_after > settings.max_retry_after_s:
                return None
            delay = max(delay, exc.retry_after)
        return delay

    async def download_attachment(
        self, attachment: Mapping[str, Any], dest_dir: Path, *, max_bytes: int
    ) -> DownloadedFile:
        """Fetch an attachment as ``genesys.attachment_from_message`` describes it."""
        url = attachment.get("url")
        if not isinstance(url, str) or not url:
            raise UrlExpired("the attachment has no URL (yet): read the message again")
        size = attachment.get("contentSizeBytes")
        return await self.fetch_media(
            url,
            dest_dir,
            max_bytes=max_bytes,
            expected_sha256=attachment.get("sha256") or None,
            expected_size=size if isinstance(size, int) else None,
            declared_mime=attachment.get("mime") or None,
        )

    async def fetch_json_unauthenticated(self, url: str, *, max_bytes: int = 64 << 20) -> object:
        """A pre-signed JSON document (transcripts), fetched without the token, capped."""
        classify(url, self.client.hosts)  # validates the URL; the token is never sent here
        settings = self.client.settings
        attempt = 0
        while True:
            try:
                return await self._json_once(url, max_bytes)
            except MediaResponseError as exc:
                raise exc.error from None
            except Transient:
                attempt += 1
                if attempt >= settings.download_attempts:
                    raise
                delay = full_jitter_backoff(
                    attempt, base=settings.backoff_base_s, cap=settings.backoff_max_s
                )
                await self._sleep(delay)

    # -- internals -------------------------------------------------------------------
    async def _resolve(self, link: str) -> str:
        self.link_resolutions += 1
        signed = await self.client.resolve_download(link)
        if classify(signed, self.client.hosts) is UrlKind.DOWNLOADS_LINK:
            raise RedirectRefused("the Downloads API resolved a link to another Downloads API link")
        return signed

    async def _download_once(
        self, url: str, dest_dir: Path, token: str | None, options: StreamOptions
    ) -> DownloadedFile:
        try:
            async with open_media(
                self.client.session,
                url,
                authorization=f"Bearer {token}" if token else None,
                max_redirects=self.client.settings.max_redirects,
                client_timeout=self._timeout,
            ) as resp:
                return await stream_to_file(resp, dest_dir, options)
        except MediaResponseError as exc:
            if token is not None and exc.status == 401:
                raise _TokenRejected from None
            raise exc.error from None

    async def _json_once(self, url: str, max_bytes: int) -> Any:
        async with open_media(
            self.client.session,
            url,
            authorization=None,
            max_redirects=self.client.settings.max_redirects,
            client_timeout=self._timeout,
        ) as resp:
            if resp.content_length is not None and resp.content_length > max_bytes:
                raise RejectedMedia("too_large", f"JSON document exceeds {max_bytes} bytes")
            chunks: list[bytes] = []
            size = 0
            try:
                async for chunk in resp.content.iter_chunked(
                    self.client.settings.download_chunk_bytes
                ):
                    size += len(chunk)
                    if size > max_bytes:
                        raise RejectedMedia("too_large", f"JSON document exceeds {max_bytes} bytes")
                    chunks.append(chunk)
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise MediaInterrupted(f"JSON document broken off after {size} bytes") from exc
        try:
            return json.loads(b"".join(chunks))
        except (ValueError, UnicodeDecodeError) as exc:
            raise RejectedMedia("not_json", "the document is not JSON") from exc
