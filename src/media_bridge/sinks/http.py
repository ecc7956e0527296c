"""The ``http`` media sink: the biometrics engine's endpoint.

One signed multipart POST per delivery (Standard Webhooks: ``signing``; the receiver's
contract: docs/receivers.md): part ``metadata`` (application/json: key, kind,
conversation id, metadata, and the files' role/filename/mime/sha256/size in order), then
one part ``file`` per file, streamed from disk under its safe generated filename. The
delivery key is the ``webhook-id`` and ``Idempotency-Key``: a receiver drops repeats.

Outcomes: 2xx -> delivered; 429 -> RateLimited (Retry-After honoured); 408, 5xx,
connection errors and timeouts -> Transient (the ledger retries with backoff); any
other status (4xx, a redirect) -> DeliveryRejected with the engine's answer,
truncated. The sink makes one attempt per call: retries belong to the ledger.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp

from media_bridge.errors import (
    ConfigError,
    DeliveryRejected,
    RateLimited,
    SinkUnavailable,
    Transient,
)
from media_bridge.redact import redact_text, redact_url
from media_bridge.retry import retry_after_seconds
from media_bridge.signing import (
    WEBHOOK_TIMESTAMP,
    legacy_v1_headers,
    secret_key,
    sha256_hex,
)
from media_bridge.sinks.http_body import FilePart, multipart_body, signed_headers
from media_bridge.sinks.naming import delivery_stem, file_name
from media_bridge.types import Delivery

MAX_ANSWER_CHARS = 500
DEFAULT_RETRY_AFTER_S = 5.0


def _answer(text: str) -> Any:
    snippet = text[:MAX_ANSWER_CHARS]
    try:
        return json.loads(text) if len(text) <= MAX_ANSWER_CHARS else snippet
    except ValueError:
        return snippet


async def post_signed(
    session: aiohttp.ClientSession,
    url: str,
    data: Any,
    headers: Mapping[str, str],
    timeout_s: float,
) -> tuple[int, str]:
    """POST and classify the answer; returns (status, body text) for 2xx, raises otherwise."""
    where = redact_url(url)
    try:
        async with session.post(
            url,
            data=data,
            headers=dict(headers),
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as response:
            text = await response.text(errors="replace")
            status = response.status
            retry_after = response.headers.get("Retry-After")
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        detail = redact_text(str(exc)) or type(exc).__name__
        raise SinkUnavailable(f"POST {where} failed: {detail}") from exc
    if 200 <= status < 300:
        return status, text
    answer = redact_text(text[:MAX_ANSWER_CHARS])
    if status == 429:
        wait = retry_after_seconds(retry_after, DEFAULT_RETRY_AFTER_S)
        raise RateLimited(wait, f"POST {where}: 429 {answer}")
    if status == 408 or status >= 500:
        raise SinkUnavailable(f"POST {where}: {status} {answer}")
    raise DeliveryRejected(f"POST {where}: {status} {answer}")


def http_key(secret: str, setting: str) -> bytes:
    """The signing key of an HTTP sink; a malformed ``whsec_`` secret names its setting."""
    if not secret:
        raise ConfigError(f"{setting} is required to sign the http sink's requests")
    try:
        return secret_key(secret)
    except ValueError as exc:
        raise ConfigError(f"{setting}: {exc}") from None


def media_metadata(delivery: Delivery, names: list[str]) -> bytes:
    document = {
        "key": delivery.key,
        "kind": delivery.kind.value,
        "conversation_id": delivery.conversation_id,
        "metadata": delivery.metadata,
        "files": [
            {"role": f.role, "filename": n, "mime": f.mime, "sha256": f.sha256, "size": f.size}
            for f, n in zip(delivery.files, names, strict=True)
        ],
    }
    return json.dumps(document, sort_keys=True, ensure_ascii=False, default=str).encode()


class HttpMediaSink:
    """``MediaSink`` posting each delivery to one HTTP endpoint, signed with a shared secret."""

    name = "http"

    def __init__(
        self,
        url: str,
        secret: str,
        session: aiohttp.ClientSession,
        *,
        timeout_s: float = 300.0,
        legacy_headers: bool = False,
    ) -> None:
        self.url = url
        self._key = http_key(secret, "sinks.http_secret")
        self._session = session
        self._timeout_s = timeout_s
        self._legacy = legacy_headers

    async def deliver(self, delivery: Delivery) -> dict[str, Any]:
        stem = delivery_stem(delivery)
        names = [file_name(stem, f) for f in delivery.files]
        metadata = media_metadata(delivery, names)
        body = multipart_body(
            metadata,
            [FilePart(f.path, f.mime, n) for f, n in zip(delivery.files, names, strict=True)],
        )
        try:
            headers = await signed_headers(body, self._key, delivery.key)
        except FileNotFoundError as exc:
            raise Transient(f"delivered file vanished before the upload: {exc}") from exc
        if self._legacy:
            hashes = [sha256_hex(metadata)] + [f.sha256 for f in delivery.files]
            timestamp = headers[WEBHOOK_TIMESTAMP]
            headers |= legacy_v1_headers(self._key, delivery.key, timestamp, hashes)
        status, text = await post_signed(
            self._session, self.url, body.payload(), headers, self._timeout_s
        )
        return {
            "sink": self.name,
            "url": redact_url(self.url),
            "status": status,
            "files": names,
            "answer": _answer(text),
        }

    async def close(self) -> None:
        return None  # the session belongs to the caller
