"""The run loop runs every intake runner alike: a source's pump and a server are started,
watched and stopped the same way; only a server's not being ``finite`` changes
``until_idle``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import pytest

from media_bridge.app import Bridge
from media_bridge.config import Settings
from media_bridge.errors import ConfigError
from media_bridge.intake.ingest import Intake, IntakeResult
from media_bridge.intake.runner import IntakeRunner, RunningBridge, SourcePump
from media_bridge.intake.sources.base import RawEvent
from media_bridge.ledger import SqliteLedger
from media_bridge.operations.port import Readiness
from media_bridge.runtime import run_pipeline
from media_bridge.types import JobState


class _Worker:
    """Runs no job; returns from ``run`` once stopped (as the real worker does)."""

    in_flight = 0

    def __init__(self) -> None:
        self._stopped = asyncio.Event()
        self.wake = lambda: None

    async def run(self) -> None:
        await self._stopped.wait()

    async def stop(self) -> None:
        self._stopped.set()


class _FakeBridge:
    def __init__(self, ledger: SqliteLedger) -> None:
        self.settings = Settings()
        self.ledger = ledger
        self.worker = _Worker()
        self.intake: Intake | None = Intake(ledger, media_types=None)
        self.intake_result = IntakeResult()


@pytest.fixture
async def bridge(tmp_path: Path) -> AsyncIterator[Bridge]:
    ledger = SqliteLedger(tmp_path / "l.db")
    await ledger.open()
    yield cast(Bridge, _FakeBridge(ledger))
    await ledger.close()


class _Runner:
    """Reads one event (counted like a pump's), then ends or, unless ``finite``, serves
    until cancelled; records the readiness it was given and whether it was stopped."""

    name = "test"

    def __init__(self, *, finite: bool, fails_with: Exception | None = None) -> None:
        self.finite = finite
        self.fails_with = fails_with
        self.readiness: Readiness | None = None
        self.cancelled = False

    async def run(self, bridge: RunningBridge, readiness: Readiness | None) -> IntakeResult:
        self.readiness = readiness
        if self.fails_with is not None:
            raise self.fails_with
        if not self.finite:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled = True
                raise
        return IntakeResult(events=1)


def _run(
    bridge: Bridge,
    runners: list[IntakeRunner],
    idle_timeout_s: float = 600.0,
    readiness: Readiness | None = None,
) -> asyncio.Task[dict[JobState, int]]:
    """``run_pipeline`` with ``until_idle``, as ``replay`` runs it."""
    return asyncio.create_task(
        run_pipeline(
            bridge,
            runners,
            until_idle=True,
            idle_timeout_s=idle_timeout_s,
            progress_every_s=0.01,
            readiness=readiness,
        )
    )


async def test_until_idle_returns_once_finite_runners_are_done(bridge: Bridge) -> None:
    await asyncio.wait_for(_run(bridge, [_Runner(finite=True)]), 5)
    assert bridge.intake_result.events == 1


async def test_a_server_runner_keeps_until_idle_from_ending_the_run(bridge: Bridge) -> None:
    """As ``run --source http --until-idle`` did before the seam: serve until a signal, not
    until ``idle_timeout_s``."""
    server = _Runner(finite=False)
    readiness = Readiness("intake", {})
    running = _run(bridge, [_Runner(finite=True), server], idle_timeout_s=0, readiness=readiness)
    await asyncio.sleep(0.2)
    assert not running.done()
    assert server.readiness is readiness
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert server.cancelled


async def test_a_failing_runner_stops_the_run(bridge: Bridge) -> None:
    with pytest.raises(RuntimeError, match="an event source failed") as failed:
        await asyncio.wait_for(_run(bridge, [_Runner(finite=False, fails_with=OSError("x"))]), 5)
    assert isinstance(failed.value.__cause__, OSError)
    refused = ConfigError("the operator's to fix")
    with pytest.raises(ConfigError) as as_is:
        await asyncio.wait_for(_run(bridge, [_Runner(finite=True, fails_with=refused)]), 5)
    assert as_is.value is refused


class _Source:
    name = "listed"

    def __init__(self) -> None:
        self.bound: object = None
        self.acked: list[RawEvent] = []
        self.closed = False

    def bind(self, bridge: object) -> None:
        self.bound = bridge

    async def batches(self) -> AsyncIterator[list[RawEvent]]:
        yield [RawEvent(b"not json", "listed:1")]

    async def ack(self, events: list[RawEvent]) -> None:
        self.acked.extend(events)

    async def close(self) -> None:
        self.closed = True


async def test_a_source_pump_binds_pumps_acks_and_closes(bridge: Bridge) -> None:
    source = _Source()
    pump = SourcePump(source)
    assert (pump.name, pump.finite) == ("listed", True)
    await asyncio.wait_for(_run(bridge, [pump]), 5)
    assert source.bound is bridge
    assert [e.origin for e in source.acked] == ["listed:1"]
    assert source.closed
    assert len(bridge.intake_result.rejected) == 1  # the pump's result reached the bridge
