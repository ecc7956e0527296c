import pytest

from media_bridge.genesys.pacing import PacingGate
from media_bridge.retry import full_jitter_backoff


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_pause_holds_every_caller_until_the_instant() -> None:
    t = FakeTime()
    gate = PacingGate(clock=t.clock, sleep=t.sleep)
    await gate.wait()
    assert t.slept == []
    gate.pause(3.0)
    gate.pause(1.0)  # never shortens a longer pause
    assert gate.paused_for == pytest.approx(3.0)
    await gate.wait()
    assert sum(t.slept) == pytest.approx(3.0)
    assert gate.pauses == 1


async def test_token_bucket_paces_after_the_burst() -> None:
    t = FakeTime()
    gate = PacingGate(per_minute=300, burst=5, clock=t.clock, sleep=t.sleep)
    for _ in range(5):
        await gate.wait()
    assert t.slept == []
    start = t.now
    for _ in range(10):
        await gate.wait()
    # 10 more at 5/s take 2 s
    assert t.now - start == pytest.approx(2.0)


def test_full_jitter_is_bounded() -> None:
    assert full_jitter_backoff(0, base=0.2, cap=30, rng=lambda: 1.0) == pytest.approx(0.2)
    assert full_jitter_backoff(3, base=0.2, cap=30, rng=lambda: 1.0) == pytest.approx(1.6)
    assert full_jitter_backoff(50, base=0.2, cap=30, rng=lambda: 1.0) == pytest.approx(30)
    assert full_jitter_backoff(5, base=0.2, cap=30, rng=lambda: 0.0) == 0.0
