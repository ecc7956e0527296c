"""A detail event for an ongoing conversation: the bridge keeps reading it until it ends."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from genesys_emulator.config import EmulatorConfig, ScenarioConfig
from genesys_emulator.events import scenario_events
from genesys_emulator.state import Message
from genesys_emulator.testing import running_emulator
from media_bridge.app import Bridge
from media_bridge.intake.runner import SourcePump
from media_bridge.intake.sources.file import FileSource
from media_bridge.runtime import run_pipeline
from media_bridge.types import JobState
from tests.integration.bridge.harness import bridge_settings, nlp_records, write_events

pytestmark = pytest.mark.integration


async def _until(condition: object, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_an_ongoing_conversation_is_watched_until_it_ends(tmp_path: Path) -> None:
    config = EmulatorConfig(
        scenario=ScenarioConfig(seed=9, messaging_conversations=1, voice_conversations=0)
    )
    with running_emulator(config) as emu:
        (conversation,) = emu.conversations()
        ended_at = conversation.end
        conversation.end = None  # still going on
        start_events = [
            e
            for e in scenario_events(emu.state, "detail")
            if e["detail-type"].endswith("customer.start")
        ]
        events = write_events(tmp_path / "events.jsonl", start_events)
        settings = bridge_settings(emu, tmp_path, worker={"conversation_poll_s": 0.2})
        key = f"conversation:{conversation.id}"
        texts_before = sum(1 for m in conversation.messages if m.direction == "inbound" and m.text)

        async with Bridge(settings, worker_id="watch") as bridge:
            running = asyncio.create_task(
                run_pipeline(bridge, [SourcePump(FileSource(events))], progress_every_s=0.05)
            )
            await _until(lambda: len(nlp_records(tmp_path)) == texts_before)

            later = Message(
                id=uuid.uuid4().hex,
                participant_id=conversation.customer_participant_id,
                direction="inbound",
                timestamp=datetime.now(UTC),
                text="one more thing: my card expired",
            )
            conversation.messages.append(later)
            await _until(lambda: any(r["message_id"] == later.id for r in nlp_records(tmp_path)))

            watched = await bridge.ledger.get(key)
            assert watched is not None
            assert watched.state in {JobState.PENDING, JobState.RUNNING}  # still watching

            conversation.end = ended_at or datetime.now(UTC)

            async def done() -> bool:
                job = await bridge.ledger.get(key)
                return job is not None and job.state is JobState.DONE

            deadline = time.monotonic() + 20
            while not await done():
                assert time.monotonic() < deadline, "the watch did not stop at the end"
                await asyncio.sleep(0.05)
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)

    delivered = [r["message_id"] for r in nlp_records(tmp_path)]
    assert len(delivered) == len(set(delivered)) == texts_before + 1
