"""``replay`` ends only when nothing runs and nothing is due soon, judged from one view."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest

from media_bridge.app import Bridge
from media_bridge.config import LedgerSettings, Settings
from media_bridge.ledger import SqliteLedger
from media_bridge.runtime import is_idle
from media_bridge.types import Job, JobKind, JobState, NewJob
from media_bridge.worker.loop import Worker


class _ClaimsWhileListing(SqliteLedger):
    """A worker claims every due job between the bridge's separate reads."""

    async def list_jobs(
        self, state: JobState | None = None, limit: int = 100, offset: int = 0
    ) -> list[Job]:
        await self.claim("other-task", 10, 30)
        return await super().list_jobs(state, limit, offset)


class _IdleWorker:
    in_flight = 0


@pytest.fixture
async def bridge(tmp_path: Path) -> AsyncIterator[Bridge]:
    settings = Settings(ledger=LedgerSettings(url=f"sqlite:///{tmp_path}/l.db"))
    made = Bridge(settings)
    ledger = _ClaimsWhileListing(tmp_path / "l.db")
    await ledger.open()
    made.ledger = ledger
    made.worker = cast(Worker, _IdleWorker())
    yield made
    await ledger.close()


async def test_a_job_claimed_between_reads_keeps_the_bridge_busy(bridge: Bridge) -> None:
    await bridge.ledger.add_jobs([NewJob("attachment:c:m:a", JobKind.ATTACHMENT, {})])
    # the old decision read counts, then listed pending and retry jobs: a claim in between
    # (the ledger above makes one on every listing) hid the job from both lists and replay
    # returned with it still running
    assert not await is_idle(bridge)
    assert (await bridge.ledger.list_jobs(JobState.RUNNING))[0].key == "attachment:c:m:a"
    assert not await is_idle(bridge)


async def test_watches_and_far_retries_do_not_keep_replay_running(bridge: Bridge) -> None:
    later = datetime.now(UTC) + timedelta(minutes=5)
    await bridge.ledger.add_jobs(
        [
            NewJob("conversation:c", JobKind.CONVERSATION, {}),
            NewJob("attachment:c:m:b", JobKind.ATTACHMENT, {}, not_before=later),
        ]
    )
    assert await is_idle(bridge)
    assert not await is_idle(bridge, horizon_s=600)


async def test_a_job_in_the_worker_keeps_the_bridge_busy(bridge: Bridge) -> None:
    busy = _IdleWorker()
    busy.in_flight = 1
    bridge.worker = cast(Worker, busy)
    assert not await is_idle(bridge)
