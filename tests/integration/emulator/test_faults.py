"""Each fault mode observed over a real socket, and changed at runtime via the admin API."""

from __future__ import annotations

import time

import aiohttp
import pytest

from genesys_emulator.testing import EmulatorHandle

pytestmark = pytest.mark.integration


def _message_url(emu: EmulatorHandle) -> str:
    conversation, message, _ = emu.attachments()[0]
    return f"{emu.api_url}/api/v2/conversations/messages/{conversation.id}/messages/{message.id}"


async def test_latency_is_added(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    emu.set_faults(latency_ms=300.0)
    started = time.monotonic()
    async with session.get(_message_url(emu), headers=auth) as response:
        assert response.status == 200
    assert time.monotonic() - started >= 0.3


async def test_error_rate_answers_5xx_error_body(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    async with session.put(
        f"{emu.api_url}/__emulator__/faults", json={"errorRate": 1.0, "seed": 3}
    ) as response:
        assert (await response.json())["errorRate"] == 1.0
    async with session.get(_message_url(emu), headers=auth) as response:
        assert response.status in (500, 503)
        body = await response.json()
    assert body["status"] == response.status
    emu.clear_faults()
    async with session.get(_message_url(emu), headers=auth) as response:
        assert response.status == 200


async def test_dropped_connection_gives_no_response(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    emu.set_faults(drop_rate=1.0)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        async with session.get(_message_url(emu), headers=auth) as response:
            await response.read()
    assert emu.stats()["faults"]["drop"] >= 1  # aiohttp retries an idempotent GET once


async def test_truncated_body_is_detected_by_the_client(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    emu.set_faults(truncate_rate=1.0, hosts=frozenset({"storage"}))
    async with session.get(_message_url(emu), headers=auth) as response:
        attachment = (await response.json())["normalizedMessage"]["content"][0]["attachment"]
    async with session.get(attachment["url"], headers=auth) as response:
        assert response.status == 200
        assert int(response.headers["Content-Length"]) == attachment["contentSizeBytes"]
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()


async def test_faults_are_deterministic_by_seed(
    emu: EmulatorHandle, session: aiohttp.ClientSession, auth: dict[str, str]
) -> None:
    async def run() -> list[int]:
        emu.set_faults(error_rate=0.5, seed=42)
        statuses = []
        for _ in range(12):
            async with session.get(_message_url(emu), headers=auth) as response:
                statuses.append(response.status)
        return statuses

    first, second = await run(), await run()
    assert first == second
    assert 200 in first
    assert any(s >= 500 for s in first)
