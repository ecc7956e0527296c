"""Intake runners: each way events come in, as the run loop starts and stops it.

``runtime.run_pipeline`` runs a list of them beside the worker, all alike: a source's
pump (``SourcePump``: file, stdin, SQS, Kafka, notifications) and the HTTP intake's server
(``intake.http_app.HttpIntakeServer``). A runner that fails stops the process (a
supervisor restarts it; unacknowledged events come again); cancelling the loop stops them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from media_bridge.intake.ingest import Intake, IntakeResult, pump
from media_bridge.intake.sources.base import Source

if TYPE_CHECKING:
    from media_bridge.operations.port import Readiness


class RunningBridge(Protocol):
    """The running ``Bridge`` as a runner sees it (a source that calls the API itself binds
    to the whole bridge)."""

    @property
    def intake(self) -> Intake | None: ...


class IntakeRunner(Protocol):
    """Takes events in until it runs out or is cancelled."""

    name: str
    #: it ends by itself (a file read to its end); a server ends only when stopped, so
    #: ``until_idle`` cannot wait for it and does not apply
    finite: bool

    async def run(self, bridge: RunningBridge, readiness: Readiness | None) -> IntakeResult:
        """Take events into ``bridge.intake``; ``readiness``: the process's, for a runner
        that answers ``/readyz`` itself. Returns what was read (the replay summary's)."""
        ...


class SourcePump(IntakeRunner):
    """A ``Source`` as a runner: bound to the bridge first if it calls the API itself
    (notifications), pumped batch by batch (each acknowledged once recorded), closed
    whatever happens."""

    finite = True

    def __init__(self, source: Source) -> None:
        self.source = source
        self.name = source.name

    async def run(self, bridge: RunningBridge, readiness: Readiness | None) -> IntakeResult:
        assert bridge.intake is not None
        bind = getattr(self.source, "bind", None)
        if bind is not None:
            bind(bridge)
        try:
            return await pump(self.source, bridge.intake)
        finally:
            await self.source.close()
