"""Under a tight budget, live work goes first and backfill still moves (issue 22).

A backfill of old messaging conversations is in the ledger when live message events
(one fresh voice note each) start to arrive, one every 150 ms. The emulator enforces its
rate limit on a scaled window (60 requests per 2 s, 1,800 per minute) and the bridge runs
with its default pacing (90 % of that budget; 30 % of the paced rate and of the 32 job slots
kept for live work). The live voice notes must each be delivered soon after their event, all of
them before most of the backfill, while the backfill keeps delivering.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import conversation_events
from genesys_emulator.testing import EmulatorHandle, running_emulator
from media_bridge import metrics
from media_bridge.app import Bridge
from media_bridge.intake.runner import SourcePump
from media_bridge.intake.sources.base import RawEvent
from media_bridge.jobs.backfill import (
    BackfillReport,
    FoundConversation,
    backfill_jobs,
    plan_missing,
)
from media_bridge.runtime import run_pipeline
from media_bridge.types import JobState
from tests.integration.bridge.harness import bridge_settings

pytestmark = pytest.mark.integration

LIMIT, WINDOW_S = 150, 5.0
BACKFILL, LIVE = 60, 10
LIVE_EVERY_S = 0.15


class Trickle:
    """Live conversations as a source: the events of one every ``every_s``, each
    conversation stamped with when its events came."""

    name = "trickle"

    def __init__(
        self, events: dict[str, list[dict[str, Any]]], every_s: float, after_s: float
    ) -> None:
        self._events = events
        self._every_s = every_s
        self._after_s = after_s
        self.sent_at: dict[str, float] = {}

    async def batches(self) -> AsyncIterator[list[RawEvent]]:
        await asyncio.sleep(self._after_s)
        for conversation_id, events in self._events.items():
            await asyncio.sleep(self._every_s)
            self.sent_at[conversation_id] = time.time()
            yield [RawEvent(json.dumps(e).encode(), f"trickle:{conversation_id}") for e in events]

    async def ack(self, events: list[RawEvent]) -> None:
        return None

    async def close(self) -> None:
        return None


def attachment_keys(emu: EmulatorHandle, conversation_ids: set[str]) -> set[str]:
    return {
        f"attachment:{c.id}:{m.id}:{a.id}"
        for c, m, a in emu.attachments()
        if c.id in conversation_ids and m.direction == "inbound"
    }


def rate_limited(emu: EmulatorHandle) -> int:
    return sum(row["count"] for row in emu.stats()["requests"] if row["status"] == 429)


async def _delivered_at(bridge: Bridge) -> dict[str, float]:
    done = await bridge.ledger.list_jobs(JobState.DONE, limit=10_000)
    return {job.key: job.updated_at.timestamp() for job in done}


async def test_live_items_go_first_while_backfill_keeps_moving(tmp_path: Path) -> None:
    config = EmulatorConfig(
        rate_limit_requests=LIMIT,
        rate_limit_window_s=WINDOW_S,
        scenario=ScenarioConfig(messaging_conversations=0, voice_conversations=0),
    )
    with running_emulator(config) as emu:
        old = [
            emu.add_messaging_conversation(kinds=("ogg_opus",), texts=0) for _ in range(BACKFILL)
        ]
        new = [emu.add_messaging_conversation(kinds=("ogg_opus",), texts=0) for _ in range(LIVE)]
        backfill_items = attachment_keys(emu, {c.id for c in old})
        live_items = attachment_keys(emu, {c.id for c in new})
        live_events = {c.id: conversation_events(emu.state, c, "message") for c in new}
        settings = bridge_settings(
            emu,
            tmp_path,
            # the defaults but for the budget, scaled to the emulator's window
            genesys={"pacing": "on", "budget_per_minute": LIMIT * 60 / WINDOW_S},
            audio={"enabled": False},
        )
        assert settings.genesys.live_reserve == 0.3  # the default
        found = [FoundConversation(c.id, "message", c.start.isoformat(), "end") for c in old]
        # the live events start once the backfill is under way (its connections opened)
        source = Trickle(live_events, LIVE_EVERY_S, after_s=1.0)
        async with Bridge(settings, worker_id="test") as bridge:
            planned = await plan_missing(
                bridge.ledger, backfill_jobs(found, messaging_recordings=False), BackfillReport()
            )
            assert len(planned) == BACKFILL
            running = asyncio.create_task(
                run_pipeline(bridge, [SourcePump(source)], progress_every_s=0.05)
            )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                delivered = await _delivered_at(bridge)
                if live_items <= set(delivered):
                    break
                await asyncio.sleep(0.05)
            delivered = await _delivered_at(bridge)
            limited = rate_limited(emu)
            assert bridge.genesys is not None
            gate = bridge.genesys.gate
            live_first, held = gate.live_first, gate.held_by_reserve
            # measured: let the rest of the backfill go at once, not wait out the drain
            emu.set_rate_limit(100_000, WINDOW_S)
            gate.set_rate(None)
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)

    assert live_items <= set(delivered), f"{len(live_items & set(delivered))} of {LIVE} live"
    live_done = sorted(delivered[k] for k in live_items)
    backfill_done = sorted(delivered[k] for k in backfill_items if k in delivered)
    # each live voice note soon after its event (its requests go first, and backfill holds
    # at most 22 of the 32 job slots)
    latency = [delivered[k] - source.sent_at[k.split(":")[1]] for k in live_items]
    by_last_live = sum(1 for t in backfill_done if t <= live_done[-1])
    while_live = sum(1 for t in backfill_done if min(source.sent_at.values()) <= t <= live_done[-1])
    print(
        f"live latency max {max(latency):.2f} s; backfill items delivered by the last live one "
        f"{by_last_live} of {len(backfill_items)}, while live events came {while_live}"
    )
    assert max(latency) < 1.5, sorted(latency)
    # all of them before most of the backfill ...
    assert by_last_live < len(backfill_items) / 2, (by_last_live, len(backfill_items))
    # ... which still moved while the live events came (not starved to zero)
    assert while_live >= 3, while_live
    assert limited == 0
    # the decisions are counted
    assert live_first > 0
    assert held > 0
    assert metrics.counter_value(metrics.JOBS_CLAIMED, priority="backfill") > 0
