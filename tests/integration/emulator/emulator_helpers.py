"""Helpers shared by the emulator's integration tests (unique module name on purpose)."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.testing import EmulatorHandle


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
