"""The erasure record for an HTTP media sink: one signed JSON POST (no files)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from media_bridge.config import SinkSettings
from media_bridge.sinks.http import post_signed
from media_bridge.sinks.signing import sha256_hex, signed_headers


async def post_erasure(
    session: aiohttp.ClientSession, sinks: SinkSettings, key: str, record: dict[str, Any]
) -> None:
    if sinks.http_url is None or sinks.http_secret is None:
        raise ValueError("sinks.http_url and sinks.http_secret are required for the http sink")
    body = json.dumps(record, sort_keys=True).encode()
    headers = {
        **signed_headers(sinks.http_secret, key, [sha256_hex(body)]),
        "Content-Type": "application/json",
    }
    await post_signed(session, sinks.http_url, body, headers, 60.0)
