"""Under the bucket, live requests go first and a share of the budget is kept for them."""

from __future__ import annotations

import asyncio
import time

import pytest

from media_bridge.genesys.pacing import PacingGate
from media_bridge.jobs.priority import Priority, running_as


async def _granted(gate: PacingGate, name: str, order: list[str], level: int) -> None:
    with running_as(level):  # the class comes from the job running in the task
        await gate.wait()
    order.append(name)


async def test_live_requests_overtake_waiting_backfill_ones() -> None:
    gate = PacingGate(per_minute=40 * 60, burst=1)  # one request per 25 ms
    order: list[str] = []
    backfill = [
        asyncio.create_task(_granted(gate, f"b{i}", order, Priority.BACKFILL)) for i in range(8)
    ]
    await asyncio.sleep(0.06)  # a few backfill requests went; the rest wait
    sent_before = len(order)
    live = [asyncio.create_task(_granted(gate, f"l{i}", order, Priority.LIVE)) for i in range(4)]
    deferred = asyncio.create_task(_granted(gate, "d", order, Priority.DEFERRED))
    await asyncio.gather(*backfill, *live, deferred)
    after = order[sent_before:]
    # every live request went before any backfill request still waiting, and the deferred
    # transcript fetch before them too
    assert [n for n in after if not n.startswith("b")] == ["l0", "l1", "l2", "l3", "d"]
    assert (
        after.index("l3")
        < after.index("d")
        < min(after.index(n) for n in after if n.startswith("b"))
    )
    assert gate.live_first >= 4
    assert gate.paced_by_class[Priority.LIVE] >= 3
    assert gate.paced_by_class[Priority.BACKFILL] >= 1


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize(("level", "per_second"), [(Priority.BACKFILL, 50), (Priority.LIVE, 100)])
async def test_backfill_alone_uses_at_most_its_share_and_live_the_whole_budget(
    level: int, per_second: float
) -> None:
    t = FakeTime()
    gate = PacingGate(per_minute=100 * 60, burst=4, live_reserve=0.5, clock=t.clock, sleep=t.sleep)
    for _ in range(2):  # backfill's share of the burst (live has all 4)
        await gate.wait(level)
    start = t.now
    for _ in range(40):
        await gate.wait(level)
    assert t.now - start == pytest.approx(40 / per_second, abs=0.05)
    assert (gate.held_by_reserve > 0) == (level == Priority.BACKFILL)


async def test_a_cancelled_waiter_does_not_hold_up_the_others() -> None:
    gate = PacingGate(per_minute=20 * 60, burst=1)
    await gate.wait()  # the burst
    first = asyncio.create_task(gate.wait(Priority.LIVE))
    second = asyncio.create_task(gate.wait(Priority.BACKFILL))
    await asyncio.sleep(0.005)
    first.cancel()
    started = time.monotonic()
    await asyncio.wait_for(second, 1.0)
    assert time.monotonic() - started < 0.2
    assert gate._queue == []


def test_the_reserve_must_leave_backfill_something() -> None:
    with pytest.raises(ValueError, match="live_reserve"):
        PacingGate(per_minute=60, live_reserve=1.0)
