"""Pacing is on by default, at a share of the per-token budget; off, or explicit, on request."""

from __future__ import annotations

import pytest

from media_bridge.genesys.pacing import PacingGate
from media_bridge.genesys.settings import GenesysSettings


def test_pacing_is_on_at_ninety_percent_of_the_budget() -> None:
    assert GenesysSettings().paced_per_minute == pytest.approx(270.0)
    assert GenesysSettings(pacing_share=0.5).paced_per_minute == pytest.approx(150.0)
    assert GenesysSettings(budget_per_minute=600).paced_per_minute == pytest.approx(540.0)


def test_pacing_off_and_an_explicit_rate() -> None:
    assert GenesysSettings(pacing="off").paced_per_minute is None
    assert GenesysSettings(rate_limit_per_minute=100).paced_per_minute == 100
    assert GenesysSettings(pacing="off", rate_limit_per_minute=100).paced_per_minute == 100


async def test_the_gate_counts_what_it_paced_and_takes_a_new_rate() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    gate = PacingGate(per_minute=60, burst=1, clock=lambda: now[0], sleep=sleep)
    await gate.wait()  # the burst
    await gate.wait()  # one a second
    assert gate.paced == 1
    assert gate.waited_s == pytest.approx(1.0)
    gate.set_rate(120)
    assert gate.per_minute == pytest.approx(120)


async def test_doctor_names_the_pace_and_the_share_kept_for_live_work() -> None:
    from media_bridge.cli.doctor import _budget_line

    class Client:
        async def get_api_limit_per_minute(self) -> float:
            return 300.0

    line = await _budget_line(Client(), GenesysSettings())
    assert line == (
        "paced at 270 requests per minute per process (each process has its own token and "
        "budget), 30% of it kept for live work; the org's limit: 300 per minute per token"
    )
