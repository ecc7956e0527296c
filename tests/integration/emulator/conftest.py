"""Fixtures: a running emulator per test (starts in ~0.1 s) and an authenticated client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from genesys_emulator.testing import EmulatorHandle, running_emulator
from tests.integration.emulator.emulator_helpers import get_token, small_config


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
