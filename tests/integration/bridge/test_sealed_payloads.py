"""Personal fields of pending payloads sealed at rest (``ledger.payload_key``), over real
sockets and both ledgers: the rows hold no address or name, the bridge still delivers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.testing import running_emulator
from media_bridge.app import Bridge
from media_bridge.ledger import ledger_from_url
from media_bridge.ledger.base import Ledger
from media_bridge.types import JobState
from tests.integration.bridge.harness import (
    bridge_settings,
    delivered_sidecars,
    run_bridge,
    write_events,
)

pytestmark = pytest.mark.integration

KEY = "a-random-secret-of-at-least-thirty-two-bytes!"


async def raw_payloads(url: str) -> str:
    """The payloads as stored, read without the key."""
    ledger = ledger_from_url(url)
    await ledger.open()
    try:
        return json.dumps([j.payload for j in await ledger.list_jobs(limit=10_000)])
    finally:
        await ledger.close()


async def test_pending_payloads_hold_no_address_and_still_deliver(
    tmp_path: Path, any_ledger: Ledger, any_ledger_url: str
) -> None:
    config = EmulatorConfig(
        scenario=ScenarioConfig(seed=16, messaging_conversations=2, voice_conversations=0)
    )
    with running_emulator(config) as emu:
        events = scenario_events(emu.state, "message")
        settings = bridge_settings(
            emu, tmp_path, ledger={"url": any_ledger_url, "payload_key": KEY}
        )
        async with Bridge(settings, worker_id="intake-only") as bridge:
            assert bridge.intake is not None
            result = await bridge.intake.accept(json.dumps(events).encode(), "test")
            assert result.jobs_added > 0
        stored = await raw_payloads(any_ledger_url)
        for conversation in emu.conversations():
            assert conversation.customer_address not in stored
            assert conversation.customer_name not in stored
        assert "sealed:v1" in stored

        counts, _ = await run_bridge(settings, write_events(tmp_path / "e.jsonl", events))
    assert counts[JobState.DEAD] == 0, counts
    sidecars = delivered_sidecars(tmp_path)
    assert sidecars
    addresses = {c.customer_address for c in emu.conversations()}
    assert {s["metadata"]["speaker"]["address"] for s in sidecars} <= addresses
