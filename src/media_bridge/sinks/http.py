"""The ``http`` media sink: the biometrics engine's endpoint.

One signed multipart POST per delivery (see ``signing`` for the signature scheme):
part ``metadata`` (application/json: key, kind, conversation id, metadata, and the
files' role/filename/mime/sha256/size in order), then one part ``file`` per file,
streamed from disk under its safe generated filename. Headers carry the
``Idempotency-Key`` (the delivery key): a receiver can drop re-deliveries.

Outcomes: 2xx -> delivered; 429 -> RateLimited (Retry-After honoured); 408, 5xx,
connection errors and timeouts -> Transient (the ledger retries with backoff); any
other status (4xx, a redirect) -> DeliveryRejected with the engine's answer,
truncated. The sink makes one attempt per call: retries belong to the ledger.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from contextlib import ExitStack
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from media_bridge.errors import ConfigError, DeliveryRejected, RateLimited, Transient
from media_bridge.redact import redact_text, redact_url
from media_bridge.sinks.naming import delivery_stem, file_name
from media_bridge.sinks.signing import sha256_hex, signed_headers
from media_bridge.types import Delivery

MAX_ANSWER_CHARS = 500
DEFAULT_RETRY_AFTER_S = 5.0


def retry_after_seconds(value: str | None, default: float = DEFAULT_RETRY_AFTER_S) -> float:
    """``Retry-After`` as seconds or an HTTP date; absent or unreadable -> ``default``."""
    if not value:
        return default
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


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
    except (aiohttp.ClientError, TimeoutError) as exc:
        detail = redact_text(str(exc)) or type(exc).__name__
        raise Transient(f"POST {where} failed: {detail}") from exc
    if 200 <= status < 300:
        return status, text
    answer = redact_text(text[:MAX_ANSWER_CHARS])
    if status == 429:
        raise RateLimited(retry_after_seconds(retry_after), f"POST {where}: 429 {answer}")
    if status == 408 or status >= 500:
        raise Transient(f"POST {where}: {status} {answer}")
    raise DeliveryRejected(f"POST {where}: {status} {answer}")


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
    ) -> None:
        if not secret:
            raise ConfigError("the http media sink needs a secret to sign its requests")
        self.url = url
        self._secret = secret
        self._session = session
        self._timeout_s = timeout_s

    async def deliver(self, delivery: Delivery) -> dict[str, Any]:
        stem = delivery_stem(delivery)
        names = [file_name(stem, f) for f in delivery.files]
        metadata = media_metadata(delivery, names)
        hashes = [sha256_hex(metadata)] + [f.sha256 for f in delivery.files]
        headers = signed_headers(self._secret, delivery.key, hashes)
        with ExitStack() as files:
            writer = aiohttp.MultipartWriter("form-data")
            part = writer.append(metadata, {"Content-Type": "application/json"})
            part.set_content_disposition("form-data", name="metadata")
            for file, name in zip(delivery.files, names, strict=True):
                try:
                    handle = files.enter_context(file.path.open("rb"))
                except FileNotFoundError as exc:
                    raise Transient(f"delivered file vanished before the upload: {exc}") from exc
                part = writer.append(handle, {"Content-Type": file.mime})
                part.set_content_disposition("form-data", name="file", filename=name)
            status, text = await post_signed(
                self._session, self.url, writer, headers, self._timeout_s
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
