"""The HTTP intake resists slow clients, over a real socket.

Before: a connection dribbling headers one line per second (no auth needed) and an
authorised one dribbling its body were both still open after 60 s, with no cap on
connections. Now request heads must be in within ``intake.header_timeout_s``, bodies
within ``intake.body_timeout_s`` (default 10 s each; 1 s here) and at most
``intake.max_connections`` (default 256) are served at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import uvicorn

from media_bridge.config import IntakeSettings
from media_bridge.intake.http_app import build_intake_app, intake_server_config
from media_bridge.intake.ingest import Intake
from media_bridge.ledger import Ledger, ledger_from_url

pytestmark = pytest.mark.integration

API_KEY = "slow-key"
DEADLINE_S = 1.0


@pytest.fixture
async def ledger(tmp_path: object) -> AsyncIterator[Ledger]:
    opened = ledger_from_url(f"sqlite:///{tmp_path}/ledger.db")
    await opened.open()
    yield opened
    await opened.close()


@asynccontextmanager
async def intake_on(ledger: Ledger, **overrides: object) -> AsyncIterator[int]:
    settings = IntakeSettings.model_validate(
        {
            "api_key": API_KEY,
            "port": 0,
            "header_timeout_s": DEADLINE_S,
            "body_timeout_s": DEADLINE_S,
            **overrides,
        }
    )
    app = build_intake_app(Intake(ledger, media_types=None), settings)
    server = uvicorn.Server(intake_server_config(app, settings))
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield int(server.servers[0].sockets[0].getsockname()[1])
    finally:
        server.should_exit = True
        await task


async def _closed_within(reader: asyncio.StreamReader, limit_s: float) -> bytes:
    """Everything the server sends until it closes; fails if it is still open after."""
    async with asyncio.timeout(limit_s):
        return await reader.read()


def test_the_defaults() -> None:
    settings = IntakeSettings()
    assert (settings.header_timeout_s, settings.body_timeout_s) == (10.0, 10.0)
    assert settings.max_connections == 256


async def test_a_client_dribbling_headers_is_cut_off_within_the_deadline(
    ledger: Ledger,
) -> None:
    async with intake_on(ledger) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        started = time.monotonic()

        async def dribble() -> None:
            writer.write(b"POST /events HTTP/1.1\r\nHost: x\r\n")
            for n in range(100):
                await asyncio.sleep(0.25)  # one header line at a time, never the end
                writer.write(f"X-Slow-{n}: y\r\n".encode())
                await writer.drain()

        dribbling = asyncio.create_task(dribble())
        try:
            await _closed_within(reader, DEADLINE_S + 1.5)
        finally:
            dribbling.cancel()
            await asyncio.gather(dribbling, return_exceptions=True)
            writer.close()
        assert time.monotonic() - started < DEADLINE_S + 1.5


async def test_an_idle_connection_is_cut_off_too(ledger: Ledger) -> None:
    async with intake_on(ledger) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            assert await _closed_within(reader, DEADLINE_S + 1.5) == b""
        finally:
            writer.close()


async def test_a_client_dribbling_its_body_is_answered_408_within_the_deadline(
    ledger: Ledger,
) -> None:
    async with intake_on(ledger) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"x-api-key: {API_KEY}\r\nContent-Length: 1000\r\n\r\n".encode()
        )
        started = time.monotonic()

        async def dribble() -> None:
            for _ in range(1000):
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(0.1)

        dribbling = asyncio.create_task(dribble())
        try:
            answer = await _closed_within(reader, DEADLINE_S + 1.5)
        finally:
            dribbling.cancel()
            await asyncio.gather(dribbling, return_exceptions=True)
            writer.close()
        assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
        assert time.monotonic() - started < DEADLINE_S + 1.5
        assert await ledger.list_rejected() == []


async def test_a_prompt_client_keeps_its_connection_for_a_second_request(
    ledger: Ledger,
) -> None:
    async with intake_on(ledger) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for _ in range(2):
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                await writer.drain()
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
                assert head.startswith(b"HTTP/1.1 200")
                assert await asyncio.wait_for(reader.readexactly(2), 2) == b"ok"
                await asyncio.sleep(DEADLINE_S / 2)
        finally:
            writer.close()


async def test_connections_beyond_the_cap_are_answered_503(ledger: Ledger) -> None:
    async with intake_on(ledger, max_connections=2, header_timeout_s=5.0) as port:
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(2)]
        await asyncio.sleep(0.1)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n"), 2)
            assert head.startswith(b"HTTP/1.1 503"), head
        finally:
            writer.close()
            for _, held_writer in held:
                held_writer.close()
