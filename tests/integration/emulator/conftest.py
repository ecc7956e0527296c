"""Fixtures: a running emulator per test (starts in ~0.1 s) and an authenticated client."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.testing import EmulatorHandle, running_emulator


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


async def get_token(
    session: aiohttp.ClientSession,
    emu: EmulatorHandle,
    client_id: str | None = None,
    secret: str | None = None,
) -> str:
    async with session.post(
        f"{emu.login_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(client_id or emu.client_id, secret or emu.client_secret),
    ) as response:
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return str(body["access_token"])


def small_config(**changes: Any) -> EmulatorConfig:
    config = EmulatorConfig(
        scenario=ScenarioConfig(messaging_conversations=4, voice_conversations=1, call_seconds=6.0)
    )
    for key, value in changes.items():
        setattr(config, key, value)
    return config


@pytest.fixture
def emu() -> Iterator[EmulatorHandle]:
    with running_emulator(small_config()) as handle:
        yield handle


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def auth(session: aiohttp.ClientSession, emu: EmulatorHandle) -> dict[str, str]:
    return {"Authorization": f"Bearer {await get_token(session, emu)}"}
