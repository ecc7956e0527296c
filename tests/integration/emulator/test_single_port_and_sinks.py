"""Single-port mode (Host header dispatch) and the HTTP event sink, over real sockets."""

from __future__ import annotations

import base64
import json
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from genesys_emulator.event_sinks import open_sink
from genesys_emulator.testing import running_emulator
from tests.integration.emulator.emulator_helpers import basic, small_config

pytestmark = pytest.mark.integration


async def test_single_port_dispatches_on_host_header() -> None:
    config = small_config(single_port=0, domain="emulator.test")
    with running_emulator(config) as emu:
        assert emu.api_url.startswith("http://api.emulator.test:")
        port = emu.api_url.rsplit(":", 1)[1]
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{base}/oauth/token",
                data={"grant_type": "client_credentials"},
                headers={**basic(emu.client_id, emu.client_secret), "Host": "login.emulator.test"},
            ) as response:
                assert response.status == 200
                token = (await response.json())["access_token"]
            conversation = emu.conversations()[0]
            async with session.get(
                f"{base}/api/v2/conversations/messages/{conversation.id}",
                headers={"Authorization": f"Bearer {token}", "Host": "api.emulator.test"},
            ) as response:
                assert response.status == 200
            async with session.get(
                f"{base}/api/v2/conversations/messages/{conversation.id}",
                headers={"Authorization": f"Bearer {token}", "Host": "storage.emulator.test"},
            ) as response:
                assert response.status == 404  # the storage host has no API routes


async def test_http_sink_posts_each_event_with_api_key() -> None:
    received: list[tuple[dict[str, Any], str | None, str | None]] = []

    async def intake(request: web.Request) -> web.Response:
        received.append(
            (
                await request.json(),
                request.headers.get("X-Api-Key"),
                request.headers.get("Authorization"),
            )
        )
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/events", intake)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        sink = open_sink(
            f"http://user:pw@127.0.0.1:{port}/events?apiKeyHeader=X-Api-Key&apiKey=s3cret"
        )
        await sink.send([{"n": 1}, {"n": 2}])
        await sink.close()
    finally:
        await runner.cleanup()
    assert [r[0] for r in received] == [{"n": 1}, {"n": 2}]
    assert all(r[1] == "s3cret" for r in received)
    assert received[0][2] == "Basic " + base64.b64encode(b"user:pw").decode()
    assert json.dumps(received[0][0])
