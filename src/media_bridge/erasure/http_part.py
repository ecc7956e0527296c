"""The erasure record for an HTTP media sink: one signed JSON POST (no files)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from media_bridge.config import SinkSettings
from media_bridge.sinks.http import http_key, post_signed
from media_bridge.sinks.text import json_headers


async def post_erasure(
    session: aiohttp.ClientSession, sinks: SinkSettings, key: str, record: dict[str, Any]
) -> None:
    """Signed like every HTTP delivery (docs/receivers.md); the record key is ``webhook-id``."""
    if sinks.http_url is None or sinks.http_secret is None:
        raise ValueError("sinks.http_url and sinks.http_secret are required for the http sink")
    body = json.dumps(record, sort_keys=True).encode()
    signing_key = http_key(sinks.http_secret, "sinks.http_secret")
    headers = await json_headers(signing_key, key, body, legacy=sinks.legacy_signature_headers)
    await post_signed(session, sinks.http_url, body, headers, 60.0)
