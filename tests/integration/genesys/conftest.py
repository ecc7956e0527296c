"""Fixtures: scripted fake Genesys hosts on free ports (see genesys_fakes)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from media_bridge.genesys.client import GenesysClient
from tests.integration.genesys.genesys_fakes import (
    CLIENT_ID,
    CLIENT_SECRET,
    FakeGenesys,
    FakeHost,
    unauthorized,
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeGenesys]:
    hosts = [FakeHost() for _ in range(4)]
    for host in hosts:
        await host.start()
    g = FakeGenesys(hosts[0], hosts[1], hosts[2], hosts[3])

    async def token(request: web.Request) -> web.Response:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        form = await request.post()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return web.json_response({"error": "invalid_client"}, status=401)
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if g.token_delay:
            await asyncio.sleep(g.token_delay)
        value = f"tok-{len(g.issued) + 1}"
        g.issued.append(value)
        g.valid.add(value)
        return web.json_response(
            {"access_token": value, "token_type": "bearer", "expires_in": g.token_lifetime}
        )

    async def message(request: web.Request) -> web.Response:
        if not g.bearer_ok(request):
            return unauthorized()
        parts = request.path.split("/")
        cid, mid = parts[5], parts[7]
        return web.json_response({"id": mid, "conversationId": cid, "normalizedMessage": {}})

    async def download(request: web.Request) -> web.Response:
        if not g.bearer_ok(request):
            return unauthorized()
        if request.query.get("issueRedirect") != "false":
            return web.json_response({"code": "bad.request"}, status=400)
        name = request.path.rsplit("/", 1)[-1]
        if name not in g.media:
            return web.json_response({"code": "not.found", "status": 404}, status=404)
        return web.json_response({"url": g.signed_url(name)})

    async def stored(request: web.Request) -> web.Response:
        name = request.path.rsplit("/", 1)[-1]
        if request.query.get("Signature") != f"sig-{name}" or name in g.expired_media:
            return web.Response(status=403, text="<Error>AccessDenied</Error>")
        if request.headers.get("Authorization"):
            return web.Response(status=400, text="<Error>Only one auth mechanism</Error>")
        return web.Response(body=g.media[name], content_type="audio/ogg")

    g.login.on("POST", "/oauth/token", token)
    g.api.on("GET", r"/api/v2/conversations/messages/[^/]+/messages/[^/]+", message)
    g.api.on("GET", r"/api/v2/downloads/[^/]+", download)
    g.storage.on("GET", r"/media/[^/]+", stored)
    try:
        yield g
    finally:
        for host in hosts:
            assert host.server is not None
            await host.server.close()


@pytest.fixture
async def client(fake: FakeGenesys) -> AsyncIterator[GenesysClient]:
    async with GenesysClient(fake.settings()) as c:
        yield c
