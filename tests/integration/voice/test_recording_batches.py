"""``RecordingBatches`` against the emulator's batch endpoints: chunks of 100, polls until
complete, and the fallbacks it settles without a batch (too few, refused)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from genesys_emulator.config import (
    EmulatorConfig,
    OAuthClientConfig,
    ScenarioConfig,
    default_clients,
)
from genesys_emulator.testing import EmulatorHandle, running_emulator
from media_bridge.genesys import GenesysClient
from media_bridge.genesys.settings import GenesysSettings
from media_bridge.worker.handlers.recording_batch import PENDING, BatchResult, RecordingBatches

pytestmark = pytest.mark.integration


def batch_requests(emu: EmulatorHandle) -> dict[str, int]:
    found = {"submit": 0, "poll": 0}
    for row in emu.stats()["requests"]:
        if row["path"] == "/api/v2/recording/batchrequests":
            found["submit"] += row["count"]
        elif row["path"].startswith("/api/v2/recording/batchrequests/"):
            found["poll"] += row["count"]
    return found


async def settle(
    emu: EmulatorHandle, pairs: list[tuple[str, str]], min_count: int = 2, **genesys: Any
) -> tuple[dict[tuple[str, str], BatchResult], dict[str, int]]:
    settings = GenesysSettings(**{**emu.genesys_settings(), **genesys})
    async with GenesysClient(settings) as client:
        batches = RecordingBatches(
            client,
            linger_s=0.05,
            min_count=min_count,
            poll_initial_s=0.1,
            poll_max_s=0.4,
            max_wait_s=30.0,
        )
        for pair in pairs:
            assert batches.take(*pair) is None
            batches.ask(*pair)
            assert batches.take(*pair) == PENDING
        results: dict[tuple[str, str], BatchResult] = {}
        for _ in range(200):
            await asyncio.sleep(0.05)
            for pair in pairs:
                found = batches.take(*pair)
                if isinstance(found, BatchResult):
                    results[pair] = found
            if len(results) == len(pairs):
                break
        await batches.close()
        return results, dict(batches.counts)


def test_more_than_100_recordings_go_in_two_requests_polled_until_complete() -> None:
    config = EmulatorConfig(
        batch_delay_s=0.35,
        scenario=ScenarioConfig(messaging_conversations=0, voice_conversations=120),
    )
    with running_emulator(config) as emu:
        pairs = [(c.id, c.recordings[0].id) for c in emu.conversations()]
        results, counts = asyncio.run(settle(emu, pairs))
        requests = batch_requests(emu)
    assert len(results) == 120
    assert all(r.url and r.fallback is None for r in results.values())
    assert requests["submit"] == 2
    assert counts["submits"] == 2
    # 0.1 s, then 0.2 s more: InProgress then Completed, per job
    assert requests["poll"] == counts["polls"] >= 4


def test_too_few_recordings_are_not_batched() -> None:
    config = EmulatorConfig(
        scenario=ScenarioConfig(messaging_conversations=0, voice_conversations=1)
    )
    with running_emulator(config) as emu:
        pairs = [(c.id, c.recordings[0].id) for c in emu.conversations()]
        results, counts = asyncio.run(settle(emu, pairs, min_count=2))
        requests = batch_requests(emu)
    assert [r.fallback for r in results.values()] == ["below_min"]
    assert requests == {"submit": 0, "poll": 0}
    assert counts == {}


def test_a_refused_batch_settles_every_recording_as_failed() -> None:
    """Without ``recording:recording:view`` the submit is refused: the jobs read on their own."""
    no_view = OAuthClientConfig("no-recordings", "s3cret", frozenset({"conversation:message:view"}))
    config = EmulatorConfig(
        clients=[*default_clients(), no_view],
        scenario=ScenarioConfig(messaging_conversations=0, voice_conversations=3),
    )
    with running_emulator(config) as emu:
        pairs = [(c.id, c.recordings[0].id) for c in emu.conversations()]
        results, _ = asyncio.run(
            settle(emu, pairs, client_id="no-recordings", client_secret="s3cret")
        )
    assert {r.fallback for r in results.values()} == {"failed"}
    assert {r.detail for r in results.values()} == {"permission_missing"}
