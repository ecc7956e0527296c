"""The worker runs each job under its priority class (real SQLite ledger in memory)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from media_bridge.jobs import JobOutcome, priority
from media_bridge.jobs.priority import Priority
from media_bridge.ledger import ledger_from_url
from media_bridge.ledger.base import Ledger
from media_bridge.types import Job, JobKind, NewJob
from media_bridge.worker.loop import Worker
from tests.unit.handlers.fakes import unused_context

BACKFILL = {"event": {"topic": "backfill"}}


@pytest.fixture
async def ledger() -> AsyncIterator[Ledger]:
    opened = ledger_from_url("sqlite:///:memory:")
    await opened.open()
    yield opened
    await opened.close()


async def test_found_jobs_keep_their_parents_class(
    ledger: Ledger,
) -> None:
    seen: dict[str, int] = {}

    async def handler(job: Job, ctx: Any) -> JobOutcome:
        seen[job.key] = priority.current()  # what the job's requests carry to the pacer
        if job.kind is JobKind.CONVERSATION:
            # the payload says nothing of backfill: the parent's class still holds
            found = NewJob("text:c:m", JobKind.TEXT, {"event": {"topic": "api"}})
            return JobOutcome(new_jobs=[found])
        return JobOutcome()

    await ledger.add_jobs([NewJob("conversation:c", JobKind.CONVERSATION, BACKFILL)])
    handlers = {JobKind.CONVERSATION: handler, JobKind.TEXT: handler}
    await Worker(ledger, handlers, unused_context(), worker_id="w").run(until_idle=True)
    child = await ledger.get("text:c:m")
    assert child is not None
    assert seen == {"conversation:c": Priority.BACKFILL, "text:c:m": Priority.BACKFILL}
    assert child.priority == Priority.BACKFILL


async def test_a_found_job_is_claimed_before_the_parents_waiting_siblings(
    ledger: Ledger,
) -> None:
    order: list[str] = []

    async def handler(job: Job, ctx: Any) -> JobOutcome:
        order.append(job.key)
        if job.key == "conversation:a":
            return JobOutcome(new_jobs=[NewJob("text:a:m", JobKind.TEXT, BACKFILL)])
        return JobOutcome()

    await ledger.add_jobs(
        [NewJob(f"conversation:{c}", JobKind.CONVERSATION, BACKFILL) for c in "abc"]
    )
    handlers = {JobKind.CONVERSATION: handler, JobKind.TEXT: handler}
    await Worker(ledger, handlers, unused_context(), worker_id="w", concurrency=1).run(
        until_idle=True
    )
    assert order == ["conversation:a", "text:a:m", "conversation:b", "conversation:c"]


async def test_backfill_takes_at_most_its_share_of_the_slots(ledger: Ledger) -> None:
    running: set[str] = set()
    most = {"backfill": 0, "all": 0}
    release = asyncio.Event()

    async def handler(job: Job, ctx: Any) -> JobOutcome:
        running.add(job.key)
        backfill = sum(1 for k in running if k.startswith("text:old"))
        most["backfill"] = max(most["backfill"], backfill)
        most["all"] = max(most["all"], len(running))
        await release.wait()
        running.discard(job.key)
        return JobOutcome()

    await ledger.add_jobs([NewJob(f"text:old:{i}", JobKind.TEXT, BACKFILL) for i in range(20)])
    worker = Worker(
        ledger,
        {JobKind.TEXT: handler},
        unused_context(),
        worker_id="w",
        concurrency=10,
        live_reserve=0.3,
    )
    task = asyncio.create_task(worker.run(until_idle=True))
    await asyncio.sleep(0.1)
    assert len(running) == 7  # 3 of 10 slots kept for live work
    await ledger.add_jobs([NewJob(f"text:new:{i}", JobKind.TEXT, {}) for i in range(3)])
    worker.wake()
    await asyncio.sleep(0.1)
    assert len(running) == 10  # the live jobs took them at once
    release.set()
    await asyncio.wait_for(task, 5)
    assert most == {"backfill": 7, "all": 10}
