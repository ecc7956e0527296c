"""A media server that trickles bytes is cut off instead of holding a worker for ever."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from media_bridge.errors import Transient
from media_bridge.fetch.download import StreamOptions, stream_to_file

pytestmark = pytest.mark.integration


@pytest.fixture
async def trickle() -> AsyncIterator[str]:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "audio/ogg"})
        response.content_length = 10_000
        await response.prepare(request)
        for _ in range(100):
            await response.write(b"OggS" + b"\0" * 6)
            await asyncio.sleep(0.05)
        return response

    app = web.Application()
    app.router.add_get("/slow", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/slow"
    await runner.cleanup()


async def test_a_trickling_body_is_cut_off_and_leaves_no_file(trickle: str, tmp_path: Path) -> None:
    async with aiohttp.ClientSession() as session, session.get(trickle) as response:
        with pytest.raises(Transient, match="too slow"):
            await stream_to_file(
                response,
                tmp_path,
                StreamOptions(
                    max_bytes=1 << 20, chunk_bytes=65536, min_bytes_per_s=1000, slow_grace_s=0.3
                ),
            )
    assert list(tmp_path.iterdir()) == []
